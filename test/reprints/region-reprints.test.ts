/**
 * Reprint features per region item: a printed page (real photographs on paper) served by the
 * loopback institution's Image API 3, described by a manifest of our own whose annotations box the
 * photographs, beside one of the photographs on a canvas of its own; harvested with the feature
 * stage (no model), then asked through the router's reprint routes.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import express from 'express';
import sharp from 'sharp';
import { loadConfig } from '../../config/index.ts';
import { storeSchema } from '../../config/schema.ts';
import { FeatureStage } from '../../harvester/feature-stage.ts';
import { MetadataStage } from '../../harvester/metadata-stage.ts';
import { regionItemId } from '../../harvester/region-items.ts';
import { itemIdOf } from '../../harvester/util/hash.ts';
import { createSearchRouter } from '../../plugin/index.ts';
import { openReprintIndex, ReprintService, type ReprintIndex } from '../../reprints/index.ts';
import { openStore, type VectorStore } from '../../store/index.ts';
import { request } from '../plugin/supertest.ts';
import { harvestOnce, photographs, tempDataDir, testHarvestConfig } from '../support/harvest-harness.ts';
import { createInstitution, type Institution } from '../support/institution/index.ts';
import { iou, requireLocalFeatures } from './support.ts';

type Box = { x: number; y: number; w: number; h: number };
type Hit = { id: string; canvas: { id: string; label?: string }; region: Box; target?: string; regionLabel?: string; queryRegion: Box; inliers: number };
type Group = { size: number; members: Array<{ id: string; region: Box; target?: string; regionLabel?: string }>; pairs: Array<{ a: string; b: string }> };

const P3 = 'http://iiif.io/api/presentation/3/context.json';
const xywh = (b: Box) => `xywh=${b.x},${b.y},${b.w},${b.h}`;

describe('reprints: region items get features of their own, and hits on them point at canvas#xywh', function () {
  requireLocalFeatures(this);
  this.timeout(240_000);

  let inst: Institution;
  let dataDir: string;
  let store: VectorStore;
  let index: ReprintIndex;
  let app: express.Express;
  const photos = photographs('fsa-owi', 2);
  const boxes: { a?: Box; b?: Box } = {};
  const urls = { page: '', photo: '' };
  let pageCanvas = '';
  let pageService = '';
  let photoCanvasItem = '';
  const config = testHarvestConfig();

  const pageItem = () => itemIdOf(urls.page, pageCanvas);
  const regionA = () => regionItemId(pageItem(), boxes.a!);
  const regionB = () => regionItemId(pageItem(), boxes.b!);
  const tag = (n: string, box: Box, value: string) => ({
    id: `${pageCanvas}/annotation/${n}`,
    type: 'Annotation',
    motivation: 'tagging',
    body: { type: 'TextualBody', value, format: 'text/plain' },
    target: `${pageCanvas}#${xywh(box)}`,
  });

  function putPage(annotations: object[]): void {
    urls.page = inst.putDocument('manifests/daily.json', {
      '@context': P3,
      id: `${inst.baseUrl}/documents/manifests/daily.json`,
      type: 'Manifest',
      label: { en: ['The Daily Reprise'] },
      items: [
        {
          id: pageCanvas,
          type: 'Canvas',
          label: { en: ['Page 1'] },
          width: 2400,
          height: 3000,
          items: [
            {
              id: `${pageCanvas}/painting`,
              type: 'AnnotationPage',
              items: [
                {
                  id: `${pageCanvas}/painting/1`,
                  type: 'Annotation',
                  motivation: 'painting',
                  body: { id: `${pageService}/full/max/0/default.jpg`, type: 'Image', format: 'image/jpeg', width: 2400, height: 3000, service: [{ id: pageService, type: 'ImageService3', profile: 'level2' }] },
                  target: pageCanvas,
                },
              ],
            },
          ],
          annotations: [{ id: `${pageCanvas}/tags`, type: 'AnnotationPage', items: annotations }],
        },
      ],
    });
  }

  const harvest = async () => {
    const { summary } = await harvestOnce(dataDir, [urls.page, urls.photo], { stage: new FeatureStage(new MetadataStage(store), index), config });
    assert.equal(summary.status, 'completed', JSON.stringify(summary.failures));
    return summary;
  };

  before(async () => {
    dataDir = tempDataDir('reprise-region-reprints-');
    const page = path.join(dataDir, 'page.jpg');
    const layers = [];
    for (const [i, p] of [{ x: 200, y: 300, width: 1000 }, { x: 1300, y: 1500, width: 800 }].entries()) {
      const input = await sharp(photos[i]!).resize({ width: p.width }).toBuffer();
      const { height } = await sharp(input).metadata();
      boxes[i ? 'b' : 'a'] = { x: p.x, y: p.y, w: p.width, h: height! };
      layers.push({ input, left: p.x, top: p.y });
    }
    await sharp({ create: { width: 2400, height: 3000, channels: 3, background: '#efe9dc' } }).composite(layers).jpeg({ quality: 90 }).toFile(page);
    // Manifest 0 serves the page (Image API 3, described by our manifest); manifest 1 is the first photograph on a canvas of its own.
    inst = await createInstitution({ images: [page, photos[0]!], imagesPerManifest: 1, manifestCount: 2 });
    pageService = inst.manifests[0]!.canvases[0]!.serviceUrl!;
    pageCanvas = `${inst.baseUrl}/documents/canvas/daily/p1`;
    urls.photo = inst.manifests[1]!.url;
    photoCanvasItem = itemIdOf(urls.photo, inst.manifests[1]!.canvases[0]!.id);
    putPage([tag('a', boxes.a!, 'Migrant workers beside a roadside truck'), tag('b', boxes.b!, 'A second photograph')]);
    store = await openStore(storeSchema.parse({}), dataDir);
    index = openReprintIndex(dataDir);
    app = express().use('/api', createSearchRouter({ store, config: loadConfig({ env: {}, overrides: { dataDir } }), reprints: new ReprintService(index) }));
  });

  after(async () => {
    index?.close();
    await store?.close();
    await inst?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('indexes each region item under its id, from the detail image cut to its box, and a photograph finds the region of the page that printed it', async () => {
    await harvest();
    for (const [id, box] of [
      [regionA(), boxes.a!],
      [regionB(), boxes.b!],
    ] as const) {
      const image = index.image(id);
      assert.ok(image, `region item ${id} in the reprint index`);
      assert.deepEqual(image.item.region?.box, box);
      assert.equal(image.item.region?.canvasItemId, pageItem());
      assert.equal(image.empty, undefined, 'the region has features');
      // Cut from the 2,000-px detail image (2/3 of the page's pixels), not from the 640-px one.
      const width = index.frame(image.doc)!.sourceWidth;
      assert.ok(Math.abs(width - (box.w * 2) / 3) <= 2, `${width} px`);
    }

    const res = await request(app).post('/api/reprints').attach('image', readFileSync(photos[0]!), 'photo.jpg').expect(200);
    const hits = res.body.hits as Hit[];
    const hit = hits.find((h) => h.id === regionA());
    assert.ok(hit, JSON.stringify(hits.map((h) => [h.id, h.inliers])));
    assert.equal(hit.canvas.id, pageCanvas);
    assert.equal(hit.target, `${pageCanvas}#${xywh(boxes.a!)}`);
    assert.equal(hit.regionLabel, 'Migrant workers beside a roadside truck');
    // Where it matched, in the page canvas's coordinates.
    assert.ok(iou(hit.region, boxes.a!) >= 0.8, `${JSON.stringify(hit.region)} vs ${JSON.stringify(boxes.a)}`);
    assert.ok(!hits.some((h) => h.id === regionB()), 'the other photograph on the page is no reprint of it');
    // A canvas hit carries no target: its region says where.
    assert.equal(hits.find((h) => h.id === photoCanvasItem)?.target, undefined);
  });

  it('never reports a canvas and its own region item as reprints of each other', async () => {
    const ofPage = (await request(app).post('/api/reprints').send({ item: pageItem() }).expect(200)).body.hits as Hit[];
    assert.deepEqual(ofPage.map((h) => h.id), [photoCanvasItem], JSON.stringify(ofPage.map((h) => [h.id, h.inliers])));
    const ofRegion = (await request(app).post('/api/reprints').send({ item: regionA() }).expect(200)).body;
    assert.deepEqual((ofRegion.hits as Hit[]).map((h) => h.id), [photoCanvasItem]);
    assert.equal(ofRegion.queryCanvas, pageCanvas);
    // The query's matched part in the page canvas's coordinates, too.
    assert.ok(iou((ofRegion.hits as Hit[])[0]!.queryRegion, boxes.a!) >= 0.8, JSON.stringify((ofRegion.hits as Hit[])[0]!.queryRegion));

    // The comparison after the harvest paired neither region with its page, and the region with the photograph.
    const [pageDoc, aDoc, bDoc, photoDoc] = [pageItem(), regionA(), regionB(), photoCanvasItem].map((id) => index.image(id)!.doc);
    const pairs = index.pairs().map((p) => [p.a, p.b].sort().join(':'));
    for (const region of [aDoc, bDoc]) assert.ok(!pairs.includes([pageDoc, region].sort().join(':')), JSON.stringify(pairs));
    assert.ok(pairs.includes([aDoc, photoDoc].sort().join(':')), JSON.stringify(pairs));

    // One group: the photograph and the region of the page, the page counted once (as its region).
    const groups = (await request(app).get('/api/reprints/groups').expect(200)).body.groups as Group[];
    assert.equal(groups.length, 1, JSON.stringify(groups));
    const group = groups[0]!;
    assert.deepEqual(group.members.map((m) => m.id).sort(), [photoCanvasItem, regionA()].sort());
    assert.equal(group.size, 2);
    assert.ok(!group.pairs.some((p) => [p.a, p.b].includes(pageItem())), JSON.stringify(group.pairs));
    const member = group.members.find((m) => m.id === regionA())!;
    assert.equal(member.target, `${pageCanvas}#${xywh(boxes.a!)}`);
    assert.equal(member.regionLabel, 'Migrant workers beside a roadside truck');
    assert.ok(iou(member.region, boxes.a!) >= 0.8, JSON.stringify(member.region));

    // The other printings of the page, and of its region: the photograph alone.
    for (const id of [pageItem(), regionA()]) {
      const printings = (await request(app).get(`/api/items/${encodeURIComponent(id)}/reprints`).expect(200)).body;
      assert.deepEqual(printings.printings.map((p: { id: string }) => p.id), [photoCanvasItem], `${id}: ${JSON.stringify(printings)}`);
    }
  });

  it('harvesting again extracts nothing; an annotation removed removes its region item from the reprint index', async () => {
    const doc = index.image(regionA())!.doc;
    const again = await harvest();
    assert.equal(again.images.indexed, 0);
    assert.equal(index.image(regionA())?.doc, doc, 'the same entry, not extracted again');

    putPage([tag('b', boxes.b!, 'A second photograph')]);
    await harvest();
    assert.equal(index.has(regionA()), false);
    assert.deepEqual(index.docsOf(regionA()), []);
    // The other region stays, its place on the canvas kept through the page's metadata update.
    assert.deepEqual(index.image(regionB())?.item.region?.box, boxes.b);
    const hits = (await request(app).post('/api/reprints').attach('image', readFileSync(photos[0]!), 'photo.jpg').expect(200)).body.hits as Hit[];
    assert.ok(!hits.some((h) => h.id === regionA()), JSON.stringify(hits.map((h) => h.id)));
    const groups = (await request(app).get('/api/reprints/groups').expect(200)).body.groups as Group[];
    assert.deepEqual(groups[0]?.members.map((m) => m.id).sort(), [photoCanvasItem, pageItem()].sort(), 'the page is the photograph\'s printing again');
  });
});
