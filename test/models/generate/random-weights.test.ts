import assert from 'node:assert/strict';
import { buildTextGraph } from '../../../models/generate/clip-text.ts';
import { buildVisionGraph } from '../../../models/generate/clip-vision.ts';
import { Prng, randomTextWeights, randomVisionWeights } from '../../../models/generate/random-weights.ts';

const vision = { imageSize: 32, patchSize: 8, width: 16, layers: 2, heads: 2, outputDim: 8 };
const text = { contextLength: 77, vocabSize: 500, width: 16, layers: 2, heads: 2, outputDim: 8 };

describe('generate: random weights', () => {
  it('gives byte-identical ONNX files for the same seed', () => {
    const a = buildVisionGraph(vision, randomVisionWeights(vision, 7)).serialize();
    const b = buildVisionGraph(vision, randomVisionWeights(vision, 7)).serialize();
    assert.ok(a.equals(b));
    const t1 = buildTextGraph(text, randomTextWeights(text, 7)).serialize();
    const t2 = buildTextGraph(text, randomTextWeights(text, 7)).serialize();
    assert.ok(t1.equals(t2));
  });

  it('gives different weights for a different seed', () => {
    const a = randomVisionWeights(vision, 7);
    const b = randomVisionWeights(vision, 8);
    for (const name of ['conv1.weight', 'class_embedding', 'positional_embedding', 'proj', 'transformer.resblocks.1.attn.in_proj_weight']) {
      assert.ok(!Buffer.from(a.get(name)!.data.buffer).equals(Buffer.from(b.get(name)!.data.buffer)), name);
    }
    assert.ok(!buildVisionGraph(vision, a).serialize().equals(buildVisionGraph(vision, b).serialize()));
  });

  it('keeps the towers\' same-named tensors apart', () => {
    const shared = { ...text, width: vision.width };
    const v = randomVisionWeights(vision, 7).get('transformer.resblocks.0.attn.in_proj_weight')!;
    const t = randomTextWeights(shared, 7).get('transformer.resblocks.0.attn.in_proj_weight')!;
    assert.deepEqual(v.dims, t.dims);
    assert.ok(!Buffer.from(v.data.buffer).equals(Buffer.from(t.data.buffer)));
  });

  it('draws with CLIP\'s scales', () => {
    const w = randomTextWeights({ ...text, vocabSize: 49408, width: 64 }, 1);
    const std = (data: Float32Array) => Math.sqrt(data.reduce((s, v) => s + v * v, 0) / data.length);
    assert.ok(Math.abs(std(w.get('token_embedding.weight')!.data) - 0.02) < 0.001);
    assert.ok(Math.abs(std(w.get('positional_embedding')!.data) - 0.01) < 0.002);
    assert.ok(Math.abs(std(w.get('transformer.resblocks.0.attn.in_proj_weight')!.data) - 64 ** -0.5) < 0.005);
    assert.ok(w.get('ln_final.weight')!.data.every((v) => v === 1));
    assert.ok(w.get('transformer.resblocks.0.attn.in_proj_bias')!.data.every((v) => v === 0));
  });

  it('draws standard normals', () => {
    const rng = new Prng(123, 'stats');
    const n = 200_000;
    let sum = 0;
    let squares = 0;
    for (let i = 0; i < n; i++) {
      const v = rng.normal();
      sum += v;
      squares += v * v;
    }
    assert.ok(Math.abs(sum / n) < 0.01);
    assert.ok(Math.abs(squares / n - 1) < 0.02);
  });
});
