import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import express from 'express';
import sharp from 'sharp';
import { loadConfig } from '../../config/index.ts';
import type { RepriseConfig } from '../../config/schema.ts';
import { EmbeddingStage } from '../../harvester/embedding-stage.ts';
import { FeatureStage } from '../../harvester/feature-stage.ts';
import { itemIdOf } from '../../harvester/util/hash.ts';
import { loadEncoders, type Encoders } from '../../models/index.ts';
import { createSearchRouter, type SearchRouter } from '../../plugin/index.ts';
import { openReprintIndex, openReprintService, ReprintService } from '../../reprints/index.ts';
import { openStore, type VectorStore } from '../../store/index.ts';
import { createInstitution, type Institution } from '../support/institution/index.ts';
import { harvestOnce, tempDataDir } from '../support/harvest-harness.ts';
import { tinyModel } from '../support/tiny-model.ts';
import { request } from '../plugin/supertest.ts';
import { rng } from '../bench/reprints-degrade.ts';
import { printPage } from '../bench/reprints-pages.ts';
import { bytesOf, image, iou, requireLocalFeatures } from './support.ts';

const FILES = [
  ['genthe-loc', 'kids.jpg'],
  ['genthe-loc', '01-children-walking.jpg'],
  ['genthe-loc', 'fish-market-crop.jpg'],
  ['genthe-loc', '01-fishmonger.jpg'],
  ['fsa-owi', 'LC-USF33-003470.jpg'],
  ['fsa-owi', 'LC-USE6-D-000247.jpg'],
] as const;

type Hit = { id: string; canvas: { id: string }; confidence: number; inliers: number; region: Box; queryRegion: Box; transform: { scale: number; rotation: number; matrix: number[] } };
type Box = { x: number; y: number; w: number; h: number };

/**
 * The reprint pipeline end to end: real photographs served by the loopback institution, harvested
 * through the embedding stage composed with the feature stage, then asked through POST /api/reprints.
 */
describe('reprints: harvest stage and POST /reprints', function () {
  requireLocalFeatures(this);
  let inst: Institution;
  let dataDir: string;
  let config: RepriseConfig;
  let encoders: Encoders;
  let store: VectorStore;
  let router: SearchRouter;
  let reprints: ReprintService;
  let app: express.Express;
  const canvasOf = new Map<string, { canvasId: string; itemId: string; manifestUrl: string }>();

  const harvest = async () => {
    const index = openReprintIndex(dataDir);
    const stage = new FeatureStage(new EmbeddingStage(encoders, store), index);
    try {
      const { summary } = await harvestOnce(dataDir, [inst.rootCollectionUrl], { stage });
      assert.equal(summary.status, 'completed', JSON.stringify(summary.failures));
      // The run compared its new images with the index at its end (FeatureStage.finish, on its own thread).
      assert.equal(index.unscannedCount(), 0);
    } finally {
      index.close();
    }
  };

  before(async () => {
    dataDir = tempDataDir('reprise-reprints-api-');
    // The Genthe scans are up to 2355 px; the test institution's image server answers them with 400, so it serves 640 px copies, the size the other fixture photographs have.
    const served = path.join(dataDir, 'served');
    mkdirSync(served);
    const files = await Promise.all(
      FILES.map(async ([f, n]) => {
        const out = path.join(served, n);
        await sharp(image(f, n)).resize(640, 640, { fit: 'inside', withoutEnlargement: true }).jpeg({ quality: 92 }).toFile(out);
        return out;
      }),
    );
    inst = await createInstitution({ images: files, imagesPerManifest: 2, manifestCount: 3 });
    config = loadConfig({ env: {}, overrides: { dataDir, 'models.path': await tinyModel('huggingface'), 'models.threads': 1, 'harvest.http.allowPrivate': ['127.0.0.1'] } });
    encoders = await loadEncoders(config.models, dataDir);
    store = await openStore(config.store, dataDir, { modelId: encoders.config.modelId, dimensions: encoders.config.projectionDim });
    for (const m of inst.manifests) for (const c of m.canvases) canvasOf.set(c.imageName, { canvasId: c.id, itemId: itemIdOf(m.url, c.id), manifestUrl: m.url });
    await harvest();
    // Injected as the store is: the router never opens an index of its own.
    reprints = openReprintService(dataDir);
    router = createSearchRouter({ store, encoders, config, reprints }, { onError: (err) => assert.fail(`unexpected 500: ${String(err)}`) });
    app = express().use('/api', router);
  });
  after(async () => {
    await router?.close();
    reprints?.close();
    await store?.close();
    await encoders?.close();
    await inst?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('extracts features for every harvested canvas and groups the two real reprint pairs', () => {
    const index = openReprintIndex(dataDir);
    try {
      assert.equal(index.size, FILES.length);
      const kids = index.image(canvasOf.get('kids.jpg')!.itemId)!;
      assert.equal(kids.item.canvasId, canvasOf.get('kids.jpg')!.canvasId);
      assert.ok(kids.item.canvasWidth! > 0 && kids.item.manifestLabel);
      const groups = new ReprintService(index).groups();
      const names = (id: string) => [...canvasOf].find(([, c]) => c.itemId === id)![0];
      assert.deepEqual(groups.map((g) => g.members.map((m) => names(m.id)).sort()).sort(), [
        ['01-children-walking.jpg', 'kids.jpg'],
        ['01-fishmonger.jpg', 'fish-market-crop.jpg'],
      ]);
    } finally {
      index.close();
    }
  });

  it('finds the reprint of an indexed item, with regions on both canvases', async () => {
    const res = await request(app).post('/api/reprints').send({ item: canvasOf.get('kids.jpg')!.itemId }).expect(200);
    const hits = res.body.hits as Hit[];
    assert.equal(hits.length, 1, res.text);
    assert.equal(hits[0]!.canvas.id, canvasOf.get('01-children-walking.jpg')!.canvasId);
    assert.equal(res.body.queryCanvas, canvasOf.get('kids.jpg')!.canvasId);
    assert.ok(hits[0]!.confidence > 0.99 && hits[0]!.inliers >= 30);
    // kids.jpg is a tighter scan of the same print: a large part of the other canvas, most of its own.
    const walking = await sharp(path.join(dataDir, 'served', '01-children-walking.jpg')).metadata();
    assert.ok(hits[0]!.region.w > walking.width! * 0.5 && hits[0]!.region.x + hits[0]!.region.w <= walking.width! + 2, JSON.stringify(hits[0]!.region));
  });

  it('finds an uploaded crop and outlines it on the canvas', async () => {
    const bytes = readFileSync(path.join(dataDir, 'served', 'LC-USF33-003470.jpg'));
    const meta = await sharp(bytes).metadata();
    const crop = { left: Math.round(meta.width! * 0.35), top: Math.round(meta.height! * 0.25), width: Math.round(meta.width! * 0.55), height: Math.round(meta.height! * 0.6) };
    const upload = await sharp(bytes).extract(crop).rotate(4, { background: '#fff' }).jpeg({ quality: 40 }).toBuffer();
    const res = await request(app).post('/api/reprints').attach('image', upload, 'crop.jpg').expect(200);
    const hit = (res.body.hits as Hit[])[0]!;
    assert.equal(hit.canvas.id, canvasOf.get('LC-USF33-003470.jpg')!.canvasId);
    // The institution's canvases are the photographs' own pixel size.
    assert.ok(iou(hit.region, { x: crop.left, y: crop.top, w: crop.width, h: crop.height }) > 0.75, JSON.stringify(hit.region));
    assert.ok(Math.abs(Math.abs(hit.transform.rotation) - 4) < 1, String(hit.transform.rotation));
    assert.equal(res.body.queryCanvas, undefined);
  });

  it('finds a photograph printed on an uploaded newspaper page, and its place on the page', async () => {
    // A quarter of the page's width: at the embedding size (640 px) the page would hold it at 150 px, too few to match.
    const page = await printPage('newspaper', [{ id: 'farm', bytes: readFileSync(path.join(dataDir, 'served', 'LC-USF33-003470.jpg')) }], rng(21));
    const res = await request(app).post('/api/reprints').attach('image', page.bytes, 'page.jpg').expect(200);
    const hits = res.body.hits as Hit[];
    assert.equal(hits[0]?.canvas.id, canvasOf.get('LC-USF33-003470.jpg')!.canvasId, res.text);
    assert.ok(iou(hits[0]!.queryRegion, page.photos[0]!.box) >= 0.5, `${JSON.stringify(hits[0]!.queryRegion)} vs ${JSON.stringify(page.photos[0]!.box)}`);
    assert.equal(hits.filter((h) => h.inliers >= 9).length, 1);
  });

  it('finds the photograph inside a box drawn on a canvas, in that canvas coordinates', async () => {
    const fish = (await request(app).post('/api/reprints').send({ item: canvasOf.get('fish-market-crop.jpg')!.itemId }).expect(200)).body.hits as Hit[];
    assert.equal(fish[0]!.canvas.id, canvasOf.get('01-fishmonger.jpg')!.canvasId);
    const box = fish[0]!.region;
    const { canvasId, manifestUrl } = canvasOf.get('01-fishmonger.jpg')!;
    const res = await request(app)
      .post('/api/reprints')
      .send({ canvas: canvasId, manifest: manifestUrl, xywh: `${box.x},${box.y},${box.w},${box.h}` })
      .expect(200);
    const hits = res.body.hits as Hit[];
    assert.equal(hits[0]?.canvas.id, canvasOf.get('fish-market-crop.jpg')!.canvasId, res.text);
    assert.ok(!hits.some((h) => h.canvas.id === canvasId), 'the query canvas itself is left out');
    assert.ok(iou(hits[0]!.queryRegion, box) > 0.6, `${JSON.stringify(hits[0]!.queryRegion)} vs ${JSON.stringify(box)}`);
  });

  it('reports nothing for textures, and refuses blank or tiny images with a reason', async () => {
    for (const name of ['brick.png', 'grass.png', 'gravel.png']) {
      const res = await request(app).post('/api/reprints').attach('image', bytesOf('skimage', name), name).expect(200);
      assert.deepEqual(res.body.hits, [], name);
    }
    const blank = await sharp({ create: { width: 700, height: 900, channels: 3, background: '#fbf8f0' } }).png().toBuffer();
    const res = await request(app).post('/api/reprints').attach('image', blank, 'blank.png').expect(422);
    assert.match(res.body.detail, /blank/);
    const tiny = await sharp(bytesOf('fsa-owi', 'LC-USF33-003470.jpg')).resize(32).png().toBuffer();
    assert.match((await request(app).post('/api/reprints').attach('image', tiny, 'tiny.png').expect(422)).body.detail, /too small/);
  });

  it('answers 503 on a router given no reprint index, saying how to give it one', async () => {
    const bare = createSearchRouter({ store, encoders, config }, { onError: (err) => assert.fail(`unexpected 500: ${String(err)}`) });
    try {
      const app2 = express().use('/api', bare);
      const item = await request(app2).post('/api/reprints').send({ item: canvasOf.get('kids.jpg')!.itemId }).expect(503);
      assert.match(item.body.detail, /without a reprint index.*reprints: openReprintService/);
      await request(app2).get('/api/reprints/groups').expect(503);
      await request(app2).get(`/api/items/${canvasOf.get('kids.jpg')!.itemId}/reprints`).expect(503);
    } finally {
      await bare.close();
    }
  });

  it('answers bad requests with problems naming the parameter', async () => {
    const unknown = await request(app).post('/api/reprints').send({ item: '0123456789abcdef0123456789abcdef' }).expect(404);
    assert.match(unknown.body.detail, /reprint index/);
    const bad = await request(app).post('/api/reprints').query({ minInliers: 2 }).send({ item: canvasOf.get('kids.jpg')!.itemId }).expect(400);
    assert.equal(bad.body.errors[0].name, 'minInliers');
    await request(app).post('/api/reprints').send({}).expect(400);
  });

  it('pages through the groups, and through the other printings of an item (GET /reprints/groups, GET /items/{id}/reprints)', async () => {
    type Member = { id: string; canvas: { id: string }; region: Box; inliers: number; confidence: number; direct?: number };
    const all = (await request(app).get('/api/reprints/groups').expect(200)).body as { groups: Array<{ size: number; members: Member[]; pairs: Array<{ a: string; b: string; inliers: number; confidence: number }> }>; total: number; limit: number; offset: number };
    assert.equal(all.total, 2);
    assert.deepEqual([all.limit, all.offset], [20, 0]);
    for (const g of all.groups) {
      assert.equal(g.size, 2);
      assert.equal(g.pairs.length, 1);
      for (const m of g.members) {
        assert.ok(m.inliers >= 9 && m.confidence > 0.5 && m.region.w > 0 && m.canvas.id, JSON.stringify(m));
        assert.equal(m.inliers, g.pairs[0]!.inliers);
      }
    }
    const second = (await request(app).get('/api/reprints/groups').query({ limit: 1, offset: 1 }).expect(200)).body;
    assert.deepEqual(second.groups, [all.groups[1]]);
    assert.equal(second.total, 2);

    const kids = canvasOf.get('kids.jpg')!.itemId;
    const printings = (await request(app).get(`/api/items/${kids}/reprints`).expect(200)).body as { item: string; region?: Box; printings: Member[]; total: number };
    assert.equal(printings.item, kids);
    assert.equal(printings.total, 1);
    assert.equal(printings.printings[0]!.id, canvasOf.get('01-children-walking.jpg')!.itemId);
    assert.equal(printings.printings[0]!.canvas.id, canvasOf.get('01-children-walking.jpg')!.canvasId);
    assert.ok(printings.printings[0]!.direct! >= 30 && printings.region!.w > 0);
    // An item paired with nothing has no other printings; an unknown one is a 404; bad paging a 400 naming the parameter.
    const alone = (await request(app).get(`/api/items/${canvasOf.get('LC-USF33-003470.jpg')!.itemId}/reprints`).expect(200)).body;
    assert.deepEqual([alone.printings, alone.total], [[], 0]);
    assert.match((await request(app).get('/api/items/0123456789abcdef0123456789abcdef/reprints').expect(404)).body.detail, /reprint index/);
    assert.equal((await request(app).get('/api/reprints/groups').query({ limit: 0 }).expect(400)).body.errors[0].name, 'limit');
  });

  it('forgets a canvas removed at its source, and finds one added, while the API serves', async () => {
    const kidsId = canvasOf.get('kids.jpg')!.itemId;
    assert.equal(((await request(app).post('/api/reprints').send({ item: kidsId }).expect(200)).body.hits as Hit[]).length, 1);
    const manifest = inst.manifests.find((m) => m.canvases.some((c) => c.imageName === '01-children-walking.jpg'))!;
    const position = manifest.canvases.findIndex((c) => c.imageName === '01-children-walking.jpg');
    await inst.changeManifest(manifest.url, { kind: 'remove-canvas', canvas: position });
    await harvest();
    const index = openReprintIndex(dataDir);
    try {
      assert.equal(index.has(canvasOf.get('01-children-walking.jpg')!.itemId), false);
      assert.equal(index.size, FILES.length - 1);
      assert.ok(!new ReprintService(index).groups().some((g) => g.members.some((m) => m.id === canvasOf.get('01-children-walking.jpg')!.itemId)));
    } finally {
      index.close();
    }
    // The router's index is another connection, its inverted file loaded before these harvests.
    assert.deepEqual((await request(app).post('/api/reprints').send({ item: kidsId }).expect(200)).body.hits, []);
    const other = inst.manifests.find((m) => m !== manifest)!;
    await inst.changeManifest(other.url, { kind: 'add-canvas', imagePath: path.join(dataDir, 'served', '01-children-walking.jpg') });
    await harvest();
    const hits = (await request(app).post('/api/reprints').send({ item: kidsId }).expect(200)).body.hits as Hit[];
    assert.equal(hits.length, 1);
    // A new canvas, hence a new item id: found only if the router reloaded its inverted file.
    assert.notEqual(hits[0]!.id, canvasOf.get('01-children-walking.jpg')!.itemId);
  });
});
