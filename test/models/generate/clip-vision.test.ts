import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { buildVisionGraph } from '../../../models/generate/clip-vision.ts';
import { OnnxGraph } from '../../../models/generate/onnx-graph.ts';
import { randomVisionWeights } from '../../../models/generate/random-weights.ts';
import { TransformerOps } from '../../../models/generate/transformer-ops.ts';
import { tensorFromNested, WeightReader, weightsFromNested, type WeightTensor } from '../../../models/generate/weights.ts';
import { requireFixtures } from '../../support/fixtures.ts';
import { clipReferenceData, maxAbsDiff, nhwcToNchw, referenceVisionConfig } from './reference-data.ts';

/** float32 through a handful of LayerNorms and softmaxes; what we measure is about 1e-7. */
const TOLERANCE = 1e-4;

type Level = 'disabled' | 'all';
const session = (bytes: Uint8Array, level: Level = 'all') => ort.InferenceSession.create(bytes, { graphOptimizationLevel: level });

describe('generate: CLIP vision tower against OpenAI reference outputs', function () {
  requireFixtures(this);

  // Unoptimised proves the graph as written; 'all' proves it survives onnxruntime's fusions, as the encoders load it.
  for (const level of ['disabled', 'all'] as const) {
    it(`gives VisionTransformer's output for its own state dict (optimisation ${level})`, async () => {
      const d = clipReferenceData();
      const cfg = referenceVisionConfig(d);
      const s = await session(buildVisionGraph(cfg, weightsFromNested(d.vit_weights)).serialize(), level);
      const input = tensorFromNested(d.vit_input);
      const pixels = nhwcToNchw(input.data, input.dims);
      const out = await s.run({ pixel_values: new ort.Tensor('float32', pixels.data, pixels.dims) });
      const embeds = out.image_embeds!;
      assert.deepEqual(embeds.dims, [1, cfg.outputDim]);
      const diff = maxAbsDiff(embeds.data as Float32Array, tensorFromNested(d.vit_output).data);
      assert.ok(diff < TOLERANCE, `max abs diff ${diff}`);
    });
  }

  it('gives ResidualAttentionBlock\'s output for one block', async () => {
    const d = clipReferenceData();
    const { d_model: width, n_head: heads } = d.attn_config;
    const g = new OnnxGraph('one_block');
    const reader = new WeightReader(weightsFromNested(d.attn_weights), 'block');
    const x = g.input('x', 'float32', ['batch', 'sequence', width]);
    g.output(new TransformerOps(g, reader).residualBlock(x, '', { width, heads }), 'y', 'float32', ['batch', 'sequence', width]);
    reader.assertAllUsed();
    const input = tensorFromNested(d.attn_input);
    const out = await (await session(g.serialize())).run({ x: new ort.Tensor('float32', input.data, input.dims) });
    const diff = maxAbsDiff(out.y!.data as Float32Array, tensorFromNested(d.attn_output).data);
    assert.ok(diff < TOLERANCE, `max abs diff ${diff}`);
  });
});

describe('generate: CLIP vision tower', () => {
  const cfg = { imageSize: 32, patchSize: 8, width: 16, layers: 1, heads: 2, outputDim: 8 };

  it('takes any batch size and embeds each image as it would alone', async () => {
    const s = await session(buildVisionGraph(cfg, randomVisionWeights(cfg, 3)).serialize());
    const one = 3 * 32 * 32;
    const pixels = Float32Array.from({ length: 3 * one }, (_, i) => Math.sin(i * 0.37));
    const batch = (await s.run({ pixel_values: new ort.Tensor('float32', pixels, [3, 3, 32, 32]) })).image_embeds!;
    assert.deepEqual(batch.dims, [3, 8]);
    for (let b = 0; b < 3; b++) {
      const alone = (await s.run({ pixel_values: new ort.Tensor('float32', pixels.slice(b * one, (b + 1) * one), [1, 3, 32, 32]) })).image_embeds!;
      assert.ok(maxAbsDiff(alone.data as Float32Array, (batch.data as Float32Array).slice(b * 8, (b + 1) * 8)) < 1e-5);
    }
  });

  it('refuses a state dict with a missing, misshapen or unknown weight', () => {
    const good = randomVisionWeights(cfg, 1);
    const without = new Map(good);
    without.delete('ln_post.bias');
    assert.throws(() => buildVisionGraph(cfg, without), /ln_post\.bias is missing/);
    const misshapen = new Map(good);
    misshapen.set('proj', { dims: [8, 16], data: new Float32Array(128) });
    assert.throws(() => buildVisionGraph(cfg, misshapen), /proj has shape \[8, 16\], expected \[16, 8\]/);
    const extra = new Map<string, WeightTensor>(good);
    extra.set('logit_scale', { dims: [], data: new Float32Array(1) });
    assert.throws(() => buildVisionGraph(cfg, extra), /unexpected weights logit_scale/);
  });
});
