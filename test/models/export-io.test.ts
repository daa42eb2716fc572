import assert from 'node:assert/strict';
import { copyFileSync, cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { modelsSchema } from '../../config/schema.ts';
import { loadEncoders, type ClipEncoders } from '../../models/index.ts';
import { inspectModelFolder } from '../../models/validate.ts';
import { EmbeddingStage } from '../../harvester/embedding-stage.ts';
import type { HarvestedItem } from '../../harvester/stage.ts';
import type { StoreItem, VectorStore } from '../../store/types.ts';
import { fixture, requireFixtures } from '../support/fixtures.ts';
import { tinyModel } from '../support/tiny-model.ts';

const photo = (name: string) => readFileSync(fixture('images', 'skimage', name));
const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);

async function load(dir: string, overrides: Record<string, unknown> = {}): Promise<ClipEncoders> {
  const enc = await loadEncoders(modelsSchema.parse({ path: dir, threads: 1, batchSize: 4, ...overrides }), os.tmpdir());
  if (enc.kind !== 'clip') throw new Error(`${dir} loaded as ${enc.kind}`);
  return enc;
}

const IMAGES = ['coffee.png', 'chelsea.png', 'astronaut.png', 'rocket.jpg', 'horse.png'];
const TEXTS = ['a cat on a sofa', 'a rocket', 'une tasse de café'];
const REGIONS = [
  { x: 100, y: 40, w: 260, h: 300 },
  { x: 0, y: 0, w: 200, h: 200 },
  { x: 300, y: 300, w: 212, h: 212 },
];

// Same seed, same weights: a fixed-batch export must give what the dynamic one gives.
for (const fixedBatch of [1, 2]) {
  describe(`an export that fixes the batch at ${fixedBatch} (Immich's fix it at 1)`, function () {
    requireFixtures(this);
    this.timeout(120_000);
    let fixed: ClipEncoders;
    let dynamic: ClipEncoders;
    let images: Buffer[];

    before(async () => {
      images = IMAGES.map(photo);
      fixed = await load(await tinyModel('openclip', { fixedBatch }));
      dynamic = await load(await tinyModel('openclip'));
    });
    after(async () => Promise.all([fixed?.close(), dynamic?.close()]));

    it('is reported by validation and honoured by both towers, whatever models.batchSize says', async () => {
      const report = await inspectModelFolder(fixed.files, fixed.config);
      assert.equal(report.vision.fixedBatch, fixedBatch);
      assert.equal(report.text.fixedBatch, fixedBatch);
      assert.equal(fixed.image.fixedBatch, fixedBatch);
      assert.equal(fixed.image.batchSize, fixedBatch);
      assert.equal(fixed.text.fixedBatch, fixedBatch);
      assert.equal(dynamic.image.fixedBatch, undefined);
    });

    it('embeds a batch of images (more than the fixed batch, not a multiple of it)', async () => {
      const got = await fixed.image.embed(images);
      const want = await dynamic.image.embed(images);
      assert.equal(got.length, images.length);
      got.forEach((v, i) => assert.ok(maxDiff(v, want[i]!) < 1e-5, `image ${i}`));
    });

    it('embeds several regions of one image', async () => {
      const got = await fixed.image.embedRegions(images[2]!, REGIONS);
      const want = await dynamic.image.embedRegions(images[2]!, REGIONS);
      assert.equal(got.length, REGIONS.length);
      got.forEach((v, i) => assert.ok(maxDiff(v, want[i]!) < 1e-5, `region ${i}`));
    });

    it('embeds several uncached texts in one call', async () => {
      const got = await fixed.text.embed(TEXTS);
      const want = await dynamic.text.embed(TEXTS);
      assert.equal(got.length, TEXTS.length);
      got.forEach((v, i) => assert.ok(maxDiff(v, want[i]!) < 1e-5, `text ${i}`));
    });

    it('runs preprocessed pixels of any batch through run()', async () => {
      const s = fixed.config.image.size;
      const pixels = new Float32Array(3 * 3 * s * s).map((_, i) => Math.sin(i));
      const got = await fixed.image.run(pixels, 3);
      const want = await dynamic.image.run(pixels, 3);
      assert.equal(got.length, 3);
      got.forEach((v, i) => assert.ok(maxDiff(v, want[i]!) < 1e-5, `row ${i}`));
    });

    it('indexes a harvest batch in one pass: a bad canvas fails alone, the others are embedded', async () => {
      const decoded = await Promise.all(images.slice(0, 3).map((b) => sharp(b).removeAlpha().raw().toBuffer({ resolveWithObject: true })));
      const items = decoded.map(({ data, info }, i) => item(`i${i}`, { data, width: info.width, height: info.height }));
      // Pixels that do not match their stated size: the preprocessing refuses this one canvas.
      items.splice(1, 0, item('bad', { data: Buffer.alloc(10), width: 10, height: 10 }));
      const stored: StoreItem[] = [];
      const store = { upsert: async (batch: StoreItem[]) => void stored.push(...batch) } as unknown as VectorStore;
      const outcomes = await new EmbeddingStage(fixed, store).index(items);
      assert.deepEqual(outcomes.map((o) => o.ok), [true, false, true, true]);
      assert.match((outcomes[1] as { reason: string }).reason, /raw pixels hold 10 bytes/);
      const want = await dynamic.image.embed(decoded.map(({ data, info }) => ({ data, width: info.width, height: info.height, channels: 3 as const })));
      assert.deepEqual(stored.map((s) => s.id), ['i0', 'i1', 'i2']);
      stored.forEach((s, i) => assert.ok(maxDiff(s.vector!, want[i]!) < 1e-5));
    });
  });
}

function item(itemId: string, image: { data: Buffer; width: number; height: number }): HarvestedItem {
  return {
    itemId,
    record: { canvasId: itemId, manifestId: 'm', manifestUrl: 'https://example.org/m', collectionPath: [], metadata: [], imageUrl: 'https://example.org/i.jpg' },
    image: { ...image, channels: 3 },
    bytes: Buffer.alloc(0),
    imageHash: itemId,
  } as unknown as HarvestedItem;
}

describe('an fp16 export that takes and returns float16 tensors', function () {
  requireFixtures(this);
  this.timeout(120_000);
  let half: ClipEncoders;
  let full: ClipEncoders;

  before(async () => {
    const dir = await tinyModel('huggingface', { fp16: true, fp16Io: true });
    half = await load(dir, { variant: 'fp16' });
    full = await load(dir);
  });
  after(async () => Promise.all([half?.close(), full?.close()]));

  it('is validated as float16 and fed and read as float16', async () => {
    const report = await inspectModelFolder(half.files, half.config);
    assert.equal(report.vision.inputs.find((i) => i.name === report.vision.input)?.type, 'float16');
    assert.equal(report.vision.outputs.find((o) => o.name === report.vision.output)?.type, 'float16');
    assert.equal(report.text.outputs.find((o) => o.name === report.text.output)?.type, 'float16');
    const images = IMAGES.slice(0, 3).map(photo);
    const got = await half.image.embed(images);
    const want = await full.image.embed(images);
    // float16 keeps about three decimal digits: close to the float32 tower, and never garbage.
    got.forEach((v, i) => {
      assert.ok(v.every(Number.isFinite));
      assert.ok(maxDiff(v, want[i]!) < 2e-2, `image ${i}: ${maxDiff(v, want[i]!)}`);
    });
    const texts = await half.text.embed(TEXTS);
    const fullTexts = await full.text.embed(TEXTS);
    texts.forEach((v, i) => assert.ok(maxDiff(v, fullTexts[i]!) < 2e-2, `text ${i}`));
    const regions = await half.image.embedRegions(images[2]!, REGIONS);
    assert.equal(regions.length, REGIONS.length);
  });
});

describe("text cleaning and padding follow the model's own config (an OpenCLIP-layout SigLIP)", function () {
  requireFixtures(this);
  this.timeout(120_000);

  /** The OpenCLIP tiny model with a text tower whose sequence axis is dynamic, and text_cfg as given. */
  async function openClipWith(textCfg: Record<string, unknown>): Promise<string> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'reprise-openclip-siglip-'));
    cpSync(await tinyModel('openclip'), dir, { recursive: true });
    copyFileSync(path.join(await tinyModel('huggingface'), 'onnx', 'text_model.onnx'), path.join(dir, 'textual', 'model.onnx'));
    const configFile = path.join(dir, 'config.json');
    const config = JSON.parse(readFileSync(configFile, 'utf8')) as { text_cfg: Record<string, unknown> };
    config.text_cfg = { ...config.text_cfg, ...textCfg };
    writeFileSync(configFile, JSON.stringify(config));
    return dir;
  }

  it('pads every text to the context length where the tower reads its last position, and cleans it as tokenizer_kwargs.clean says', async () => {
    // text_cfg as open_clip's ViT-B-16-SigLIP.json gives it (mlfoundations/open_clip@f862f86).
    const siglip = await load(await openClipWith({ no_causal_mask: true, pool_type: 'last', tokenizer_kwargs: { clean: 'canonicalize' } }));
    const clip = await load(await openClipWith({}));
    try {
      assert.equal(siglip.text.dynamicLength, false);
      assert.equal(siglip.text.tokenize(['a cat']).seqLen, 77);
      assert.equal(clip.text.dynamicLength, true, 'a causal tower pooled at the end token runs at real length');
      assert.equal(clip.text.tokenize(['a cat']).seqLen, 4);
      const [shouted, plain] = await siglip.text.embed(['A  Cat, on_the mat!', 'a cat on the mat']);
      assert.equal(maxDiff(shouted!, plain!), 0, 'canonicalized to the same text');
      const [shoutedClip, plainClip] = await clip.text.embed(['A  Cat, on_the mat!', 'a cat on the mat']);
      assert.ok(maxDiff(shoutedClip!, plainClip!) > 1e-4, 'without clean, punctuation is text');
    } finally {
      await Promise.all([siglip.close(), clip.close()]);
    }
  });
});
