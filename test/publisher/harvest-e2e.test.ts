import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { requireFixtures } from '../support/fixtures.ts';
import { harvestOnce, openJournal, tempDataDir } from '../support/harvest-harness.ts';
import { ARCHIVE_IMAGES, makeArchive, type Archive } from './archive.ts';
import { startPublisher, type RunningPublisher } from '../../cli/commands/publish.ts';
import { itemIdOf } from '../../harvester/util/hash.ts';

describe('publisher end to end: publish a folder on loopback, harvest it', function () {
  requireFixtures(this);
  this.timeout(120_000);
  let archive: Archive;
  let running: RunningPublisher;

  before(async () => {
    archive = makeArchive();
    running = await startPublisher(archive.dir, { host: '127.0.0.1', port: 0 });
  });
  after(async () => {
    await running?.close();
    archive?.remove();
  });

  it('the harvester walks the collection and records every image, once, with its canvas and folder', async () => {
    const dataDir = tempDataDir('reprise-publish-harvest-');
    const { summary, stage } = await harvestOnce(dataDir, [running.collectionUrl]);
    assert.equal(summary.status, 'completed', JSON.stringify(summary.failures));
    assert.equal(summary.images.indexed, ARCHIVE_IMAGES.length);
    assert.equal(summary.images.failed, 0);
    assert.equal(summary.manifests.new, 4, 'the top folder, letters, letters/1901 and photos');
    assert.equal(stage.items.size, ARCHIVE_IMAGES.length);

    const byFile = new Map<string, { width: number; height: number; manifest: string; label: string; path: string[] }>();
    for (const item of stage.items.values()) {
      const file = Object.values(item.record.metadata.find((m) => Object.values(m.label).flat()[0] === 'File')!.value).flat()[0]!;
      byFile.set(file, {
        width: item.width,
        height: item.height,
        manifest: Object.values(item.record.manifestLabel).flat()[0]!,
        label: Object.values(item.record.label).flat()[0]!,
        path: item.record.collectionPath,
      });
      assert.equal(itemIdOf(item.record.manifestUrl, item.record.canvasId), item.itemId);
      assert.match(item.record.imageUrl, /^http:\/\/127\.0\.0\.1:\d+\/iiif\/3\/[^/]+\/full\/(max|!640,640)\/0\/default\.jpg$/);
    }
    assert.deepEqual([...byFile.keys()].sort(), [...ARCHIVE_IMAGES].sort());
    assert.deepEqual(byFile.get('Landscape_6.jpg')!, { width: 600, height: 450, manifest: 'archive', label: 'Landscape_6', path: ['archive'] });
    assert.equal(byFile.get('letters/1901/kids.jpg')!.manifest, '1901');
    assert.deepEqual(byFile.get('letters/1901/kids.jpg')!.path, ['archive', 'letters']);
    assert.equal(byFile.get('letters/page 10.jpg')!.label, 'page 10');

    const journal = openJournal(dataDir);
    assert.deepEqual(journal.counts(), { pending: 0, fetched: 0, indexed: ARCHIVE_IMAGES.length, failed: 0 });
    journal.close();
    // The recording stage wrote one line per image indexed, none twice.
    const lines = readFileSync(path.join(dataDir, 'recorded-items.jsonl'), 'utf8').trim().split('\n');
    assert.equal(lines.length, ARCHIVE_IMAGES.length);

    // A second run finds nothing changed: conditional requests, no image downloaded.
    const again = await harvestOnce(dataDir, [running.collectionUrl], { stage });
    assert.equal(again.summary.images.downloaded, 0);
    assert.equal(again.summary.manifests.unchanged, 4);
  });

  it('with a manifest per image, the harvester records every image under its own manifest', async () => {
    const perImage = await startPublisher(archive.dir, { host: '127.0.0.1', port: 0, manifestPer: 'image' });
    try {
      const dataDir = tempDataDir('reprise-publish-harvest-');
      const { summary, stage } = await harvestOnce(dataDir, [perImage.collectionUrl]);
      assert.equal(summary.status, 'completed', JSON.stringify(summary.failures));
      assert.equal(summary.manifests.new, ARCHIVE_IMAGES.length);
      assert.equal(stage.items.size, ARCHIVE_IMAGES.length);
      const labels = [...stage.items.values()].map((i) => [Object.values(i.record.manifestLabel).flat()[0], Object.values(i.record.label).flat()[0]]);
      for (const [manifest, canvas] of labels) assert.equal(manifest, canvas, 'the manifest is the image');
      const kids = [...stage.items.values()].find((i) => i.record.manifestUrl.endsWith('/iiif/image-manifest/letters%2F1901%2Fkids.jpg.json'));
      assert.deepEqual(kids?.record.collectionPath, ['archive', 'letters', '1901']);
    } finally {
      await perImage.close();
    }
  });
});
