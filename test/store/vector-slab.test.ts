/**
 * The int8 scan copy's layout (issue 21): `arrange` puts the rows of the items it is given side by
 * side in that order, in place, and nothing a search answers changes — before or after, with
 * vectors added, replaced and removed afterwards, and through a save and load. The store lays the
 * copy out by collection path and manifest whenever it saves it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { storeSchema } from '../../config/schema.ts';
import { EmbeddedStore } from '../../store/embedded/embedded-store.ts';
import { VectorSlab } from '../../store/embedded/vector-slab.ts';
import type { StoreItem } from '../../store/types.ts';
import { prng } from './store-suite.ts';

const DIM = 48;

function unitVector(seed: number): Float32Array {
  const uniform = prng(seed);
  const v = Float32Array.from({ length: DIM }, () => uniform() - 0.5);
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

/** Items 1..n, item i with one vector (key 2i) and every third a region too (key 2i + 1). */
function filled(n: number): VectorSlab {
  const slab = VectorSlab.create(DIM)!;
  for (let i = 1; i <= n; i++) {
    const keys = i % 3 === 0 ? [2 * i, 2 * i + 1] : [2 * i];
    slab.add(keys, keys.map(() => i), keys.map((k) => unitVector(k)));
  }
  return slab;
}

const contiguous = (slots: number[]) => slots.every((s, k) => k === 0 || s === slots[k - 1]! + 1);

describe('the scan copy lays its rows out by the order it is given', () => {
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('puts each group of items side by side and answers every search as before', () => {
    const slab = filled(300);
    slab.remove([2 * 7, 2 * 150, 2 * 150 + 1]); // freed slots in the middle
    const queries = Array.from({ length: 8 }, (_, q) => unitVector(10_000 + q));
    // A "collection" of every fifth item, and every item in turn.
    const fifth = Array.from({ length: 60 }, (_, k) => 5 * (k + 1));
    const before = queries.map((q) => [slab.nearestItems(q, fifth, 12), slab.nearestItems(q, undefined, 12, 30)]);
    assert.ok(!contiguous(fifth.flatMap((i) => slab.slotsOfItem(i))), 'scattered to begin with');

    const order = [...fifth, ...Array.from({ length: 300 }, (_, k) => k + 1).filter((i) => i % 5 !== 0)];
    slab.arrange(order);
    assert.equal(slab.arranged, true);
    const slots = fifth.flatMap((i) => slab.slotsOfItem(i));
    assert.ok(contiguous(slots) && slots[0] === 0, `the group's rows come first, side by side: ${slots.slice(0, 8).join(',')}…`);
    assert.equal(slab.size, 300 + 100 - 3);
    assert.deepEqual(slab.slotsOfItem(150), [], 'a removed item has no rows');
    assert.deepEqual(queries.map((q) => [slab.nearestItems(q, fifth, 12), slab.nearestItems(q, undefined, 12, 30)]), before);

    // Changes after the layout: a replaced vector, a new item, a removal.
    slab.add([2 * 10], [10], [unitVector(77)]);
    slab.add([2 * 301], [301], [unitVector(2 * 301)]);
    slab.remove([2 * 20]);
    assert.equal(slab.arranged, false);
    const all = slab.nearestItems(queries[0]!, undefined, 400);
    assert.ok(all.includes(301) && !all.includes(20) && all.includes(10), 'added and removed items are found and left out');
    assert.deepEqual(slab.nearestItems(unitVector(77), [9, 10, 11, 12], 1), [10], 'item 10 scores its new vector');
  });

  it('returns the number of distinct items asked for, however many vectors (regions) each has', () => {
    const slab = VectorSlab.create(DIM)!;
    // 40 items of 12 vectors each, all near one direction, so that one item's regions crowd the top rows.
    const near = unitVector(4242);
    for (let item = 1; item <= 40; item++) {
      const keys = Array.from({ length: 12 }, (_, r) => item * 100 + r);
      slab.add(keys, keys.map(() => item), keys.map((k) => {
        const noise = unitVector(k);
        const v = near.map((x, d) => x + 0.05 * noise[d]! * (1 + (item % 7)));
        const n = Math.hypot(...v);
        return v.map((x) => x / n);
      }));
    }
    for (const wanted of [5, 20, 36]) {
      const got = slab.nearestItems(near, undefined, wanted);
      assert.equal(got.length, wanted, `${wanted} items asked, ${got.length} given`);
      assert.equal(new Set(got).size, wanted, 'each once');
      const filtered = slab.nearestItems(near, Array.from({ length: 20 }, (_, k) => 2 * k + 1), wanted, 3);
      assert.equal(filtered.length, Math.min(wanted, 19));
      assert.ok(filtered.every((i) => i % 2 === 1 && i !== 3));
    }
    // Best first, each item at its best vector: the items nearest the direction (least noise) lead.
    const top = slab.nearestItems(near, undefined, 6);
    assert.ok(top.slice(0, 5).every((i) => i % 7 === 0), `the least noisy items (multiples of 7) first: ${top.join(',')}`);
  });

  it('keeps its layout through a save and a load, and the sidecar says so', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'reprise-slab-'));
    dirs.push(dir);
    const file = path.join(dir, 'x.slab');
    const slab = filled(120);
    const order = Array.from({ length: 120 }, (_, k) => 120 - k);
    slab.arrange(order);
    const q = unitVector(5);
    const before = slab.nearestItems(q, [3, 60, 90, 117], 3);
    slab.save(file, { storeId: 's', generation: 4 });
    assert.equal(JSON.parse(readFileSync(`${file}.json`, 'utf8')).arranged, true);
    const loaded = VectorSlab.load(file, DIM, 's');
    assert.ok(!('reason' in loaded), 'loads');
    assert.equal(loaded.arranged, true);
    assert.deepEqual(loaded.slab.slotsOfItem(120), [0, 1], 'the first item of the order (a vector and a region) holds the first rows');
    assert.deepEqual(loaded.slab.nearestItems(q, [3, 60, 90, 117], 3), before);
  });

  it('the store lays the copy out by collection path, then manifest, when it saves it', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'reprise-slab-store-'));
    dirs.push(dir);
    const options = { dir, index: 'lay', ...storeSchema.parse({}).embedded };
    // Harvested interleaved: item i in collection A (with a sub-collection A/A1) or B, alternately.
    const items: StoreItem[] = Array.from({ length: 90 }, (_, i) => ({
      id: i.toString(16).padStart(32, '0'),
      canvasId: `https://lay.test/canvas/${i}`,
      manifestId: `https://lay.test/manifest/${i % 9}`,
      manifestUrl: `https://lay.test/manifest/${i % 9}`,
      collections: i % 2 ? ['Root', 'B'] : i % 3 ? ['Root', 'A'] : ['Root', 'A', 'A1'],
      label: `Canvas ${i}`,
      labels: [],
      text: '',
      record: {},
      vector: unitVector(i + 1),
    }));
    const store = new EmbeddedStore(options);
    await store.open({ modelId: 'm', dimensions: DIM });
    await store.upsert(items);
    const q = unitVector(999);
    const before = (await store.nearest(q, { limit: 8, filter: { collection: 'A' } })).hits.map((h) => h.id);
    await store.close();
    const again = new EmbeddedStore(options);
    await again.open({ modelId: 'm', dimensions: DIM });
    const slab = (again as unknown as { slab: VectorSlab }).slab;
    const rowsOf = (keep: (i: number) => boolean) => items.map((_, i) => i).filter(keep).flatMap((i) => slab.slotsOfItem(i + 1)).sort((a, b) => a - b);
    const inA = rowsOf((i) => i % 2 === 0);
    assert.ok(contiguous(inA), `collection A (sub-collection A1 included) lies together: ${inA.join(',')}`);
    assert.ok(contiguous(rowsOf((i) => i % 2 === 1)), 'collection B lies together');
    assert.ok(contiguous(rowsOf((i) => i % 2 === 0 && i % 3 === 0)), 'sub-collection A1 lies together');
    assert.ok(contiguous(rowsOf((i) => i % 2 === 1 && i % 9 === 1)), "one manifest's items in B lie together");
    assert.deepEqual((await again.nearest(q, { limit: 8, filter: { collection: 'A' } })).hits.map((h) => h.id), before);
    await again.close();
  });
});
