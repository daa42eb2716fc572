import assert from 'node:assert/strict';
import { createInstitution } from '../support/institution/index.ts';
import type { Institution } from '../support/institution/types.ts';
import { fixture, requireFixtures } from '../support/fixtures.ts';
import { harvestOnce, openJournal, photographs, tempDataDir, testHarvestConfig } from '../support/harvest-harness.ts';
import { RecordingStage } from '../../harvester/recording-stage.ts';
import { JournalLockedError } from '../../harvester/journal/lock.ts';
import { itemIdOf } from '../../harvester/util/hash.ts';
import { expandInputs } from '../../cli/commands/harvest.ts';

const canvasCount = (inst: Institution) => inst.manifests.reduce((n, m) => n + m.canvases.length, 0);

describe('harvest end to end on a loopback institution', function () {
  requireFixtures(this);
  this.timeout(120_000);

  let inst: Institution;
  let dataDir: string;
  let stage: RecordingStage;

  before(async () => {
    inst = await createInstitution({ images: [...photographs('fsa-owi', 8), ...photographs('documerica', 8)], imagesPerManifest: 2 });
    dataDir = tempDataDir();
  });
  after(async () => inst?.close());

  it('harvests nested v2 and v3 collections through Image API 2, 3, level 0 and plain files', async () => {
    const run = await harvestOnce(dataDir, [inst.rootCollectionUrl]);
    stage = run.stage;
    const { summary } = run;
    assert.equal(summary.status, 'completed', JSON.stringify(summary.failures));
    const expected = canvasCount(inst);
    assert.equal(summary.images.indexed, expected);
    assert.equal(stage.items.size, expected);
    assert.equal(summary.manifests.new, inst.manifests.length);
    assert.deepEqual(new Set(inst.manifests.map((m) => m.imageMode)), new Set(['image-api-2', 'image-api-3', 'level0', 'plain']));
    assert.deepEqual(new Set(inst.manifests.map((m) => m.version)), new Set([2, 3]));

    for (const manifest of inst.manifests) {
      for (const [index, canvas] of manifest.canvases.entries()) {
        const item = stage.items.get(itemIdOf(manifest.url, canvas.id));
        assert.ok(item, `canvas ${canvas.id} of ${manifest.url} was indexed`);
        const r = item.record;
        assert.equal(r.index, index);
        assert.equal(Object.values(r.manifestLabel).flat()[0], manifest.label);
        assert.ok(r.collectionPath.length >= 1, 'collection path recorded');
        assert.ok(Math.max(item.width, item.height) <= 640, 'fetched at the configured size');
        assert.ok(r.width && r.height, 'canvas dimensions recorded');
        if (manifest.imageMode === 'image-api-2' || manifest.imageMode === 'image-api-3') {
          // One v2 manifest declares its service with the Image API 1.1 context: read as version 1, asked for native.jpg.
          const version = r.image.service?.version;
          assert.ok(manifest.imageMode === 'image-api-2' ? version === 1 || version === 2 : version === 3, `service version ${version}`);
          // The photographs are at most 640 px: the full image is already the configured size.
          assert.match(r.imageUrl, version === 1 ? /\/full\/full\/0\/native\.jpg$/ : /\/full\/(!640,640|max|full)\/0\/default\.jpg$/);
          assert.equal(Math.max(item.width, item.height), Math.min(640, Math.max(r.width!, r.height!)));
        }
        if (manifest.imageMode === 'plain') assert.equal(r.imageUrl, canvas.imageUrl);
        if (canvas.alternativeImageNames?.length) assert.equal(r.alternatives.length, canvas.alternativeImageNames.length);
      }
    }
    const journal = openJournal(dataDir);
    assert.deepEqual(journal.counts(), { pending: 0, fetched: 0, indexed: expected, failed: 0 });
    journal.close();
  });

  it('re-harvests an unchanged source without downloading a single image', async () => {
    inst.resetStats();
    const { summary } = await harvestOnce(dataDir, [inst.rootCollectionUrl], { stage });
    assert.equal(inst.stats.imageRequests, 0);
    assert.equal(summary.images.downloaded, 0);
    assert.equal(summary.manifests.unchanged, inst.manifests.length);
    assert.equal(summary.status, 'completed');
    assert.ok(inst.stats.notModified > 0, 'conditional requests answered 304');
  });

  it('after changes: re-processes the changed image, removes what disappeared, updates metadata', async () => {
    const [a, b, c, d] = inst.manifests;
    const gone = inst.manifests[inst.manifests.length - 1]!;
    const replacement = photographs('documerica', 12)[11]!;
    await inst.changeManifest(a!.url, { kind: 'replace-image', canvas: 0, imagePath: replacement });
    const removedCanvas = b!.canvases[1]!;
    await inst.changeManifest(b!.url, { kind: 'remove-canvas', canvas: 1 });
    await inst.changeManifest(c!.url, { kind: 'relabel', label: 'Relabelled by the curator' });
    await inst.changeManifest(d!.url, { kind: 'add-canvas' });
    await inst.removeManifest(gone.url);
    const before = stage.items.get(itemIdOf(a!.url, a!.canvases[0]!.id))!.imageHash;
    inst.resetStats();
    stage.operations.length = 0;

    const { summary } = await harvestOnce(dataDir, [inst.rootCollectionUrl], { stage });
    assert.equal(summary.status, 'completed', JSON.stringify(summary.failures));
    const reindexed = stage.operations.filter((o) => o.op === 'index').map((o) => o.itemId).sort();
    const added = inst.manifests.find((m) => m.url === d!.url)!.canvases.at(-1)!;
    assert.deepEqual(reindexed, [itemIdOf(a!.url, a!.canvases[0]!.id), itemIdOf(d!.url, added.id)].sort());
    assert.notEqual(stage.items.get(itemIdOf(a!.url, a!.canvases[0]!.id))!.imageHash, before);
    assert.equal(stage.items.has(itemIdOf(b!.url, removedCanvas.id)), false);
    for (const canvas of gone.canvases) assert.equal(stage.items.has(itemIdOf(gone.url, canvas.id)), false);
    const relabelled = stage.items.get(itemIdOf(c!.url, c!.canvases[0]!.id))!;
    assert.equal(Object.values(relabelled.record.manifestLabel).flat()[0], 'Relabelled by the curator');
    assert.equal(summary.manifests.removed, 1);
    assert.equal(stage.items.size, canvasCount(inst));
    // Only the replaced image and the new one were downloaded in full; the rest of A's images answered 304.
    assert.equal(inst.stats.imageRequests, 2);
  });

  it('refuses a second, overlapping run on the same journal at once', async () => {
    // Keeps the first run busy for a second.
    inst.faults.add({ match: '/collections/root.json', kind: '429', times: 1, retryAfterSeconds: 1 });
    const first = harvestOnce(dataDir, [inst.rootCollectionUrl], { stage });
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    await assert.rejects(harvestOnce(dataDir, [inst.rootCollectionUrl], { stage }), (err: Error) =>
      err instanceof JournalLockedError && /already running/.test(err.message));
    assert.ok(Date.now() - started < 500);
    assert.equal((await first).summary.status, 'completed');
  });

  it('a dry run fetches no image and writes nothing', async () => {
    const dir = tempDataDir();
    inst.resetStats();
    const { summary, stage: dryStage } = await harvestOnce(dir, [inst.rootCollectionUrl], { dryRun: true });
    assert.equal(summary.status, 'dry-run');
    assert.equal(summary.journal.pending, canvasCount(inst), 'reports what would be fetched');
    assert.equal(inst.stats.imageRequests, 0);
    assert.equal(dryStage.items.size, 0);
    const journal = openJournal(dir);
    assert.deepEqual(journal.counts(), { pending: 0, fetched: 0, indexed: 0, failed: 0 });
    journal.close();
  });

  it('takes a text file of manifest URLs, as the CLI expands it', async () => {
    const dir = tempDataDir();
    const v3 = inst.manifests.filter((m) => m.version === 3);
    const urls = expandInputs([await inst.writeManifestList(undefined, (m) => m.version === 3)]);
    assert.deepEqual(urls.sort(), v3.map((m) => m.url).sort());
    const { summary } = await harvestOnce(dir, urls);
    assert.equal(summary.manifests.new, v3.length);
    assert.equal(summary.images.indexed, v3.reduce((n, m) => n + m.canvases.length, 0));
  });

  it('follows a Change Discovery stream incrementally', async () => {
    const dir = tempDataDir();
    const first = await harvestOnce(dir, [inst.changeStreamUrl]);
    assert.equal(first.summary.status, 'completed', JSON.stringify(first.summary.failures));
    assert.equal(first.stage.items.size, canvasCount(inst), 'the stream lists every current manifest');

    const target = inst.manifests[1]!;
    await inst.changeManifest(target.url, { kind: 'add-canvas' });
    const doomed = inst.manifests[2]!;
    await inst.removeManifest(doomed.url);
    inst.resetStats();
    const second = await harvestOnce(dir, [inst.changeStreamUrl], { stage: first.stage });
    assert.equal(second.summary.status, 'completed', JSON.stringify(second.summary.failures));
    assert.equal(second.summary.manifests.changed, 1, 'only the updated manifest is fetched again');
    assert.equal(second.summary.manifests.removed, 1);
    assert.equal(inst.stats.imageRequests, 1, 'only the new canvas is downloaded');
    for (const canvas of doomed.canvases) assert.equal(first.stage.items.has(itemIdOf(doomed.url, canvas.id)), false);
    assert.equal(first.stage.items.size, canvasCount(inst));
  });
});

describe('harvest under faults', function () {
  requireFixtures(this);
  this.timeout(120_000);

  let inst: Institution;
  after(async () => inst?.close());

  it('recovers from 500s, 429 with Retry-After, a hang and a truncated body; lists broken images with reasons', async () => {
    inst = await createInstitution({
      images: photographs('fsa-owi', 8),
      imagesPerManifest: 2,
      extraPlainImages: {
        paths: [fixture('images', 'decoder-edge-cases', 'truncated.jpg'), fixture('images', 'decoder-edge-cases', '65536-uint32-limit.png')],
        manifest: 0,
      },
    });
    const plain = inst.manifests.filter((m) => m.imageMode === 'plain').flatMap((m) => m.canvases);
    const api = inst.manifests.filter((m) => m.imageMode === 'image-api-3').flatMap((m) => m.canvases);
    const level0 = inst.manifests.filter((m) => m.imageMode === 'level0').flatMap((m) => m.canvases);
    const pathOf = (url: string) => new URL(url).pathname;
    inst.faults.add({ match: '/collections/', kind: '500', times: 2 });
    inst.faults.add({ match: pathOf(plain[0]!.imageUrl), kind: '500', times: 2 });
    inst.faults.add({ match: `/${api[0]!.imageId}/full/`, kind: '429', times: 1, retryAfterSeconds: 1 });
    inst.faults.add({ match: `/${api[1]!.imageId}/full/`, kind: 'hang', times: 1 });
    inst.faults.add({ match: pathOf(plain[1]!.imageUrl), kind: 'truncate', times: 1 });
    inst.faults.add({ match: `/${level0[0]!.imageId}/`, kind: 'reset', times: 1 });

    const dataDir = tempDataDir();
    const { summary, stage } = await harvestOnce(dataDir, [inst.rootCollectionUrl], { config: testHarvestConfig({ totalTimeoutMs: 1500 }) });
    assert.equal(summary.status, 'completed-with-failures');
    const broken = summary.failures.map((f) => f.reason);
    assert.equal(summary.failures.length, 2, JSON.stringify(summary.failures, null, 1));
    assert.ok(broken.some((r) => /broken image/.test(r)), 'truncated JPEG reported');
    assert.ok(broken.some((r) => /65536×65536.*pixel limit/.test(r)), 'decompression bomb reported');
    const total = canvasCount(inst);
    assert.equal(stage.items.size, total - 2, 'every recoverable item ends indexed');
    const journal = openJournal(dataDir);
    assert.deepEqual(journal.counts(), { pending: 0, fetched: 0, indexed: total - 2, failed: 2 });
    assert.equal(journal.failures().length, 2);
    journal.close();
  });
});
