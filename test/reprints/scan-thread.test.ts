import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { loadDefaultVocabulary } from '../../reprints/features/vocabulary.ts';
import { ReprintService, scanInThread } from '../../reprints/index.ts';
import { ReprintIndex } from '../../reprints/reprint-index/index.ts';
import { addSyntheticEntries, featuresOf, requireLocalFeatures, tempDir } from './support.ts';

const REPRINTS = [
  ['genthe-loc', 'kids.jpg'],
  ['genthe-loc', '01-children-walking.jpg'],
  ['genthe-loc', 'fish-market-crop.jpg'],
  ['genthe-loc', '01-fishmonger.jpg'],
] as const;

/** The same collection in a fresh folder: 100 synthetic images of over half a second's comparison each, then the two real reprint pairs. */
async function collection(): Promise<ReprintIndex> {
  const index = ReprintIndex.open(tempDir(), loadDefaultVocabulary());
  await addSyntheticEntries(index, 100, { keypoints: 1000 });
  const entries = [];
  for (const [folder, name] of REPRINTS) entries.push({ id: name, item: { label: name }, features: await featuresOf(folder, name) });
  index.upsert(entries);
  return index;
}

const pairsOf = (index: ReprintIndex) => index.pairs().map((p) => `${index.imageByDoc(p.a)!.id}~${index.imageByDoc(p.b)!.id}`);

describe('reprints: the collection-wide scan on its own thread', function () {
  requireLocalFeatures(this);
  this.timeout(300_000);

  it('leaves the event loop free, stops after the image in hand when aborted, and the next scan finishes as one scan would', async () => {
    const whole = await collection();
    const stopped = await collection();
    try {
      // Five synthetic images and the real photographs (docs 101-104) wait: earlier runs compared the rest.
      for (const index of [whole, stopped]) for (const doc of index.unscanned(1000)) if (doc <= 95) index.recordScan(doc, []);
      assert.equal(whole.unscannedCount(), 9);

      let ticks = 0;
      let slowestTickMs = 0;
      let last = performance.now();
      const timer = setInterval(() => {
        slowestTickMs = Math.max(slowestTickMs, performance.now() - last);
        last = performance.now();
        ticks++;
      }, 10);
      const abort = new AbortController();
      const started = performance.now();
      setTimeout(() => abort.abort(new Error('stop')), 1000);
      const first = await scanInThread(stopped, { signal: abort.signal });
      const stopMs = performance.now() - started - 1000;
      clearInterval(timer);
      assert.equal(first.stopped, true);
      assert.ok(first.scanned < 9, `${first.scanned} compared before the abort`);
      assert.ok(stopMs < 3000, `stopped ${stopMs.toFixed(0)} ms after the abort`);
      assert.ok(ticks > 50 && slowestTickMs < 200, `${ticks} timer ticks, the slowest ${slowestTickMs.toFixed(0)} ms apart`);
      assert.equal(stopped.unscannedCount(), 9 - first.scanned, 'what was compared is recorded, the rest waits');

      const rest = await scanInThread(stopped);
      assert.deepEqual(rest, { scanned: 9 - first.scanned, stopped: false });
      assert.equal(new ReprintService(whole).scan(), 9);
      assert.deepEqual(pairsOf(stopped), pairsOf(whole), 'the same pairs as a scan never interrupted');
      assert.deepEqual(pairsOf(whole).sort(), ['kids.jpg~01-children-walking.jpg', 'fish-market-crop.jpg~01-fishmonger.jpg'].sort());
    } finally {
      whole.close();
      stopped.close();
    }
  });

  it('rejects with the reason when the thread cannot open the index, which stays as it was', async () => {
    const index = ReprintIndex.open(tempDir(), loadDefaultVocabulary());
    try {
      await addSyntheticEntries(index, 3);
      // A newer Reprise wrote the file since this connection opened it: the thread refuses it.
      const other = new Database(index.file);
      other.pragma('user_version = 99');
      other.close();
      await assert.rejects(scanInThread(index), /the reprint scan failed: .*written by a newer Reprise/);
      assert.equal(index.unscannedCount(), 3);
    } finally {
      index.close();
    }
  });
});
