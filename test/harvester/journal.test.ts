import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { Journal, type CanvasUpsert } from '../../harvester/journal/journal.ts';
import { acquireLock, JournalLockedError } from '../../harvester/journal/lock.ts';

const canvas = (i: number, imageUrl = `https://img.test/${i}.jpg`, label = `c${i}`): CanvasUpsert => ({
  itemId: `item-${i}`,
  manifestUrl: 'https://m.test/manifest.json',
  canvasId: `https://m.test/canvas/${i}`,
  index: i,
  record: JSON.stringify({ label }),
  recordHash: label,
  imageUrl,
});

describe('harvest journal', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'reprise-journal-'));
  });

  it('syncs a manifest: adds, keeps, flags metadata, resets changed images, removes the missing', () => {
    const j = new Journal(path.join(dir, 'h.db'));
    let changes = j.syncManifestCanvases('https://m.test/manifest.json', [canvas(0), canvas(1), canvas(2)], { recheckImages: false });
    assert.equal(changes.added, 3);
    j.markIndexed([0, 1, 2].map((i) => ({ itemId: `item-${i}`, width: 10, height: 10 })), 'm1');

    changes = j.syncManifestCanvases(
      'https://m.test/manifest.json',
      [canvas(0), canvas(1, undefined, 'renamed'), canvas(3), canvas(2, 'https://img.test/2-new.jpg')],
      { recheckImages: false },
    );
    assert.deepEqual({ ...changes, removed: changes.removed.length }, { added: 1, imageChanged: 1, metadataChanged: 1, unchanged: 1, removed: 0, movedFrom: [] });
    assert.deepEqual(j.counts(), { pending: 2, fetched: 0, indexed: 2, failed: 0 });
    assert.deepEqual(j.metadataDirty().map((r) => r.item_id), ['item-1']);

    changes = j.syncManifestCanvases('https://m.test/manifest.json', [canvas(0)], { recheckImages: false });
    assert.deepEqual(changes.removed.sort(), ['item-1', 'item-2', 'item-3']);
    assert.equal(j.canvasesOfManifest('https://m.test/manifest.json').length, 1);
    j.close();
  });

  it('a manifest whose items turn up at a new address moves: same items, nothing fetched or embedded again', () => {
    const j = new Journal(path.join(dir, 'h.db'));
    const at = (origin: string) => (i: number): CanvasUpsert => ({
      itemId: `item-${i}`,
      manifestUrl: `${origin}/iiif/manifest.json`,
      canvasId: `${origin}/iiif/canvas/${i}`,
      index: i,
      record: JSON.stringify({ origin, i }),
      recordHash: `${origin}-${i}`,
      imageUrl: `${origin}/iiif/3/p${i}.jpg/full/!512,512/0/default.jpg`,
    });
    const [before, after] = ['http://127.0.0.1:3000', 'http://127.0.0.1:4000'];
    j.syncManifestCanvases(`${before}/iiif/manifest.json`, [0, 1].map(at(before)), { recheckImages: false });
    j.saveDocument({ url: `${before}/iiif/manifest.json`, kind: 'manifest', contentHash: 'h', status: 'ok', runId: 1 });
    const source = j.ensureSource(`${before}/iiif/collection.json`);
    j.linkManifest(source.id, `${before}/iiif/manifest.json`, [], 1);
    j.markFetched('item-0', { hash: 'sha-0' });
    j.markFetched('item-1', { hash: 'sha-1' });
    j.markIndexed([0, 1].map((i) => ({ itemId: `item-${i}`, width: 10, height: 10 })), 'm1');

    const changes = j.syncManifestCanvases(`${after}/iiif/manifest.json`, [0, 1].map(at(after)), { recheckImages: false });
    assert.deepEqual({ ...changes, removed: changes.removed.length }, { added: 0, imageChanged: 0, metadataChanged: 2, unchanged: 0, removed: 0, movedFrom: [`${before}/iiif/manifest.json`] });
    const rows = j.canvasesOfManifest(`${after}/iiif/manifest.json`);
    assert.deepEqual(rows.map((r) => [r.item_id, r.status, r.image_hash, r.model_id, r.metadata_dirty]), [['item-0', 'indexed', 'sha-0', 'm1', 1], ['item-1', 'indexed', 'sha-1', 'm1', 1]]);
    assert.deepEqual(rows.map((r) => [r.canvas_id, r.image_url]), [0, 1].map((i) => [at(after)(i).canvasId, at(after)(i).imageUrl]));
    assert.deepEqual(j.counts(), { pending: 0, fetched: 0, indexed: 2, failed: 0 });
    assert.equal(j.getDocument(`${before}/iiif/manifest.json`), undefined, 'the old address is no document of its own');
    assert.equal(j.isLinked(`${before}/iiif/manifest.json`), false);
    j.close();
  });

  it('queues pending, fetched and retryable failures until attempts run out', () => {
    const j = new Journal(path.join(dir, 'h.db'));
    j.syncManifestCanvases('https://m.test/manifest.json', [canvas(0), canvas(1), canvas(2)], { recheckImages: false });
    j.markFailed('item-0', 'HTTP 503', true);
    j.markFailed('item-1', 'broken image', false);
    j.markFetched('item-2', { hash: 'abc' });
    assert.deepEqual([...j.workQueue(5)].map((r) => r.item_id), ['item-0', 'item-2']);
    for (let i = 0; i < 4; i++) j.markFailed('item-0', 'HTTP 503', true);
    assert.deepEqual([...j.workQueue(5)].map((r) => r.item_id), ['item-2']);
    j.close();
  });

  it('survives reopening and marks a run left running as interrupted', () => {
    const file = path.join(dir, 'h.db');
    let j = new Journal(file);
    j.startRun({ a: 1 });
    j.close();
    j = new Journal(file);
    j.startRun({ a: 2 });
    assert.deepEqual(j.lastRuns().map((r) => r.status), ['running', 'interrupted']);
    j.close();
  });

  it('refuses a journal written by a newer version', () => {
    const file = path.join(dir, 'h.db');
    new Journal(file).db.pragma('user_version = 999');
    assert.throws(() => new Journal(file), /newer Reprise/);
  });

  it('locks: a second holder fails at once, a lock left by a dead process is taken over', () => {
    const lockFile = path.join(dir, 'h.db.lock');
    const release = acquireLock(lockFile);
    assert.throws(() => acquireLock(lockFile), (err: Error) => err instanceof JournalLockedError && /already running/.test(err.message));
    release();
    // A pid that has exited: what kill -9 leaves behind.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    writeFileSync(lockFile, dead);
    const again = acquireLock(lockFile);
    again();
  });
});
