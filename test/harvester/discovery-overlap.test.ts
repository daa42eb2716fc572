import assert from 'node:assert/strict';
import { createInstitution } from '../support/institution/index.ts';
import type { Institution, ManifestInfo } from '../support/institution/types.ts';
import { requireFixtures } from '../support/fixtures.ts';
import { harvestOnce, openJournal, photographs, tempDataDir, testHarvestConfig } from '../support/harvest-harness.ts';
import type { HarvestEvent } from '../../harvester/events.ts';

const pathOf = (url: string) => new URL(url).pathname;
/** The requests for one canvas's image, whatever size or service URL the harvester asks for. */
const imagePathOf = (m: ManifestInfo, canvas: number) => pathOf(m.canvases[canvas]!.serviceUrl ?? m.canvases[canvas]!.imageUrl);
const indexedIds = (events: HarvestEvent[]) => events.flatMap((e) => (e.type === 'image' && e.status === 'indexed' ? [e.itemId] : []));
const position = (events: HarvestEvent[], test: (e: HarvestEvent) => boolean) => events.findIndex(test);

describe('harvest: images start while discovery still reads manifests', function () {
  requireFixtures(this);
  this.timeout(120_000);

  let inst: Institution;
  let canvases: number;
  beforeEach(async () => {
    inst = await createInstitution({ images: [...photographs('fsa-owi', 6), ...photographs('documerica', 6)], imagesPerManifest: 2 });
    canvases = inst.manifests.reduce((n, m) => n + m.canvases.length, 0);
  });
  afterEach(async () => inst?.close());

  /** The last manifest answers only after a timeout and a retry: discovery is held up for seconds. */
  const holdLastManifest = () => {
    const slow = inst.manifests.at(-1)!;
    inst.faults.add({ match: pathOf(slow.url), kind: 'hang', times: 1 });
    return slow;
  };

  it("indexes the canvases of settled manifests before discovery has read the last one, each canvas once", async () => {
    const slow = holdLastManifest();
    const config = testHarvestConfig({}, { batchSize: 2 });
    const { summary, events } = await harvestOnce(tempDataDir(), [inst.rootCollectionUrl], { config });
    assert.equal(summary.status, 'completed', JSON.stringify(summary.failures));
    const slowRead = position(events, (e) => e.type === 'document' && e.url === slow.url && e.status === 'new');
    const firstIndexed = position(events, (e) => e.type === 'image' && e.status === 'indexed');
    assert.ok(slowRead > 0, 'the held manifest was read in the end');
    assert.ok(firstIndexed >= 0 && firstIndexed < slowRead, `first image indexed at event ${firstIndexed}, the held manifest read at ${slowRead}`);
    const indexed = indexedIds(events);
    assert.equal(indexed.length, canvases);
    assert.equal(new Set(indexed).size, canvases, 'no canvas indexed twice');
    assert.equal(inst.stats.imageRequests, canvases, 'no image fetched twice');
    const queued = events.find((e) => e.type === 'images-queued');
    assert.deepEqual(queued, { type: 'images-queued', total: canvases }, 'the total counts the images started during discovery');
  });

  it('indexes a batch that has not filled when nothing more arrives for a while, long before the held manifest is read', async () => {
    const slow = inst.manifests.at(-1)!;
    // Held three times (4 s each, then the retries' back-off): more than ten seconds.
    inst.faults.add({ match: pathOf(slow.url), kind: 'hang', times: 3 });
    // The default batch (16) is more than the canvases of the settled manifests: it never fills before the end.
    const config = testHarvestConfig({ totalTimeoutMs: 4000, retries: 4 });
    assert.ok(config.batchSize > canvases - slow.canvases.length);
    const started = Date.now();
    let firstIndexedAt: number | undefined;
    const onEvent = (e: HarvestEvent) => {
      if (e.type === 'image' && e.status === 'indexed') firstIndexedAt ??= Date.now() - started;
    };
    const { summary, events } = await harvestOnce(tempDataDir(), [inst.rootCollectionUrl], { config, onEvent });
    assert.equal(summary.status, 'completed', JSON.stringify(summary.failures));
    const slowRead = position(events, (e) => e.type === 'document' && e.url === slow.url && e.status === 'new');
    const firstIndexed = position(events, (e) => e.type === 'image' && e.status === 'indexed');
    assert.ok(firstIndexed >= 0 && firstIndexed < slowRead, `first image indexed at event ${firstIndexed}, the held manifest read at ${slowRead}`);
    assert.ok(firstIndexedAt! < 10_000, `first image indexed after ${firstIndexedAt} ms`);
    assert.equal(indexedIds(events).length, canvases);
  });

  it('does not take a canvas again in the same run when it failed while discovery went on', async () => {
    holdLastManifest();
    const broken = inst.manifests[0]!;
    inst.faults.add({ match: imagePathOf(broken, 0), kind: '500', times: Infinity });
    const dataDir = tempDataDir();
    const config = testHarvestConfig({ retries: 1 }, { batchSize: 2 });
    const { summary } = await harvestOnce(dataDir, [inst.rootCollectionUrl], { config });
    assert.equal(summary.status, 'completed-with-failures');
    assert.equal(summary.images.failed, 1);
    assert.equal(summary.images.indexed, canvases - 1);
    const journal = openJournal(dataDir);
    try {
      const row = journal.db.prepare(`SELECT status, attempts FROM canvases WHERE canvas_id = ?`).get(broken.canvases[0]!.id) as { status: string; attempts: number };
      assert.deepEqual(row, { status: 'failed', attempts: 1 });
    } finally {
      journal.close();
    }
  });

  it('keeps what was indexed when the run is interrupted during discovery, and the next run fetches only the rest', async () => {
    const slow = holdLastManifest();
    const dataDir = tempDataDir();
    const config = testHarvestConfig({}, { batchSize: 2 });
    const abort = new AbortController();
    const seen: HarvestEvent[] = [];
    // Interrupted as soon as the first batch is committed, while the last manifest is still held.
    const onEvent = (e: HarvestEvent) => {
      seen.push(e);
      if (e.type === 'image' && e.status === 'indexed') abort.abort();
    };
    const first = await harvestOnce(dataDir, [inst.rootCollectionUrl], { config, signal: abort.signal, onEvent }).then(
      () => assert.fail('the run should have been interrupted'),
      (err: unknown) => err,
    );
    assert.ok(first instanceof Error);
    const before = indexedIds(seen);
    assert.ok(before.length >= 1 && before.length < canvases, `${before.length} indexed before the interruption`);
    assert.ok(!seen.some((e) => e.type === 'document' && e.url === slow.url && e.status !== 'failed'), 'interrupted before the held manifest was read');
    const journal = openJournal(dataDir);
    try {
      const indexedRows = journal.db.prepare(`SELECT item_id FROM canvases WHERE status = 'indexed'`).pluck().all() as string[];
      assert.deepEqual(new Set(indexedRows), new Set(before), 'what was reported indexed is committed');
      assert.equal(journal.lastRuns()[0]!.status, 'interrupted');
    } finally {
      journal.close();
    }
    inst.resetStats();
    const second = await harvestOnce(dataDir, [inst.rootCollectionUrl], { config });
    assert.equal(second.summary.status, 'completed', JSON.stringify(second.summary.failures));
    assert.equal(second.summary.images.indexed, canvases - before.length);
    // Counted by the paths asked for in this run: the institution counts an image response when it
    // is sent, and one the interrupted run asked for can finish after the counts were reset.
    const imagePaths = Object.keys(inst.stats.byPath).filter((p) => /\.(jpe?g|png|webp|tiff?)$/.test(p));
    assert.equal(imagePaths.length, canvases - before.length, `indexed images are not fetched again: ${imagePaths.join(', ')}`);
  });
});
