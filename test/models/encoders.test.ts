import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { modelsSchema } from '../../config/schema.ts';
import { loadEncoders, ModelFolderError, type ClipEncoders } from '../../models/index.ts';
import { fixture, requireFixtures } from '../support/fixtures.ts';
import { tinyModel } from '../support/tiny-model.ts';

const photo = (folder: string, name: string) => readFileSync(fixture('images', folder, name));
const norm = (v: Float32Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);

async function load(dir: string, overrides: Record<string, unknown> = {}): Promise<ClipEncoders> {
  const enc = await loadEncoders(modelsSchema.parse({ path: dir, threads: 1, batchSize: 4, ...overrides }), os.tmpdir());
  if (enc.kind !== 'clip') throw new Error(`${dir} loaded as ${enc.kind}`);
  return enc;
}

for (const layout of ['huggingface', 'openclip'] as const) {
  describe(`encoders on the tiny generated model (${layout} layout)`, function () {
    requireFixtures(this);
    this.timeout(120_000);
    let enc: ClipEncoders;
    let images: Buffer[];

    before(async () => {
      enc = await load(await tinyModel(layout));
      images = ['coffee.png', 'chelsea.png', 'astronaut.png', 'rocket.jpg', 'horse.png', 'camera.png'].map((n) => photo('skimage', n));
    });
    after(async () => enc?.close());

    it('reads dimensions, sizes and names from the model, not from constants', () => {
      assert.equal(enc.config.projectionDim, enc.image.dim);
      assert.equal(enc.text.dim, enc.image.dim);
      assert.equal(enc.files.layout, layout);
      assert.equal(enc.text.dynamicLength, layout === 'huggingface', 'HF exports have a dynamic sequence axis, Immich exports do not');
    });

    it('gives L2-normalised Float32Array embeddings of the projection dimension', async () => {
      const vectors = await enc.image.embed(images.slice(0, 2));
      const texts = await enc.text.embed(['a cat', 'une photographie de chat']);
      for (const v of [...vectors, ...texts]) {
        assert.ok(v instanceof Float32Array);
        assert.equal(v.length, enc.config.projectionDim);
        assert.ok(Math.abs(norm(v) - 1) < 1e-5);
        assert.ok(v.every(Number.isFinite));
      }
      assert.ok(maxDiff(vectors[0]!, vectors[1]!) > 1e-3, 'different images, different embeddings');
    });

    it('is deterministic, and a batch equals one image at a time', async () => {
      const batch = await enc.image.embed(images);
      for (const [i, image] of images.entries()) {
        const [single] = await enc.image.embed([image]);
        assert.ok(maxDiff(batch[i]!, single!) < 1e-5, `image ${i}`);
      }
      const again = await enc.image.embed(images);
      assert.ok(batch.every((v, i) => maxDiff(v, again[i]!) === 0));
    });

    it('embeds a region as if the image had been cropped first, and several regions in one batch', async () => {
      const source = images[2]!;
      const region = { x: 100, y: 40, w: 260, h: 300 };
      const cropped = await sharp(source).extract({ left: region.x, top: region.y, width: region.w, height: region.h }).png().toBuffer();
      const [byHand] = await enc.image.embed([cropped]);
      const [viaRegion] = await enc.image.embed([source], [region]);
      assert.ok(maxDiff(byHand!, viaRegion!) < 1e-4);
      const regions = [region, { x: 0, y: 0, w: 200, h: 200 }, { x: 300, y: 300, w: 212, h: 212 }];
      const many = await enc.image.embedRegions(source, regions);
      assert.equal(many.length, 3);
      assert.ok(maxDiff(many[0]!, viaRegion!) < 1e-5);
      const [whole] = await enc.image.embed([source]);
      assert.ok(maxDiff(many[1]!, whole!) > 1e-3, 'a region is not the whole image');
    });

    it('takes decoded RGB pixels as the harvester hands them over', async () => {
      const { data, info } = await sharp(images[0]!).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      const [fromRaw] = await enc.image.embed([{ data, width: info.width, height: info.height, channels: 3 }]);
      const [fromFile] = await enc.image.embed([images[0]!]);
      assert.ok(maxDiff(fromRaw!, fromFile!) < 1e-5);
    });

    it('caches text queries and gives the same embedding from the cache', async () => {
      const before = enc.text.cacheSize;
      const [first] = await enc.text.embed(['un portrait de femme, vers 1900']);
      assert.equal(enc.text.cacheSize, before + 1);
      const [second] = await enc.text.embed(['un portrait de femme, vers 1900']);
      assert.equal(second, first, 'served from the cache');
    });

    it('rejects a broken image with a clear error', async () => {
      await assert.rejects(enc.image.embed([Buffer.from('not an image')]), /image|decode|format|unsupported/i);
    });
  });
}

describe('text at its real length', function () {
  requireFixtures(this);
  this.timeout(60_000);

  it('gives the same embedding as padding to 77, with far fewer tokens', async () => {
    const enc = await load(await tinyModel('huggingface'));
    try {
      const queries = ['a cat', 'nikola tesla in new york', 'photographie d’une rue de Paris sous la neige'];
      const real = enc.text.tokenize(queries, 'longest');
      const padded = enc.text.tokenize(queries, 'max');
      assert.equal(padded.seqLen, 77);
      assert.ok(real.seqLen < 25, `real length ${real.seqLen}`);
      const a = await enc.text.run(real);
      const b = await enc.text.run(padded);
      for (let i = 0; i < queries.length; i++) assert.ok(maxDiff(a[i]!, b[i]!) < 1e-5, queries[i]);
    } finally {
      await enc.close();
    }
  });
});

describe('a configured model folder is validated at start', function () {
  requireFixtures(this);
  this.timeout(60_000);

  it('names a missing file', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'reprise-broken-'));
    cpSync(await tinyModel('huggingface'), dir, { recursive: true });
    rmSync(path.join(dir, 'onnx', 'text_model.onnx'));
    await assert.rejects(load(dir), (err: Error) => err instanceof ModelFolderError && /text_model\.onnx/.test(err.message));
  });

  it('names a corrupt ONNX file', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'reprise-broken-'));
    cpSync(await tinyModel('huggingface'), dir, { recursive: true });
    writeFileSync(path.join(dir, 'onnx', 'vision_model.onnx'), 'garbage');
    await assert.rejects(load(dir), (err: Error) => err instanceof ModelFolderError && /vision_model\.onnx/.test(err.message));
  });

  it('names a wrong embedding size', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'reprise-broken-'));
    cpSync(await tinyModel('huggingface'), dir, { recursive: true });
    const configFile = path.join(dir, 'config.json');
    const config = JSON.parse(readFileSync(configFile, 'utf8')) as { projection_dim: number };
    config.projection_dim = 512;
    writeFileSync(configFile, JSON.stringify(config));
    await assert.rejects(load(dir), (err: Error) => err instanceof ModelFolderError && /512/.test(err.message));
  });

  it('says how to get a model when the folder does not exist', async () => {
    await assert.rejects(load(path.join(os.tmpdir(), 'no-such-model-folder')), (err: Error) =>
      err instanceof ModelFolderError && /reprise models pull/.test(err.message));
  });

  it('loads an fp16 variant when asked', async () => {
    const dir = await tinyModel('huggingface', { fp16: true });
    const enc = await load(dir, { variant: 'fp16' });
    try {
      assert.match(enc.files.visionModel, /vision_model_fp16\.onnx$/);
      const [v] = await enc.image.embed([readFileSync(fixture('images', 'skimage', 'coffee.png'))]);
      assert.ok(Math.abs(norm(v!) - 1) < 1e-5);
    } finally {
      await enc.close();
    }
  });
});
