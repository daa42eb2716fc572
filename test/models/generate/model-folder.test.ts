import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import * as ort from 'onnxruntime-node';
import { CLIP_SIZES } from '../../../models/generate/architecture.ts';
import { generateClipModel, type GeneratedClipModel } from '../../../models/generate/model-folder.ts';
import { fixture, fixturesPresent } from '../../support/fixtures.ts';
import { maxAbsDiff } from './reference-data.ts';

const tiny = CLIP_SIZES.tiny;
const S = tiny.vision.imageSize;
const DIM = tiny.embedDim;

type Json = Record<string, any>;
const readJson = (file: string): Json => JSON.parse(readFileSync(file, 'utf8')) as Json;

function metadata(s: ort.InferenceSession, which: 'input' | 'output'): Array<[string, string, ReadonlyArray<number | string>]> {
  const list = which === 'input' ? s.inputMetadata : s.outputMetadata;
  return list.map((m) => (m.isTensor ? [m.name, m.type, m.shape] : [m.name, 'non-tensor', []]));
}

const load = (file: string) => ort.InferenceSession.create(file, { graphOptimizationLevel: 'all' });
const image = (batch: number) => Float32Array.from({ length: batch * 3 * S * S }, (_, i) => Math.cos(i * 0.013));
const ids = [49406, 320, 1125, 539, 320, 2368, 49407];

describe('generate: model folders', () => {
  let root: string;
  let hf: GeneratedClipModel;
  let openclip: GeneratedClipModel;

  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'reprise-generate-'));
    const bpe = fixturesPresent ? { bpeVocabPath: fixture('clip', 'bpe_simple_vocab_16e6.txt') } : {};
    hf = await generateClipModel({ dir: path.join(root, 'hf'), layout: 'huggingface', size: 'tiny', seed: 5, fp16: true, ...bpe });
    openclip = await generateClipModel({ dir: path.join(root, 'openclip'), layout: 'openclip', size: 'tiny', seed: 5, ...bpe });
  });

  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  describe('huggingface layout', () => {
    it('has the files where Xenova/clip-vit-base-patch32 has them', () => {
      for (const rel of ['onnx/vision_model.onnx', 'onnx/text_model.onnx', 'onnx/vision_model_fp16.onnx', 'onnx/text_model_fp16.onnx', 'config.json', 'preprocessor_config.json']) {
        assert.ok(existsSync(path.join(hf.dir, rel)), rel);
      }
      assert.equal(hf.files.vision, path.join(hf.dir, 'onnx/vision_model.onnx'));
    });

    it('has a vision tower taking pixel_values and giving image_embeds', async () => {
      const s = await load(hf.files.vision);
      assert.deepEqual(metadata(s, 'input'), [['pixel_values', 'float32', ['batch', 3, S, S]]]);
      assert.deepEqual(metadata(s, 'output'), [['image_embeds', 'float32', ['batch', DIM]]]);
      const out = await s.run({ pixel_values: new ort.Tensor('float32', image(2), [2, 3, S, S]) });
      assert.deepEqual(out.image_embeds!.dims, [2, readJson(hf.files.config).projection_dim]);
    });

    it('has a text tower taking input_ids and attention_mask of any length and giving text_embeds', async () => {
      const s = await load(hf.files.text);
      assert.deepEqual(metadata(s, 'input'), [
        ['input_ids', 'int64', ['batch', 'sequence']],
        ['attention_mask', 'int64', ['batch', 'sequence']],
      ]);
      assert.deepEqual(metadata(s, 'output'), [['text_embeds', 'float32', ['batch', DIM]]]);
      const out = await s.run({
        input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]),
        attention_mask: new ort.Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]),
      });
      assert.deepEqual(out.text_embeds!.dims, [1, DIM]);
    });

    it('has fp16 variants with float32 inputs and outputs, close to the fp32 towers', async () => {
      const [v32, v16] = await Promise.all([load(hf.files.vision), load(hf.files.visionFp16!)]);
      assert.deepEqual(metadata(v16, 'input'), metadata(v32, 'input'));
      assert.deepEqual(metadata(v16, 'output'), metadata(v32, 'output'));
      const feed = { pixel_values: new ort.Tensor('float32', image(1), [1, 3, S, S]) };
      const a = (await v32.run(feed)).image_embeds!.data as Float32Array;
      const b = (await v16.run(feed)).image_embeds!.data as Float32Array;
      // fp16 weights keep about 3 significant digits; the embedding moves by a few thousandths.
      assert.ok(maxAbsDiff(a, b) < 0.02, `max abs diff ${maxAbsDiff(a, b)}`);
      assert.ok(maxAbsDiff(a, b) > 0, 'the fp16 file should hold rounded weights');
      const t16 = await load(hf.files.textFp16!);
      assert.deepEqual(metadata(t16, 'input').map((m) => m[0]), ['input_ids', 'attention_mask']);
    });

    it('has config.json and preprocessor_config.json shaped like transformers writes them', () => {
      const config = readJson(hf.files.config);
      assert.equal(config.model_type, 'clip');
      assert.equal(config.projection_dim, DIM);
      assert.equal(config.text_config.max_position_embeddings, 77);
      assert.equal(config.text_config.hidden_size, tiny.text.width);
      assert.equal(config.text_config.vocab_size, 49408);
      assert.equal(config.vision_config.image_size, S);
      assert.equal(config.vision_config.patch_size, tiny.vision.patchSize);
      assert.equal(config.vision_config.hidden_size, tiny.vision.width);
      const pre = readJson(hf.files.preprocessConfig);
      assert.deepEqual(pre.size, { shortest_edge: S });
      assert.deepEqual(pre.crop_size, { height: S, width: S });
      assert.equal(pre.do_center_crop, true);
      assert.equal(pre.resample, 3);
      assert.deepEqual(pre.image_mean, [0.48145466, 0.4578275, 0.40821073]);
      assert.deepEqual(pre.image_std, [0.26862954, 0.26130258, 0.27577711]);
    });

    it('has a tokenizer whose ids run through the text tower', async function () {
      if (!fixturesPresent) this.skip();
      const tokenizer = new Tokenizer(readJson(hf.files.tokenizer!), readJson(hf.files.tokenizerConfig!));
      const encoded: number[] = tokenizer.encode('a photo of a cat').ids;
      assert.equal(encoded[0], 49406);
      assert.equal(encoded.at(-1), 49407);
      assert.equal(readJson(hf.files.tokenizerConfig!).model_max_length, 77);
      const s = await load(hf.files.text);
      const out = await s.run({
        input_ids: new ort.Tensor('int64', BigInt64Array.from(encoded, BigInt), [1, encoded.length]),
        attention_mask: new ort.Tensor('int64', new BigInt64Array(encoded.length).fill(1n), [1, encoded.length]),
      });
      assert.ok((out.text_embeds!.data as Float32Array).every(Number.isFinite));
    });
  });

  describe('openclip layout', () => {
    it('has the files where Immich\'s exports have them', () => {
      for (const rel of ['visual/model.onnx', 'visual/preprocess_cfg.json', 'textual/model.onnx', 'config.json']) {
        assert.ok(existsSync(path.join(openclip.dir, rel)), rel);
      }
      if (fixturesPresent) {
        assert.ok(existsSync(path.join(openclip.dir, 'textual/tokenizer.json')));
        assert.ok(existsSync(path.join(openclip.dir, 'textual/tokenizer_config.json')));
      }
      assert.ok(!existsSync(path.join(openclip.dir, 'onnx')));
    });

    it('has a vision tower taking image and giving embedding', async () => {
      const s = await load(openclip.files.vision);
      assert.deepEqual(metadata(s, 'input'), [['image', 'float32', ['batch', 3, S, S]]]);
      assert.deepEqual(metadata(s, 'output'), [['embedding', 'float32', ['batch', DIM]]]);
      const out = await s.run({ image: new ort.Tensor('float32', image(1), [1, 3, S, S]) });
      assert.deepEqual(out.embedding!.dims, [1, readJson(openclip.files.config).embed_dim]);
    });

    it('has a text tower taking int32 text [batch, 77] and giving embedding', async () => {
      const s = await load(openclip.files.text);
      assert.deepEqual(metadata(s, 'input'), [['text', 'int32', ['batch', 77]]]);
      assert.deepEqual(metadata(s, 'output'), [['embedding', 'float32', ['batch', DIM]]]);
      const row = [...ids, ...Array<number>(77 - ids.length).fill(0)];
      const out = await s.run({ text: new ort.Tensor('int32', Int32Array.from(row), [1, 77]) });
      assert.deepEqual(out.embedding!.dims, [1, DIM]);
    });

    it('holds the same weights as the huggingface layout for the same seed', async () => {
      const pixels = image(1);
      const [a, b] = await Promise.all([load(openclip.files.vision), load(hf.files.vision)]);
      const ea = (await a.run({ image: new ort.Tensor('float32', pixels, [1, 3, S, S]) })).embedding!.data as Float32Array;
      const eb = (await b.run({ pixel_values: new ort.Tensor('float32', pixels, [1, 3, S, S]) })).image_embeds!.data as Float32Array;
      assert.ok(maxAbsDiff(ea, eb) < 1e-6);
    });

    it('has config.json and preprocess_cfg.json shaped like open_clip writes them', () => {
      const config = readJson(openclip.files.config);
      assert.equal(config.embed_dim, DIM);
      assert.deepEqual(config.vision_cfg, { image_size: S, layers: 2, width: tiny.vision.width, patch_size: tiny.vision.patchSize });
      assert.equal(config.text_cfg.context_length, 77);
      assert.equal(config.text_cfg.vocab_size, 49408);
      const pre = readJson(openclip.files.preprocessConfig);
      assert.deepEqual(pre.size, [S, S]);
      assert.equal(pre.mode, 'RGB');
      assert.equal(pre.interpolation, 'bicubic');
      assert.equal(pre.resize_mode, 'shortest');
      assert.deepEqual(pre.mean, [0.48145466, 0.4578275, 0.40821073]);
    });

    it('refuses fp16 variants, which OpenCLIP exports do not have', async () => {
      await assert.rejects(generateClipModel({ dir: path.join(root, 'x'), layout: 'openclip', size: 'tiny', fp16: true }), /huggingface layout/);
    });
  });

  it('writes byte-identical towers for the same seed and different ones for another', async () => {
    const again = await generateClipModel({ dir: path.join(root, 'again'), layout: 'huggingface', size: 'tiny', seed: 5 });
    const other = await generateClipModel({ dir: path.join(root, 'other'), layout: 'huggingface', size: 'tiny', seed: 6 });
    for (const tower of ['vision', 'text'] as const) {
      const first = await readFile(hf.files[tower]);
      assert.ok(first.equals(await readFile(again.files[tower])), `${tower}: same seed`);
      assert.ok(!first.equals(await readFile(other.files[tower])), `${tower}: other seed`);
    }
    // No fp16 asked for this time: the folder must not pretend to have the variant.
    assert.equal(again.files.visionFp16, undefined);
    assert.ok(!existsSync(path.join(again.dir, 'onnx/vision_model_fp16.onnx')));
  });

  it('takes a custom size', async () => {
    const size = { embedDim: 16, vision: { imageSize: 48, patchSize: 16, width: 24, layers: 1, heads: 3 }, text: { contextLength: 77, vocabSize: 49408, width: 8, layers: 1, heads: 1 } };
    const model = await generateClipModel({ dir: path.join(root, 'custom'), layout: 'openclip', size });
    const s = await load(model.files.vision);
    const out = await s.run({ image: new ort.Tensor('float32', new Float32Array(3 * 48 * 48), [1, 3, 48, 48]) });
    assert.deepEqual(out.embedding!.dims, [1, 16]);
    await assert.rejects(
      generateClipModel({ dir: path.join(root, 'bad'), layout: 'openclip', size: { ...size, vision: { ...size.vision, patchSize: 20 } } }),
      /not a multiple of vision.patchSize/,
    );
  });
});
