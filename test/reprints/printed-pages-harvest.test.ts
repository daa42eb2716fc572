import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { FeatureStage } from '../../harvester/feature-stage.ts';
import { openReprintIndex } from '../../reprints/index.ts';
import { RecordingStage } from '../../harvester/recording-stage.ts';
import { itemIdOf } from '../../harvester/util/hash.ts';
import { DEFAULT_MIN_INLIERS } from '../../reprints/features/index.ts';
import { extractViews } from '../../reprints/features/views.ts';
import { ReprintService } from '../../reprints/index.ts';
import { rng } from '../bench/reprints-degrade.ts';
import { printPage, type PrintedPage } from '../bench/reprints-pages.ts';
import { harvestOnce, tempDataDir } from '../support/harvest-harness.ts';
import { createInstitution, type Institution } from '../support/institution/index.ts';
import { bytesOf, iou, requireLocalFeatures } from './support.ts';

const PHOTOS = [
  ['fsa-owi', 'LC-USF33-003470.jpg'],
  ['documerica', '548696.jpg'],
] as const;

/**
 * Pages in the index: newspaper pages served by the loopback institution (Image API 3 and 2,
 * level 0, plain files), harvested at the embedding size with the feature stage, which asks for
 * the larger detail image: the photographs printed on the pages then find the pages.
 */
describe('reprints: harvesting printed pages at the size their photographs need', function () {
  requireLocalFeatures(this);
  this.timeout(180_000);
  let inst: Institution;
  let dataDir: string;
  const pages: PrintedPage[] = [];

  before(async () => {
    dataDir = tempDataDir('reprise-reprints-pages-');
    const files = [];
    for (const [n, photo] of PHOTOS.entries()) {
      const page = await printPage('newspaper', [{ id: photo.join('/'), bytes: bytesOf(...photo) }], rng(40 + n));
      pages.push(page);
      const file = path.join(dataDir, `page-${n}.jpg`);
      writeFileSync(file, page.bytes);
      files.push(file);
    }
    // Manifests 0–5: Image API 3 and 2, level 0 (v3, v2), plain files (v3, v2); page n on manifests n, n + 2, n + 4.
    inst = await createInstitution({ images: files, imagesPerManifest: 1, manifestCount: 6 });
  });
  after(async () => {
    await inst?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('fetches the detail image beside the embedding one, indexes the photographs on each page, and finds each page from its photograph', async () => {
    const index = openReprintIndex(dataDir);
    const recording = new RecordingStage();
    try {
      const { summary } = await harvestOnce(dataDir, [inst.rootCollectionUrl], { stage: new FeatureStage(recording, index) });
      assert.equal(summary.status, 'completed', JSON.stringify(summary.failures));
      const detailRequests = Object.keys(inst.stats.byPath).filter((p) => /\/iiif\/[23]\/.+\/full\/(max|full|!2000,2000)\//.test(p));
      assert.equal(detailRequests.length, 2, Object.keys(inst.stats.byPath).join('\n'));
      const service = new ReprintService(index);
      for (const manifest of inst.manifests) {
        const canvas = manifest.canvases[0]!;
        const id = itemIdOf(manifest.url, canvas.id);
        // The embedding stage still gets the image at the harvest size…
        assert.ok(Math.max(recording.items.get(id)!.width, recording.items.get(id)!.height) <= 640, manifest.imageMode);
        // …and the reprint index the page's photograph as a part of its own.
        assert.ok(index.docsOf(id).length >= 2, `${manifest.imageMode}: ${index.docsOf(id).length} entries`);
      }
      for (const [n, photo] of PHOTOS.entries()) {
        const hits = service.searchViews((await extractViews(bytesOf(...photo))).views);
        const holding = inst.manifests.filter((_, m) => m % 2 === n).map((m) => itemIdOf(m.url, m.canvases[0]!.id));
        assert.deepEqual(
          hits.filter((h) => h.inliers >= DEFAULT_MIN_INLIERS).map((h) => h.id).sort(),
          [...holding].sort(),
          JSON.stringify(hits.map((h) => [h.id, h.inliers])),
        );
        // Canvases are the pages' pixel size: the region is where the photograph was printed.
        for (const h of hits) assert.ok(iou(h.region, pages[n]!.photos[0]!.box) >= 0.5, `${JSON.stringify(h.region)} vs ${JSON.stringify(pages[n]!.photos[0]!.box)}`);
      }
    } finally {
      index.close();
    }
  });

  it('assembles the detail image from regions when the server caps its responses below it', async () => {
    // Image API 3 and 2 servers that answer at most 1,000 px wide (maxWidth in info.json).
    const capped = await createInstitution({ images: [path.join(dataDir, 'page-0.jpg')], imagesPerManifest: 1, manifestCount: 2, imageApiMaxWidth: 1000 });
    const dir = tempDataDir('reprise-reprints-capped-');
    const index = openReprintIndex(dir);
    try {
      const { summary } = await harvestOnce(dir, [capped.rootCollectionUrl], { stage: new FeatureStage(new RecordingStage(), index) });
      assert.equal(summary.status, 'completed', JSON.stringify(summary.failures));
      const regionRequests = Object.keys(capped.stats.byPath).filter((p) => /\/iiif\/[23]\/[^/]+\/\d+,\d+,\d+,\d+\//.test(p));
      // A 2,000-px page under a 1,000-px cap: two regions across, two down, per service.
      assert.equal(regionRequests.length, 8, Object.keys(capped.stats.byPath).join('\n'));
      const hits = new ReprintService(index).searchViews((await extractViews(bytesOf(...PHOTOS[0]))).views);
      assert.deepEqual(hits.filter((h) => h.inliers >= DEFAULT_MIN_INLIERS).map((h) => h.id).sort(), capped.manifests.map((m) => itemIdOf(m.url, m.canvases[0]!.id)).sort());
      for (const h of hits) assert.ok(iou(h.region, pages[0]!.photos[0]!.box) >= 0.5, JSON.stringify(h.region));
    } finally {
      index.close();
      await capped.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
