/**
 * Image-only classifiers as a model kind, on the one real model with real weights in the shared
 * fixtures: the ONNX Model Zoo's ImageNet MobileNetV2 1.0, int8 (mobilenetv2-12-int8).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { modelsSchema } from '../../config/schema.ts';
import { CLASSIFIER_CONFIG_FILE, MODEL_ZOO_PREPROCESS, readClassifierConfig, resolveClassifierFiles } from '../../models/classifier/classifier-folder.ts';
import { exposePooledFeatures } from '../../models/classifier/pooled-features.ts';
import { loadEncoders, ModelFolderError, NoTextTowerError, textTower, type ClassifierEncoders } from '../../models/index.ts';
import { resizePlan } from '../../models/preprocess.ts';
import { fixture, requireFixtures } from '../support/fixtures.ts';
import express from 'express';
import { loadConfig } from '../../config/index.ts';
import { storeSchema } from '../../config/schema.ts';
import { createSearchRouter } from '../../plugin/index.ts';
import { openStore } from '../../store/index.ts';
import { tempDataDir } from '../support/harvest-harness.ts';
import { request } from '../plugin/supertest.ts';

const MOBILENET = () => fixture('models', 'mobilenetv2-12-int8');
const FINCH = () => path.join(MOBILENET(), 'imagenet_finch.jpeg');
const cosine = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);
const top = (logits: Float32Array, k: number) => [...logits.keys()].sort((a, b) => logits[b]! - logits[a]!).slice(0, k);

async function load(dir: string, overrides: Record<string, unknown> = {}): Promise<ClassifierEncoders> {
  const enc = await loadEncoders(modelsSchema.parse({ path: dir, threads: 1, batchSize: 4, ...overrides }), os.tmpdir());
  if (enc.kind !== 'classifier') throw new Error(`${dir} loaded as ${enc.kind}`);
  return enc;
}

/** A copy of the MobileNet folder with a classifier config (the fixture folder is read-only). */
function withConfig(config: Record<string, unknown>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'reprise-classifier-'));
  for (const f of ['mobilenetv2-12-int8.onnx', 'imagenet_classes.txt']) copyFileSync(path.join(MOBILENET(), f), path.join(dir, f));
  writeFileSync(path.join(dir, CLASSIFIER_CONFIG_FILE), JSON.stringify(config));
  return dir;
}

describe('image-only ONNX classifiers (ONNX Model Zoo MobileNetV2 int8, real weights)', function () {
  requireFixtures(this);
  this.timeout(120_000);
  let enc: ClassifierEncoders;

  before(async () => {
    enc = await load(MOBILENET());
  });
  after(async () => enc?.close());

  it('reads the folder with the ONNX Model Zoo preprocessing by default and the 1,000 ImageNet class names', async () => {
    const files = resolveClassifierFiles(MOBILENET());
    assert.equal(path.basename(files.model), 'mobilenetv2-12-int8.onnx');
    const config = await readClassifierConfig(files);
    // The published values (fixtures README, ONNX Model Zoo): short side 256, centre 224, ImageNet mean and std.
    assert.deepEqual(config.image, { size: 224, resizeMode: 'shortest-edge-crop', resizeShortSide: 256, resample: 'bilinear', mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });
    assert.deepEqual(config.image, MODEL_ZOO_PREPROCESS);
    assert.equal(config.classes.length, 1000);
    assert.equal(config.classes[0], 'tench');
    assert.equal(config.classes[12], 'house finch');
    // The file is the one PROVENANCE.txt describes, and its sha256, shortened, is in the model id:
    // a re-exported file is another model to an index.
    const published = /sha256 ([0-9a-f]{64})/.exec(readFileSync(path.join(MOBILENET(), 'PROVENANCE.txt'), 'utf8'))![1]!;
    assert.equal(createHash('sha256').update(readFileSync(files.model)).digest('hex'), published);
    assert.equal(config.modelId, `mobilenetv2-12-int8@${published.slice(0, 12)}`);
    // torchvision's Resize(256) + CenterCrop(224) on the 500×375 finch photograph.
    assert.deepEqual(resizePlan(500, 375, config.image), { width: 341, height: 256, crop: { left: 58, top: 16, width: 224, height: 224 } });
  });

  it('exposes the pooled features of the int8 graph and uses them as the vector; the logits come alongside', () => {
    assert.equal(enc.config.projectionDim, 1280, "MobileNetV2's last feature map has 1,280 channels");
    assert.match(enc.classifier.vectorsFrom, /^pooled features \(QLinearGlobalAveragePool/);
    assert.equal(enc.image.hasLogits, true);
    assert.equal(enc.classifier.topK, 5);
    const graph = exposePooledFeatures(readFileSync(path.join(MOBILENET(), 'mobilenetv2-12-int8.onnx')));
    assert.ok(graph && graph.bytes.length > 3_000_000);
  });

  it('puts imagenet_finch.jpeg in class 12 (house finch) through Reprise\'s own decoding and preprocessing', async () => {
    const [result] = await enc.image.embedEach([readFileSync(FINCH())]);
    assert.ok(!(result instanceof Error));
    assert.equal(result!.logits!.length, 1000);
    assert.equal(top(result!.logits!, 1)[0], 12);
    assert.equal(result!.vector.length, 1280);
    assert.ok(Math.abs(cosine(result!.vector, result!.vector) - 1) < 1e-5, 'L2-normalised');
  });

  it('searches by image, region and similarity: a crop of the finch is nearer the finch than other photographs are', async () => {
    const finch = readFileSync(FINCH());
    const others = ['coffee.png', 'rocket.jpg', 'chelsea.png'].map((n) => readFileSync(fixture('images', 'skimage', n)));
    const [whole, ...rest] = await enc.image.embed([finch, ...others]);
    const meta = await sharp(finch).metadata();
    const [region] = await enc.image.embedRegions(finch, [{ x: meta.width! * 0.15, y: meta.height! * 0.1, w: meta.width! * 0.75, h: meta.height! * 0.85 }]);
    for (const other of rest) assert.ok(cosine(whole!, region!) > cosine(whole!, other!), 'the region is nearest its own image');
  });

  it('has no text tower: text search says so, naming the model', () => {
    assert.equal(enc.text, undefined);
    assert.throws(() => textTower(enc), (err: Error) => err instanceof NoTextTowerError && err.message.includes('mobilenetv2-12-int8') && /no text tower/.test(err.message));
  });

  it('serves image search and similar items through the API, and answers text search with a 422 naming the model', async () => {
    const dataDir = tempDataDir('reprise-classifier-api-');
    const store = await openStore(storeSchema.parse({}), dataDir, { modelId: enc.config.modelId, dimensions: enc.config.projectionDim });
    try {
      const files = { finch: FINCH(), coffee: fixture('images', 'skimage', 'coffee.png'), cat: fixture('images', 'skimage', 'chelsea.png') };
      const embedded = await enc.image.embed(Object.values(files).map((f) => readFileSync(f)));
      await store.upsert(
        Object.keys(files).map((id, i) => ({
          id, canvasId: `https://example.org/c/${id}`, manifestId: 'https://example.org/m', manifestUrl: 'https://example.org/m',
          collections: [], label: id, labels: [], text: id, record: {}, vector: embedded[i]!,
        })),
      );
      const app = express().use('/api', createSearchRouter({ store, encoders: enc, config: loadConfig({ env: {}, overrides: { dataDir } }) }));
      const text = await request(app).get('/api/search').query({ q: 'a bird' });
      assert.equal(text.status, 422, text.text);
      assert.equal(text.body.type, 'urn:reprise:problem:no-text-tower');
      assert.match(text.body.detail, /mobilenetv2-12-int8@83530ad811bc is an image classifier without a text tower/);
      const keyword = await request(app).get('/api/search').query({ q: 'finch', semanticRatio: 0 }).expect(200);
      assert.equal(keyword.body.hits[0].id, 'finch');
      const image = await request(app).post('/api/search/image').query({ limit: 3 }).attach('image', readFileSync(FINCH()), 'finch.jpg').expect(200);
      assert.equal(image.body.hits[0].id, 'finch');
      assert.ok(image.body.hits[0].score > 0.99);
      const similar = await request(app).get('/api/items/cat/similar').query({ limit: 2 }).expect(200);
      assert.deepEqual(similar.body.hits.map((h: { id: string }) => h.id).sort(), ['coffee', 'finch']);
    } finally {
      await store.close();
    }
  });

  it('takes its preprocessing, class file and vector source from reprise-classifier.json', async () => {
    const logits = await load(withConfig({ features: 'logits', topK: 3, labelSet: 'in1k', preprocess: { resample: 'bicubic' } }));
    try {
      assert.equal(logits.config.projectionDim, 1000);
      assert.match(logits.classifier.vectorsFrom, /^logits/);
      assert.equal(logits.classifier.topK, 3);
      assert.equal(logits.classifier.labelSet, 'in1k');
      assert.equal(logits.config.image.resample, 'bicubic');
      const [r] = await logits.image.embedEach([readFileSync(FINCH())]);
      assert.equal(top((r as { logits: Float32Array }).logits, 1)[0], 12);
    } finally {
      await logits.close();
    }
  });

  it('refuses a config that does not fit, naming the file and the key', async () => {
    await assert.rejects(load(withConfig({ preprocess: { size: 192 } })), (err: Error) => err instanceof ModelFolderError && /does not take 3 × 192 × 192 pixels/.test(err.message));
    await assert.rejects(load(withConfig({ preprocess: { means: [0, 0, 0] } })), (err: Error) => err instanceof ModelFolderError && err.message.includes(CLASSIFIER_CONFIG_FILE) && /preprocess\.means is not a known key/.test(err.message));
    const dir = withConfig({});
    writeFileSync(path.join(dir, 'imagenet_classes.txt'), 'cat\ndog\n');
    await assert.rejects(load(dir), (err: Error) => err instanceof ModelFolderError && /2 class names, but .* scores 1000 classes/.test(err.message));
  });
});
