import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import sharp from 'sharp';
import { FeatureStage } from '../../harvester/feature-stage.ts';
import type { HarvestedItem, IndexedRecord, IndexStage, StageOutcome } from '../../harvester/stage.ts';
import { DEFAULT_MIN_INLIERS, extractFeatures, type Rect } from '../../reprints/features/index.ts';
import { localFeatures } from '../../reprints/features/native.ts';
import { pageRegions } from '../../reprints/features/page-regions.ts';
import { extractViews } from '../../reprints/features/views.ts';
import { openReprintIndex, reprintEntries, ReprintService } from '../../reprints/index.ts';
import { partId } from '../../reprints/reprint-index/index.ts';
import { degrade, rng } from '../bench/reprints-degrade.ts';
import { printPage, type PrintedPage } from '../bench/reprints-pages.ts';
import { bytesOf, featuresOf, iou, requireLocalFeatures, tempDir } from './support.ts';

const PRINTED = [
  ['fsa-owi', 'LC-USF33-003470.jpg'],
  ['documerica', '548696.jpg'],
] as const;
const OTHERS = [
  ['fsa-owi', 'LC-USE6-D-000247.jpg'],
  ['met', '10186.jpg'],
  ['genthe-loc', 'kids.jpg'],
] as const;
const idOf = (p: readonly [string, string]) => `${p[0]}/${p[1]}`;

/** An inner stage that accepts everything. */
class AcceptAll implements IndexStage {
  readonly id = 'accept';
  async index(items: HarvestedItem[]): Promise<StageOutcome[]> {
    return items.map((i) => ({ itemId: i.itemId, ok: true as const }));
  }
  async updateMetadata(): Promise<void> {}
  async remove(): Promise<void> {}
  async close(): Promise<void> {}
}

const greyOf = async (bytes: Buffer, side = 1600) => {
  const { data, info } = await sharp(bytes).greyscale().resize(side, side, { fit: 'inside' }).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  return { gray: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
};

describe('reprints: photographs printed in newspaper and book pages', function () {
  requireLocalFeatures(this);
  this.timeout(120_000);
  let newspaper: PrintedPage;
  let book: PrintedPage;
  let textOnly: PrintedPage;
  const dirs: string[] = [];

  before(async () => {
    // A newspaper page with both photographs at about a quarter and a third of its width, a book page with one, a page of text alone.
    newspaper = await printPage('newspaper', PRINTED.map((p) => ({ id: idOf(p), bytes: bytesOf(...p) })), rng(11));
    book = await printPage('book', [{ id: idOf(PRINTED[0]), bytes: bytesOf(...PRINTED[0]) }], rng(12));
    textOnly = await printPage('newspaper', [], rng(13));
  });
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('finds the pictures among the text columns, and none on a page of text', async () => {
    for (const page of [newspaper, book]) {
      const { gray, width, height } = await greyOf(page.bytes);
      const s = page.width / width;
      const regions = pageRegions(gray, width, height).map((r) => ({ x: r.x * s, y: r.y * s, w: r.w * s, h: r.h * s }));
      // A region holds the photograph (nearly) whole, and not much of the page around it: boxes are cut from blocks of text lines.
      const holds = (r: Rect, b: Rect) => iou(r, b) * (r.w * r.h + b.w * b.h) / (1 + iou(r, b)) >= 0.9 * b.w * b.h && r.w * r.h <= 4 * b.w * b.h;
      for (const photo of page.photos) assert.ok(regions.some((r) => holds(r, photo.box)), `${page.kind}: ${photo.id} at ${JSON.stringify(photo.box)}, regions ${JSON.stringify(regions)}`);
    }
    const { gray, width, height } = await greyOf(textOnly.bytes);
    assert.deepEqual(pageRegions(gray, width, height), []);
  });

  it('blurs a halftone screen away, tuned to its period, and leaves a photograph alone', async () => {
    const screened = await degrade(bytesOf(...PRINTED[0]), 0.9, ['halftone', 'greyscale'], rng(3));
    const { gray, width, height } = await greyOf(screened.bytes, 800);
    const before = gray.slice();
    const found = localFeatures().descreen(gray, width, height);
    // The screen's cell is 5.65 px at intensity 0.9; its dot pattern shows at the cell over 1 or 2 (or √2).
    assert.ok(found.period > 2 && found.period < 6 && found.sigma > 1, JSON.stringify(found));
    assert.notDeepEqual(gray, before);
    const photo = await greyOf(bytesOf('fsa-owi', 'LC-USE6-D-000247.jpg'), 800);
    const untouched = photo.gray.slice();
    assert.equal(localFeatures().descreen(photo.gray, photo.width, photo.height).sigma, 0);
    assert.deepEqual(photo.gray, untouched);
  });

  it('searches a page for the photographs printed on it and says where each is on the page', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const index = openReprintIndex(dir);
    for (const p of [...PRINTED, ...OTHERS]) index.upsert([{ id: idOf(p), item: { label: idOf(p) }, features: await featuresOf(...p) }]);
    const service = new ReprintService(index);
    for (const page of [newspaper, book]) {
      const { views } = await extractViews(page.bytes);
      assert.ok(views.length > page.photos.length, `${views.length} views for ${page.photos.length} photographs`);
      const hits = service.searchViews(views);
      for (const photo of page.photos) {
        const hit = hits.find((h) => h.id === photo.id);
        assert.ok(hit && hit.inliers >= DEFAULT_MIN_INLIERS, `${page.kind}: ${photo.id} ${hit?.inliers ?? 0} inliers`);
        assert.ok(iou(hit.queryRegion, photo.box) >= 0.5, `${photo.id} at ${JSON.stringify(hit.queryRegion)}, printed at ${JSON.stringify(photo.box)}`);
      }
      assert.deepEqual(hits.filter((h) => !page.photos.some((p) => p.id === h.id)), []);
    }
    index.close();
  });

  it('indexes a harvested page with its pictures as parts: a photograph finds the page, its region on the canvas, and the page goes with its parts', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const index = openReprintIndex(dir);
    const stage = new FeatureStage(new AcceptAll(), index);
    // The canvas is twice the delivered page: regions come back in canvas coordinates.
    const record = { canvasId: 'https://example.org/canvas/page-1', index: 0, width: newspaper.width * 2, height: newspaper.height * 2, manifestId: 'https://example.org/m', manifestLabel: { en: ['A newspaper'] }, label: { en: ['p. 1'] }, metadata: [], image: { url: 'https://example.org/page-1.jpg' }, alternatives: [], manifestUrl: 'https://example.org/m', sourceUrl: 'https://example.org/m', collectionPath: [], imageUrl: 'https://example.org/page-1/!640,640.jpg' } as unknown as IndexedRecord;
    const small = await sharp(newspaper.bytes).resize(640, 640, { fit: 'inside' }).jpeg().toBuffer();
    const meta = await sharp(small).metadata();
    const item: HarvestedItem = {
      itemId: 'page-1',
      record,
      image: { data: Buffer.alloc(meta.width! * meta.height! * 3), width: meta.width!, height: meta.height!, channels: 3, sourceWidth: meta.width!, sourceHeight: meta.height! },
      bytes: small,
      imageHash: 'h',
      detail: newspaper.bytes,
    };
    assert.equal(stage.detailSide, 2000);
    assert.deepEqual(await stage.index([item]), [{ itemId: 'page-1', ok: true }]);
    const parts = index.docsOf('page-1');
    assert.ok(parts.length >= 1 + newspaper.photos.length, `${parts.length} entries`);
    assert.equal(index.image(partId('page-1', 0))!.item.partOf, 'page-1');
    for (const p of OTHERS) index.upsert([{ id: idOf(p), item: { label: idOf(p) }, features: await featuresOf(...p) }]);
    const service = new ReprintService(index);
    for (const photo of newspaper.photos) {
      const hits = service.searchViews((await extractViews(bytesOf(...(photo.id.split('/') as [string, string])))).views);
      assert.equal(hits[0]?.id, 'page-1', `${photo.id}: ${JSON.stringify(hits.map((h) => [h.id, h.inliers]))}`);
      assert.ok(hits[0]!.inliers >= DEFAULT_MIN_INLIERS);
      assert.equal(hits[0]!.item.partOf, undefined);
      const onCanvas = { x: photo.box.x * 2, y: photo.box.y * 2, w: photo.box.w * 2, h: photo.box.h * 2 };
      assert.ok(iou(hits[0]!.region, onCanvas) >= 0.5, `${JSON.stringify(hits[0]!.region)} vs ${JSON.stringify(onCanvas)}`);
      assert.equal(hits.filter((h) => h.id === 'page-1').length, 1);
    }
    // Without the detail image, the 640-px page alone: the photographs are too small to be found.
    const plain = openReprintIndex(tempDir());
    plain.upsert(reprintEntries('page-640', { label: 'p' }, [await extractFeatures(small)]));
    const missed = new ReprintService(plain).search(await featuresOf(...PRINTED[0]));
    assert.equal(missed.filter((h) => h.inliers >= DEFAULT_MIN_INLIERS).length, 0, 'the 640-px page alone was enough: the test proves nothing');
    plain.close();

    // The collection-wide scan pairs the page with the photographs, never with its own parts.
    for (const p of PRINTED) index.upsert([{ id: idOf(p), item: { label: idOf(p) }, features: await featuresOf(...p) }]);
    service.scan();
    const groups = service.groups();
    for (const p of PRINTED) assert.ok(groups.some((g) => g.members.some((m) => m.id === 'page-1') && g.members.some((m) => m.id === idOf(p))), JSON.stringify(groups));
    for (const g of groups) assert.equal(new Set(g.members.map((m) => m.id)).size, g.members.length, 'a page appears once in a group');
    assert.ok(groups.every((g) => g.members.every((m) => !m.id.includes('#'))));
    // A searched item excludes its own parts.
    assert.ok(service.searchItem('page-1').every((h) => h.id !== 'page-1'));

    // Indexed again, the page's parts are replaced, not added; removed, they go with it.
    await stage.index([item]);
    assert.deepEqual(index.docsOf('page-1').length, parts.length);
    await stage.remove(['page-1']);
    assert.deepEqual(index.docsOf('page-1'), []);
    assert.equal(index.image(partId('page-1', 0)), undefined);
    index.close();
  });
});

