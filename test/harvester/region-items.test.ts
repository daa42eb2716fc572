/**
 * Regions as items, end to end: printed pages (real photographs on paper) served by the loopback
 * institution's Image API 3 and 2 services, described by manifests of our own whose annotations
 * box the photographs (Newspaper Navigator style): inline and referenced v3 AnnotationPages, a
 * referenced v2 sc:AnnotationList. Harvested without a model, then with the real MobileNetV2 of
 * the shared fixtures, into the embedded store, and searched through the router.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import express from 'express';
import sharp from 'sharp';
import { loadConfig } from '../../config/index.ts';
import { modelsSchema, storeSchema } from '../../config/schema.ts';
import { EmbeddingStage } from '../../harvester/embedding-stage.ts';
import { MetadataStage } from '../../harvester/metadata-stage.ts';
import { regionItemId } from '../../harvester/region-items.ts';
import { itemIdOf } from '../../harvester/util/hash.ts';
import { loadEncoders, type Encoders } from '../../models/index.ts';
import { createSearchRouter, manifestKey } from '../../plugin/index.ts';
import { openStore, type VectorStore } from '../../store/index.ts';
import { request } from '../plugin/supertest.ts';
import { fixture, requireFixtures } from '../support/fixtures.ts';
import { harvestOnce, photographs, tempDataDir, testHarvestConfig } from '../support/harvest-harness.ts';
import { createInstitution, type Institution } from '../support/institution/index.ts';

type Box = { x: number; y: number; w: number; h: number };
const P3 = 'http://iiif.io/api/presentation/3/context.json';
const P2 = 'http://iiif.io/api/presentation/2/context.json';

/** A page of paper with photographs printed on it at `width` px wide each; their boxes in page pixels. */
async function printedPage(file: string, size: { width: number; height: number }, photos: Array<{ path: string; x: number; y: number; width: number }>): Promise<Box[]> {
  const boxes: Box[] = [];
  const layers = [];
  for (const p of photos) {
    const input = await sharp(p.path).resize({ width: p.width }).toBuffer();
    const { height } = await sharp(input).metadata();
    boxes.push({ x: p.x, y: p.y, w: p.width, h: height! });
    layers.push({ input, left: p.x, top: p.y });
  }
  await sharp({ create: { ...size, channels: 3, background: '#efe9dc' } }).composite(layers).jpeg({ quality: 90 }).toFile(file);
  return boxes;
}

const xywh = (b: Box) => `xywh=${b.x},${b.y},${b.w},${b.h}`;

describe('regions as items: annotated parts of canvases harvested, embedded and searched', function () {
  requireFixtures(this);
  this.timeout(240_000);

  let inst: Institution;
  let dataDir: string;
  let encoders: Encoders | undefined;
  let store: VectorStore | undefined;
  const photos = [...photographs('fsa-owi', 3), ...photographs('documerica', 1)];
  let boxes: { a: Box; b: Box; c: Box; harbour: Box };
  const lines: Box[] = [
    { x: 200, y: 2700, w: 400, h: 40 },
    { x: 200, y: 2780, w: 400, h: 40 },
  ];
  const extra: Box = { x: 1300, y: 300, w: 500, h: 400 };
  const urls = { v3: '', v2: '', page: '', list: '' };
  const canvases = { v3: '', v2: '' };
  const services = { v3: '', v2: '' };
  const config = testHarvestConfig({}, { regions: { maxPerCanvas: 3 } } as never);

  const id = { canvasV3: () => itemIdOf(urls.v3, canvases.v3), canvasV2: () => itemIdOf(urls.v2, canvases.v2) };
  const regionIds = () => ({
    a: regionItemId(id.canvasV3(), boxes.a),
    b: regionItemId(id.canvasV3(), boxes.b),
    c: regionItemId(id.canvasV3(), boxes.c),
    harbour: regionItemId(id.canvasV2(), boxes.harbour),
  });

  const tag = (n: string, box: Box, value: string, motivation = 'tagging') => ({
    id: `${canvases.v3}/annotation/${n}`,
    type: 'Annotation',
    motivation,
    body: { type: 'TextualBody', value, format: 'text/plain', language: 'en' },
    target: `${canvases.v3}#${xywh(box)}`,
  });

  function putV3(inline: object[]): void {
    urls.v3 = inst.putDocument('manifests/daily.json', {
      '@context': P3,
      id: `${inst.baseUrl}/documents/manifests/daily.json`,
      type: 'Manifest',
      label: { en: ['The Daily Reprise, 12 May 1936'] },
      items: [
        {
          id: canvases.v3,
          type: 'Canvas',
          label: { en: ['Page 1'] },
          width: 2400,
          height: 3000,
          items: [
            {
              id: `${canvases.v3}/painting`,
              type: 'AnnotationPage',
              items: [
                {
                  id: `${canvases.v3}/painting/1`,
                  type: 'Annotation',
                  motivation: 'painting',
                  body: {
                    id: `${services.v3}/full/max/0/default.jpg`,
                    type: 'Image',
                    format: 'image/jpeg',
                    width: 2400,
                    height: 3000,
                    service: [{ id: services.v3, type: 'ImageService3', profile: 'level2' }],
                  },
                  target: canvases.v3,
                },
              ],
            },
          ],
          annotations: [
            { id: `${canvases.v3}/tags`, type: 'AnnotationPage', items: inline },
            { id: urls.page, type: 'AnnotationPage' },
          ],
        },
      ],
    });
  }

  function putV2(label: string, resources: object[]): void {
    urls.list = inst.putDocument('lists/harbour.json', { '@context': P2, '@id': `${inst.baseUrl}/documents/lists/harbour.json`, '@type': 'sc:AnnotationList', resources });
    urls.v2 = inst.putDocument('manifests/harbour.json', {
      '@context': P2,
      '@id': `${inst.baseUrl}/documents/manifests/harbour.json`,
      '@type': 'sc:Manifest',
      label,
      sequences: [
        {
          '@type': 'sc:Sequence',
          canvases: [
            {
              '@id': canvases.v2,
              '@type': 'sc:Canvas',
              label: 'p. 1',
              width: 2000,
              height: 2600,
              images: [
                {
                  '@type': 'oa:Annotation',
                  motivation: 'sc:painting',
                  on: canvases.v2,
                  resource: {
                    '@id': `${services.v2}/full/full/0/default.jpg`,
                    '@type': 'dctypes:Image',
                    format: 'image/jpeg',
                    width: 2000,
                    height: 2600,
                    service: { '@context': 'http://iiif.io/api/image/2/context.json', '@id': services.v2, profile: 'http://iiif.io/api/image/2/level2.json' },
                  },
                },
              ],
              otherContent: [{ '@id': urls.list, '@type': 'sc:AnnotationList' }],
            },
          ],
        },
      ],
    });
  }

  const harbourComment = () => ({
    '@id': `${canvases.v2}/comment/1`,
    '@type': 'oa:Annotation',
    motivation: 'oa:commenting',
    resource: { '@type': 'dctypes:Text', format: 'text/html', chars: '<p>Cranes <b>unloading</b> at the harbour</p>' },
    on: `${canvases.v2}#${xywh(boxes.harbour)}`,
  });

  before(async () => {
    dataDir = tempDataDir('reprise-regions-');
    const pageV3 = path.join(dataDir, 'page-v3.jpg');
    const pageV2 = path.join(dataDir, 'page-v2.jpg');
    const [a, b, c] = await printedPage(pageV3, { width: 2400, height: 3000 }, [
      { path: photos[0]!, x: 200, y: 300, width: 1000 },
      { path: photos[1]!, x: 1300, y: 1500, width: 800 },
      // Small on the page: 43 px wide in the 640-px image, so asked from the image service on its own.
      { path: photos[2]!, x: 1900, y: 900, width: 200 },
    ]);
    const [harbour] = await printedPage(pageV2, { width: 2000, height: 2600 }, [{ path: photos[3]!, x: 500, y: 800, width: 900 }]);
    boxes = { a: a!, b: b!, c: c!, harbour: harbour! };
    // Manifest 0: v3 + Image API 3 (the first page); manifest 1: v2 + Image API 2 (the second).
    inst = await createInstitution({ images: [pageV3, pageV2], imagesPerManifest: 1, manifestCount: 2 });
    services.v3 = inst.manifests[0]!.canvases[0]!.serviceUrl!;
    services.v2 = inst.manifests[1]!.canvases[0]!.serviceUrl!;
    assert.match(services.v3, /\/iiif\/3\//);
    assert.match(services.v2, /\/iiif\/2\//);
    canvases.v3 = `${inst.baseUrl}/documents/canvas/daily/p1`;
    canvases.v2 = `${inst.baseUrl}/documents/canvas/harbour/p1`;
    urls.page = inst.putDocument('pages/daily-p1.json', {
      '@context': P3,
      id: `${inst.baseUrl}/documents/pages/daily-p1.json`,
      type: 'AnnotationPage',
      items: [
        {
          id: `${canvases.v3}/comment/1`,
          type: 'Annotation',
          motivation: 'commenting',
          body: { type: 'TextualBody', value: 'Sharecroppers gathered on a porch', format: 'text/plain' },
          target: { type: 'SpecificResource', source: { id: canvases.v3, type: 'Canvas' }, selector: { type: 'FragmentSelector', value: xywh(boxes.b) } },
        },
      ],
    });
    putV3([
      tag('a', boxes.a, 'Migrant workers beside a roadside truck'),
      tag('c', boxes.c, 'Portrait of a farmer in a hat'),
      tag('line-1', lines[0]!, 'column of text', 'supplementing'),
      tag('line-2', lines[1]!, 'another column of text', 'supplementing'),
      { ...tag('bad', boxes.a, 'a box that is no box'), target: `${canvases.v3}#xywh=12,abc,5,5` },
    ]);
    putV2('Harbour pictures, 1972', [harbourComment()]);
  });

  after(async () => {
    await store?.close();
    await encoders?.close();
    await inst?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('without a model stores each region as an item beside its canvas, found by its annotation words; hits and Content Search target canvas#xywh', async () => {
    const bare = await openStore(storeSchema.parse({}), dataDir);
    try {
      const { summary, events } = await harvestOnce(dataDir, [urls.v3, urls.v2], { stage: new MetadataStage(bare), config });
      assert.equal(summary.status, 'completed', JSON.stringify(summary.failures));
      const warnings = events.flatMap((e) => (e.type === 'warning' ? [e.message] : []));
      assert.ok(warnings.some((w) => /unusable target xywh=.*12,abc,5,5.*ignored/.test(w)), warnings.join('\n'));
      assert.ok(warnings.some((w) => /has 5 annotated regions; the largest 3 are indexed \(harvest\.regions\.maxPerCanvas\)/.test(w)), warnings.join('\n'));

      // Two canvases, three regions of the first (the bound keeps the photographs, not the lines), one of the second.
      assert.deepEqual(await bare.stats(), { items: 6, vectors: 0, itemsWithoutVectors: 6 });
      const ids = regionIds();
      const a = await bare.get(ids.a);
      assert.ok(a, 'region item A');
      assert.equal(a.canvasId, canvases.v3);
      assert.equal(a.manifestUrl, urls.v3);
      assert.equal(a.label, 'Migrant workers beside a roadside truck');
      assert.deepEqual((a.record as { region: { box: Box; canvasItemId: string } }).region.box, boxes.a);
      assert.equal((a.record as { region: { canvasItemId: string } }).region.canvasItemId, id.canvasV3());
      assert.ok(await bare.get(ids.b), 'the region of the referenced v3 page');
      for (const line of lines) assert.equal(await bare.get(regionItemId(id.canvasV3(), line)), undefined, 'lines beyond the bound');
      assert.equal((await bare.get(id.canvasV3()))?.label, 'Page 1', 'the canvas keeps its own label');

      const app = express().use('/api', createSearchRouter({ store: bare, config: loadConfig({ env: {}, overrides: { dataDir } }) }));
      // Keyword search finds the v2 region by its (HTML) comment, and the hit points at canvas#xywh.
      const found = await request(app).get('/api/search').query({ q: 'cranes unloading', semanticRatio: 0 }).expect(200);
      const hit = found.body.hits[0];
      assert.equal(hit.id, ids.harbour, JSON.stringify(found.body.hits.map((h: { id: string }) => h.id)));
      assert.deepEqual(hit.region, boxes.harbour);
      assert.equal(hit.target, `${canvases.v2}#${xywh(boxes.harbour)}`);
      assert.equal(hit.regionLabel, 'Cranes unloading at the harbour');
      assert.equal(hit.canvas.id, canvases.v2);
      assert.match(hit.thumbnail, new RegExp(`/iiif/2/.+/${boxes.harbour.x},${boxes.harbour.y},${boxes.harbour.w},${boxes.harbour.h}/`));
      const porch = await request(app).get('/api/search').query({ q: 'sharecroppers porch', semanticRatio: 0 }).expect(200);
      assert.equal(porch.body.hits[0].id, ids.b);

      const details = await request(app).get(`/api/items/${ids.a}`).expect(200);
      assert.equal(details.body.target, `${canvases.v3}#${xywh(boxes.a)}`);

      // Content Search lists the manifest's canvas and its regions, each region targeting canvas#xywh.
      const v2 = await request(app).get(`/api/iiif/search/v2/${manifestKey(`${inst.baseUrl}/documents/manifests/daily.json`)}`).expect(200);
      const targets = v2.body.items.map((i: { target: { id: string } }) => i.target.id);
      assert.ok(targets.includes(`${canvases.v3}#${xywh(boxes.a)}`), targets.join('\n'));
      const regionA = v2.body.items.find((i: { target: { id: string } }) => i.target.id === `${canvases.v3}#${xywh(boxes.a)}`);
      assert.match(regionA.body.value, /Region .* \("Migrant workers beside a roadside truck"\) of canvas "Page 1"/);
      const v1 = await request(app).get(`/api/iiif/search/v1/${manifestKey(`${inst.baseUrl}/documents/manifests/daily.json`)}`).expect(200);
      assert.ok(v1.body.resources.some((r: { on: string }) => r.on === `${canvases.v3}#${xywh(boxes.c)}`));
    } finally {
      await bare.close();
    }
  });

  it('with a model embeds each region from its part of the page, asking the image service for the small one, and image search finds the photograph as a region', async () => {
    encoders = await loadEncoders(modelsSchema.parse({ path: fixture('models', 'mobilenetv2-12-int8'), threads: 1, batchSize: 4 }), dataDir);
    store = await openStore(storeSchema.parse({}), dataDir, { modelId: encoders.config.modelId, dimensions: encoders.config.projectionDim });
    inst.resetStats();
    const { summary } = await harvestOnce(dataDir, [urls.v3, urls.v2], { stage: new EmbeddingStage(encoders, store), config });
    assert.equal(summary.status, 'completed', JSON.stringify(summary.failures));
    assert.deepEqual(await store.stats(), { modelId: encoders.config.modelId, dimensions: encoders.config.projectionDim, items: 6, vectors: 6, itemsWithoutVectors: 0 });
    // Only the small photograph is asked for on its own; the others are cut from the page as fetched.
    const regionRequests = Object.keys(inst.stats.byPath).filter((p) => /^\/iiif\/[23]\/[^/]+\/\d+,\d+,\d+,\d+\//.test(p));
    assert.deepEqual(regionRequests.map((p) => p.split('/')[4]), [`${boxes.c.x},${boxes.c.y},${boxes.c.w},${boxes.c.h}`], Object.keys(inst.stats.byPath).join('\n'));

    const app = express().use('/api', createSearchRouter({ store, encoders, config: loadConfig({ env: {}, overrides: { dataDir } }) }));
    const ids = regionIds();
    for (const [photo, regionId, box, canvas] of [
      [photos[0]!, ids.a, boxes.a, canvases.v3],
      [photos[2]!, ids.c, boxes.c, canvases.v3],
      [photos[3]!, ids.harbour, boxes.harbour, canvases.v2],
    ] as const) {
      const res = await request(app).post('/api/search/image').query({ limit: 3 }).attach('image', readFileSync(photo), 'photo.jpg').expect(200);
      const hit = res.body.hits[0];
      assert.equal(hit.id, regionId, `${path.basename(photo)}: ${JSON.stringify(res.body.hits.map((h: { id: string; score: number }) => [h.id, h.score]))}`);
      assert.equal(hit.target, `${canvas}#${xywh(box)}`);
      assert.deepEqual(hit.region, box);
    }
  });

  it('harvesting again adds nothing; a removed annotation removes its region item and a new one is embedded', async () => {
    const again = await harvestOnce(dataDir, [urls.v3, urls.v2], { stage: new EmbeddingStage(encoders!, store!), config });
    assert.equal(again.summary.images.indexed, 0);
    assert.equal((await store!.stats()).items, 6);

    const ids = regionIds();
    // Tag A removed and a new one added inline; the v2 list loses its comment (its manifest changes too, so it is read again).
    putV3([tag('c', boxes.c, 'Portrait of a farmer in a hat'), tag('extra', extra, 'An empty corner of the page')]);
    putV2('Harbour pictures, 1972 (revised)', []);
    const { summary } = await harvestOnce(dataDir, [urls.v3, urls.v2], { stage: new EmbeddingStage(encoders!, store!), config });
    assert.equal(summary.status, 'completed', JSON.stringify(summary.failures));
    assert.equal(summary.canvases.removed, 0, 'regions removed, no canvas');
    assert.equal(await store!.get(ids.a), undefined, 'the region whose annotation was removed');
    assert.equal(await store!.get(ids.harbour), undefined, 'the region of the emptied v2 list');
    const added = regionItemId(id.canvasV3(), extra);
    assert.equal((await store!.get(added))?.label, 'An empty corner of the page');
    assert.ok((await store!.vectors([added]))[0], 'the new region is embedded');
    const scanned = await store!.scan({ limit: 100, vectors: false });
    assert.deepEqual(scanned.items.map((s) => s.item.id).sort(), [id.canvasV3(), id.canvasV2(), ids.b, ids.c, added].sort());
    assert.equal((await store!.stats()).itemsWithoutVectors, 0);
  });

  it('a referenced page that cannot be read keeps the regions indexed from it; changed words update a region in place', async () => {
    const ids = regionIds();
    const fault = inst.faults.add({ match: '/documents/pages/daily-p1.json', kind: '500', times: Number.POSITIVE_INFINITY });
    try {
      putV3([tag('c', boxes.c, 'Portrait of a farmer in a straw hat'), tag('extra', extra, 'An empty corner of the page')]);
      const { summary, events } = await harvestOnce(dataDir, [urls.v3], { stage: new EmbeddingStage(encoders!, store!), config });
      assert.equal(summary.images.indexed, 0, 'nothing embedded again');
      assert.ok(events.some((e) => e.type === 'warning' && /could not read this annotation page .*keep the regions indexed before/.test(e.message)));
    } finally {
      fault.remove();
    }
    assert.ok(await store!.get(ids.b), 'the region of the unreadable page stays');
    assert.equal((await store!.get(ids.c))?.label, 'Portrait of a farmer in a straw hat');
    assert.ok((await store!.vectors([ids.c]))[0], 'and keeps its vector');
  });
});
