/**
 * The embedded store at scale (issue 21): filtered vector search answers what an exact scan of
 * the filter's items answers, whichever way it takes (the HNSW index with the filter checked on
 * its candidates, or a scan of the int8 copy); a missing index is rebuilt on a worker thread
 * while searches scan; the int8 copy is saved and trusted only when it vouches for itself; a
 * reader maps the writer's index file and follows its changes without writing a file.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { storeSchema } from '../../config/schema.ts';
import { EmbeddedStore, type EmbeddedStoreOptions } from '../../store/embedded/embedded-store.ts';
import type { ItemFilter, StoreItem } from '../../store/types.ts';
import { prng } from './store-suite.ts';

const DIM = 32;
const MODEL = 'scale-test';
const DEFAULTS = storeSchema.parse({}).embedded;

function gaussian(seed: number): () => number {
  const uniform = prng(seed);
  return () => Math.sqrt(-2 * Math.log(uniform() + 1e-12)) * Math.cos(2 * Math.PI * uniform());
}
const unit = (v: Float32Array) => {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
};
const centres = Array.from({ length: 30 }, (_, c) => unit(Float32Array.from({ length: DIM }, gaussian(500 + c))));
/** Near centre i % 30, so collection K{i % 3} follows the clusters; rights are spread over them. */
function itemAt(i: number): StoreItem {
  const g = gaussian(1 + i * 7919);
  const near = (c: number) => unit(Float32Array.from(centres[c % 30]!, (x) => x + 0.1 * g()));
  return {
    id: i.toString(16).padStart(32, '0'),
    canvasId: `https://scale.test/canvas/${i}`,
    manifestId: `https://scale.test/manifest/${Math.floor(i / 10)}`,
    manifestUrl: `https://scale.test/manifest/${Math.floor(i / 10)}`,
    collections: ['Scale', `K${i % 3}`],
    rights: `R${(i * 2654435761) % 7 === 0 ? 'rare' : (i * 40503) % 4}`,
    label: `Canvas ${i}`,
    labels: [],
    text: `Canvas ${i}`,
    record: { i },
    vector: near(i),
    regions: i % 5 === 0 ? [{ box: { x: 1, y: 1, w: 5, h: 5 }, vector: near(i + 11) }] : [],
  };
}

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, k) => s + x * b[k]!, 0);
const best = (it: StoreItem, q: Float32Array) => Math.max(dot(q, it.vector), ...(it.regions ?? []).map((r) => dot(q, r.vector)));
function exactTop(items: StoreItem[], q: Float32Array, keep: (it: StoreItem) => boolean, k: number, exclude?: string): string[] {
  return items
    .filter((it) => keep(it) && it.id !== exclude)
    .map((it) => ({ id: it.id, s: best(it, q) }))
    .sort((a, b) => b.s - a.s)
    .slice(0, k)
    .map((x) => x.id);
}

describe('embedded store at scale: filtered search, background rebuild, the scan copy, readers', function () {
  this.timeout(120_000);
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'reprise-scale-'));
    dirs.push(dir);
    return dir;
  };
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  const items = Array.from({ length: 3000 }, (_, i) => itemAt(i));
  const bare = Array.from({ length: 50 }, (_, i) => {
    const { vector: _v, regions: _r, ...fields } = itemAt(10_000 + i);
    return fields;
  });
  const queries = Array.from({ length: 12 }, (_, q) => itemAt(20_000 + q).vector);
  const open = async (dir: string, over: Partial<EmbeddedStoreOptions> = {}) => {
    const store = new EmbeddedStore({ dir, index: 'test', ...DEFAULTS, ...over });
    await store.open({ modelId: MODEL, dimensions: DIM });
    return store;
  };

  const filters: Array<{ name: string; filter: ItemFilter; keep: (it: StoreItem) => boolean }> = [
    // A third of the items, following the clusters: most queries' own neighbourhood is left out.
    { name: 'collection K1', filter: { collection: 'K1' }, keep: (it) => it.collections.includes('K1') },
    // A quarter, spread over the clusters.
    { name: 'rights R2', filter: { rights: 'R2' }, keep: (it) => it.rights === 'R2' },
    { name: 'one manifest', filter: { manifest: 'https://scale.test/manifest/17' }, keep: (it) => it.manifestId === 'https://scale.test/manifest/17' },
    { name: 'rare rights', filter: { rights: 'Rrare' }, keep: (it) => it.rights === 'Rrare' },
  ];

  it('answers every filter as an exact scan of its items would, through the index or a scan, leaving out items without vectors', async () => {
    const dir = tempDir();
    // Small limits so that this small index takes each way a large one takes.
    const store = await open(dir, { exactScanLimit: 200, maxAnnCandidates: 400 });
    await store.upsert(items);
    await store.upsert(bare);
    const ways = new Map<string, number>();
    let agree = 0;
    let total = 0;
    for (const f of filters) {
      for (const q of queries) {
        const got = (await store.nearest(q, { limit: 10, filter: f.filter })).hits.map((h) => h.id);
        ways.set(store.lastSearchPath!, (ways.get(store.lastSearchPath!) ?? 0) + 1);
        const exact = exactTop(items, q, f.keep, 10);
        assert.ok(got.every((id) => items.some((it) => it.id === id && f.keep(it))), `${f.name}: every hit passes the filter and has a vector`);
        agree += got.filter((id) => exact.includes(id)).length;
        total += exact.length;
      }
      // similar(): the item itself left out, the same answers otherwise.
      const self = items.find(f.keep)!;
      const similar = (await store.similar(self.id, { limit: 5, filter: f.filter })).hits.map((h) => h.id);
      assert.ok(!similar.includes(self.id));
      assert.deepEqual(similar, exactTop(items, self.vector, f.keep, 5, self.id));
    }
    assert.ok(agree / total >= 0.95, `filtered hits agree with an exact filtered scan on ${agree} of ${total}`);
    assert.ok((ways.get('index-filtered') ?? 0) > 0, `the index answered some filtered queries: ${JSON.stringify([...ways])}`);
    assert.ok((ways.get('scan') ?? 0) > 0, `scans answered some: ${JSON.stringify([...ways])}`);
    await store.close();
  });

  it('saves the int8 copy beside SQLite, trusts it only when it vouches for itself, and rebuilds it otherwise', async () => {
    const dir = tempDir();
    const store = await open(dir);
    await store.upsert(items.slice(0, 500));
    await store.close();
    assert.ok(existsSync(path.join(dir, 'test.slab')) && existsSync(path.join(dir, 'test.slab.json')));
    const again = await open(dir);
    assert.deepEqual(again.slabOrigin, { source: 'file' });
    const before = (await again.nearest(queries[0]!, { limit: 5, filter: { collection: 'K2' } })).hits.map((h) => `${h.id}:${h.score}`);
    await again.close();
    const file = path.join(dir, 'test.slab');
    const bytes = readFileSync(file);
    for (let i = bytes.length - 200; i < bytes.length; i++) bytes[i] = bytes[i]! ^ 0x5a;
    writeFileSync(file, bytes);
    const repaired = await open(dir);
    assert.equal(repaired.slabOrigin.source, 'rebuilt');
    assert.match(repaired.slabOrigin.reason ?? '', /checksum/);
    assert.deepEqual((await repaired.nearest(queries[0]!, { limit: 5, filter: { collection: 'K2' } })).hits.map((h) => `${h.id}:${h.score}`), before);
    await repaired.close();
  });

  it('rebuilds a missing index on a worker thread while searches scan, and follows writes made meanwhile', async () => {
    const dir = tempDir();
    const writer = await open(dir);
    await writer.upsert(items);
    const exactBefore = queries.map((q) => exactTop(items, q, () => true, 10));
    await writer.close();
    rmSync(path.join(dir, 'test.hnsw'));
    const started = performance.now();
    const store = await open(dir, { backgroundRebuildAbove: 0 });
    const openMs = performance.now() - started;
    assert.equal(store.annOrigin.source, 'rebuilding', `open() did not wait for the rebuild (${openMs.toFixed(0)} ms)`);
    // Exact answers meanwhile: a scan of every vector.
    for (const [q, v] of queries.entries()) {
      assert.deepEqual((await store.nearest(v, { limit: 10 })).hits.map((h) => h.id), exactBefore[q]);
      assert.equal(store.lastSearchPath, 'scan');
    }
    const late = itemAt(50_000);
    await store.upsert([late]);
    await store.delete([items[7]!.id]);
    assert.equal((await store.nearest(late.vector, { limit: 1 })).hits[0]?.id, late.id);
    await store.annReady();
    assert.equal(store.annOrigin.source, 'rebuilt');
    assert.equal(store.indexedVectors, (await store.stats()).vectors, 'the rebuilt index caught up with the writes made during the rebuild');
    assert.equal((await store.nearest(late.vector, { limit: 1 })).hits[0]?.id, late.id);
    assert.equal(store.lastSearchPath, 'index');
    assert.ok(!(await store.nearest(items[7]!.vector, { limit: 3 })).hits.some((h) => h.id === items[7]!.id));
    await store.close();
    const again = await open(dir);
    assert.equal(again.annOrigin.source, 'file');
    await again.close();
  });

  it('a reader maps the writer\'s index file, follows its changes, and never writes a derived file', async () => {
    const dir = tempDir();
    const writer = await open(dir);
    await writer.upsert(items.slice(0, 1000));
    await writer.close();
    const annFile = path.join(dir, 'test.hnsw');
    const reader = await open(dir, { role: 'reader' });
    assert.equal(reader.annOrigin.source, 'file');
    const live = await open(dir);
    const added = items.slice(1000, 1100);
    await live.upsert(added);
    await live.delete([items[3]!.id]);
    // Found through the reader's own side index and hidden set: the mapped file cannot change.
    assert.equal((await reader.nearest(added[40]!.vector, { limit: 1 })).hits[0]?.id, added[40]!.id);
    assert.ok(!(await reader.nearest(items[3]!.vector, { limit: 3 })).hits.some((h) => h.id === items[3]!.id));
    assert.equal(reader.indexedVectors, (await reader.stats()).vectors);
    const mtime = statSync(annFile).mtimeMs;
    // The writer saves; the reader maps the new file on its next query.
    await live.close();
    assert.ok(statSync(annFile).mtimeMs > mtime);
    assert.equal((await reader.nearest(added[40]!.vector, { limit: 1 })).hits[0]?.id, added[40]!.id);
    assert.equal(reader.indexedVectors, (await reader.stats()).vectors);
    const saved = statSync(annFile).mtimeMs;
    await reader.upsert([itemAt(60_000)]);
    await reader.close();
    assert.equal(statSync(annFile).mtimeMs, saved, 'the reader never writes the index file');
  });
});
