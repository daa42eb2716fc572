/**
 * What only the embedded store has: its files. The index file is derived from SQLite, so it may be
 * lost, torn, corrupt or stale and the store must notice and rebuild it; a process killed in the
 * middle of an upsert must leave a store that reopens consistent; and the default HNSW settings
 * must find the true neighbours of realistic (clustered) vectors.
 *
 * The file is also the child process of the kill test: run with EMBEDDED_CHILD set, it upserts
 * until it is killed.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, truncateSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { storeSchema } from '../../config/schema.ts';
import { EmbeddedStore, type EmbeddedStoreOptions } from '../../store/embedded/embedded-store.ts';
import { globalScore, mergeHybrid } from '../../store/embedded/ranking.ts';
import { InvalidQueryError } from '../../store/errors.ts';
import type { StoreItem } from '../../store/types.ts';
import { prng } from './store-suite.ts';

const here = fileURLToPath(import.meta.url);
const DEFAULTS = storeSchema.parse({}).embedded;
const MODEL = 'embedded-test';

function gaussian(seed: number): () => number {
  const uniform = prng(seed);
  return () => Math.sqrt(-2 * Math.log(uniform() + 1e-12)) * Math.cos(2 * Math.PI * uniform());
}

function normalise(v: Float32Array): Float32Array {
  let n = 0;
  for (const x of v) n += x * x;
  n = Math.sqrt(n);
  return v.map((x) => x / n);
}

function dotOf(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

const CENTRES = 40;
const centreCache = new Map<number, Float32Array[]>();
/** Random unit centres, as photographs of one subject gather around one direction. */
function centres(dim: number): Float32Array[] {
  if (!centreCache.has(dim)) centreCache.set(dim, Array.from({ length: CENTRES }, (_, c) => normalise(Float32Array.from({ length: dim }, gaussian(900_000 + c)))));
  return centreCache.get(dim)!;
}

/** A vector near centre c: noise of norm about 0.5, so neighbours in a cluster sit at cosine ≈ 0.8. */
function near(c: number, dim: number, g: () => number): Float32Array {
  const centre = centres(dim)[c % CENTRES]!;
  return normalise(Float32Array.from(centre, (x) => x + (0.5 / Math.sqrt(dim)) * g()));
}

/** Item i, the same in the parent and in the child: i % 3 regions, vectors from seeds of i. */
function itemAt(i: number, dim: number): StoreItem {
  const g = gaussian(1 + i * 7919);
  return {
    id: i.toString(16).padStart(32, '0'),
    canvasId: `https://kill.test/canvas/${i}`,
    manifestId: `https://kill.test/manifest/${Math.floor(i / 10)}`,
    manifestUrl: `https://kill.test/manifest/${Math.floor(i / 10)}`,
    collections: ['Kill', `K${i % 4}`],
    label: `Canvas ${i}`,
    labels: [],
    text: `Canvas ${i} of the kill test`,
    record: { i },
    vector: near(i, dim, g),
    regions: Array.from({ length: i % 3 }, (_, r) => ({ box: { x: r, y: r, w: 10, h: 10 }, vector: near(i + 7 * (r + 1), dim, g) })),
  };
}

const options = (dir: string, over: Partial<EmbeddedStoreOptions> = {}): EmbeddedStoreOptions => ({ dir, index: 'test', ...DEFAULTS, ...over });

async function openStore(dir: string, dim: number, over: Partial<EmbeddedStoreOptions> = {}): Promise<EmbeddedStore> {
  const store = new EmbeddedStore(options(dir, over));
  await store.open({ modelId: MODEL, dimensions: dim });
  return store;
}

/** The exact top ids for a query among these items, an item scoring its best vector. */
function exactTop(items: StoreItem[], q: Float32Array, k: number): string[] {
  return items
    .map((it) => ({ id: it.id, s: Math.max(dotOf(q, it.vector), ...(it.regions ?? []).map((r) => dotOf(q, r.vector))) }))
    .sort((a, b) => b.s - a.s)
    .slice(0, k)
    .map((x) => x.id);
}

// --- the child of the kill test -------------------------------------------------------------

if (process.env.EMBEDDED_CHILD) {
  const [dir, dim] = [process.env.EMBEDDED_CHILD, Number(process.env.EMBEDDED_DIM)];
  // The kill test saves after every batch, so that the kill may land in a save as well as in an upsert.
  const store = await openStore(dir, dim, { saveEvery: Number(process.env.EMBEDDED_SAVE_EVERY ?? 500) });
  const batch = 400;
  const stopAfter = Number(process.env.EMBEDDED_STOP_AFTER ?? Infinity);
  for (let b = 0; b * batch < stopAfter; b++) {
    process.stdout.write(`batch ${b}\n`);
    await store.upsert(Array.from({ length: batch }, (_, k) => itemAt(b * batch + k, dim)));
  }
  process.stdout.write('done\n');
  // Waits to be killed: the store is never closed, so the last changes are only in SQLite.
  setInterval(() => {}, 1000);
} else {
  describe('embedded store: files, crashes and recall', function () {
    this.timeout(120_000);
    const dirs: string[] = [];
    const tempDir = () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'reprise-embedded-'));
      dirs.push(dir);
      return dir;
    };
    after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

    const DIM = 48;
    const items = Array.from({ length: 600 }, (_, i) => itemAt(i, DIM));
    const queries = Array.from({ length: 20 }, (_, q) => itemAt(10_000 + q, DIM).vector);

    async function results(store: EmbeddedStore) {
      return Promise.all(queries.map(async (q) => (await store.nearest(q, { limit: 10 })).hits.map((h) => `${h.id}:${h.score.toFixed(5)}:${JSON.stringify(h.region ?? null)}`)));
    }

    /**
     * Two builds of the index are never quite the same graph (usearch adds on several threads),
     * so a rebuilt index may, rarely, miss a neighbour the first one found: the same results are
     * the same hits with the same scores and regions, but for such a miss.
     */
    function assertSame(after: string[][], before: string[][]): void {
      let shared = 0;
      after.forEach((hits, q) => {
        const old = new Set(before[q]);
        for (const hit of hits) if (old.has(hit)) shared++;
      });
      assert.ok(shared >= 0.97 * before.flat().length, `${shared} of ${before.flat().length} hits (id, score, region) are the same`);
    }

    /** A store holding `items`, closed, and what it answered before closing. */
    async function built(): Promise<{ dir: string; before: string[][] }> {
      const dir = tempDir();
      const store = await openStore(dir, DIM);
      await store.upsert(items);
      const before = await results(store);
      await store.close();
      return { dir, before };
    }

    it('keeps items, vectors and the index across close and reopen', async () => {
      const { dir, before } = await built();
      assert.ok(existsSync(path.join(dir, 'test.db')) && existsSync(path.join(dir, 'test.hnsw')) && existsSync(path.join(dir, 'test.hnsw.json')));
      const store = await openStore(dir, DIM);
      assert.equal(store.annOrigin.source, 'file');
      const stats = await store.stats();
      assert.deepEqual(stats, { modelId: MODEL, dimensions: DIM, items: 600, vectors: 600 + items.reduce((n, it) => n + (it.regions?.length ?? 0), 0), itemsWithoutVectors: 0 });
      assertSame(await results(store), before);
      assert.deepEqual((await store.get(items[5]!.id))?.record, { i: 5 });
      await store.close();
    });

    it('rebuilds a deleted index file from SQLite, with the same results', async () => {
      const { dir, before } = await built();
      rmSync(path.join(dir, 'test.hnsw'));
      const store = await openStore(dir, DIM);
      assert.equal(store.annOrigin.source, 'rebuilt');
      assertSame(await results(store), before);
      await store.close();
      assert.ok(existsSync(path.join(dir, 'test.hnsw')), 'the rebuilt index is saved');
      const again = await openStore(dir, DIM);
      assert.equal(again.annOrigin.source, 'file');
      await again.close();
    });

    it('detects a truncated index file and rebuilds it', async () => {
      const { dir, before } = await built();
      const file = path.join(dir, 'test.hnsw');
      truncateSync(file, Math.floor(statSync(file).size / 2));
      const store = await openStore(dir, DIM);
      assert.equal(store.annOrigin.source, 'rebuilt');
      assert.match(store.annOrigin.reason ?? '', /torn/);
      assertSame(await results(store), before);
      await store.close();
    });

    it('detects garbage of the right size in the index file and never hands it to usearch', async () => {
      const { dir, before } = await built();
      const file = path.join(dir, 'test.hnsw');
      const bytes = readFileSync(file);
      const rand = prng(7);
      for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(rand() * 256);
      writeFileSync(file, bytes);
      const store = await openStore(dir, DIM);
      assert.equal(store.annOrigin.source, 'rebuilt');
      assert.match(store.annOrigin.reason ?? '', /checksum/);
      assertSame(await results(store), before);
      await store.close();
    });

    it('rebuilds an index that SQLite has moved past behind its back (generation mismatch)', async () => {
      const { dir } = await built();
      // Another writer deletes items straight in SQLite: no change log, a new generation.
      const db = new Database(path.join(dir, 'test.db'));
      db.prepare(`DELETE FROM items WHERE id IN (?, ?)`).run(items[1]!.id, items[2]!.id);
      db.prepare(`UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'`).run();
      db.close();
      const store = await openStore(dir, DIM);
      assert.equal(store.annOrigin.source, 'rebuilt');
      assert.match(store.annOrigin.reason ?? '', /generation/);
      const hits = (await store.nearest(items[1]!.vector, { limit: 5 })).hits;
      assert.ok(!hits.some((h) => h.id === items[1]!.id), 'a deleted item is not found through a stale index');
      await store.close();
    });

    it('rebuilds an index file that belongs to another store', async () => {
      const { dir } = await built();
      const other = tempDir();
      const store = await openStore(other, DIM);
      await store.upsert(items.slice(0, 10));
      await store.close();
      rmSync(path.join(dir, 'test.db'));
      rmSync(path.join(dir, 'test.db-wal'), { force: true });
      rmSync(path.join(dir, 'test.db-shm'), { force: true });
      // The old index file stays; a fresh database with other items is created beside it.
      const fresh = await openStore(dir, DIM);
      assert.equal(fresh.annOrigin.source, 'rebuilt');
      assert.match(fresh.annOrigin.reason ?? '', /another store/);
      assert.equal((await fresh.nearest(items[100]!.vector, { limit: 3 })).hits.length, 0);
      await fresh.close();
    });

    it('replays the change log when the process died after committing (no rebuild)', async () => {
      const dir = tempDir();
      const child = spawn(process.execPath, ['--import', 'tsx', here], {
        env: { ...process.env, EMBEDDED_CHILD: dir, EMBEDDED_DIM: String(DIM), EMBEDDED_STOP_AFTER: '1000', EMBEDDED_SAVE_EVERY: '1500' },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      await new Promise<void>((resolve) => child.stdout!.on('data', (c: Buffer) => /done/.test(c.toString()) && resolve()));
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
      const store = await openStore(dir, DIM);
      // Three batches of about 800 vectors, saved after the second: the third is only in SQLite and its log.
      assert.equal(store.annOrigin.source, 'replayed');
      assert.ok((store.annOrigin.replayed ?? 0) > 0);
      const present = Array.from({ length: 1200 }, (_, i) => itemAt(i, DIM));
      assert.equal(store.indexedVectors, (await store.stats()).vectors);
      let self = 0;
      for (const it of present.slice(-100)) if ((await store.nearest(it.vector, { limit: 1 })).hits[0]?.id === it.id) self++;
      assert.ok(self >= 97, `${self} of the last 100 items find themselves first`);
      await store.close();
    });

    it('follows another writer on the same database (a harvest beside a running server)', async () => {
      const dir = tempDir();
      const reader = await openStore(dir, DIM);
      await reader.upsert(items.slice(0, 200));
      const writer = await openStore(dir, DIM);
      await writer.upsert(items.slice(200, 300));
      const vectorsOf = (list: StoreItem[]) => list.reduce((n, it) => n + 1 + (it.regions?.length ?? 0), 0);
      // Replayed from the change log: the new items are counted and found.
      assert.deepEqual(await reader.stats(), { modelId: MODEL, dimensions: DIM, items: 300, vectors: vectorsOf(items.slice(0, 300)), itemsWithoutVectors: 0 });
      assert.equal((await reader.nearest(items[250]!.vector, { limit: 1 })).hits[0]?.id, items[250]!.id);
      await writer.delete([items[250]!.id]);
      assert.notEqual((await reader.nearest(items[250]!.vector, { limit: 1 })).hits[0]?.id, items[250]!.id);
      // The writer saves its index and trims the log on close; a later writer's items reach the reader through that file.
      await writer.close();
      const later = await openStore(dir, DIM);
      await later.upsert(items.slice(300, 350));
      await later.close();
      assert.equal((await reader.stats()).items, 349);
      assert.equal((await reader.nearest(items[340]!.vector, { limit: 1 })).hits[0]?.id, items[340]!.id);
      assert.equal(reader.indexedVectors, (await reader.stats()).vectors);
      await reader.close();
    });

    it('answers a repeated filter from what it selected before, and sees every write since, its own or another process\'s', async () => {
      const dir = tempDir();
      // Scans of a filter's items from the first item on, so that every filtered query lists the subset.
      const reader = await openStore(dir, DIM, { exactScanLimit: 1_000_000 });
      await reader.upsert(items.slice(0, 100));
      const inK1 = async () => (await reader.nearest(items[0]!.vector, { limit: 200, filter: { collection: 'K1' } })).hits.map((h) => h.id).sort();
      const idsIn = (list: StoreItem[]) => list.filter((it) => it.collections.includes('K1')).map((it) => it.id).sort();
      assert.deepEqual(await inK1(), idsIn(items.slice(0, 100)));
      assert.equal((await reader.nearest(items[0]!.vector, { limit: 1, filter: { collection: 'K1' } })).total, 25);
      // Another connection commits: the subset grows.
      const writer = await openStore(dir, DIM);
      await writer.upsert(items.slice(100, 140));
      assert.deepEqual(await inK1(), idsIn(items.slice(0, 140)));
      assert.equal((await reader.keyword('', { limit: 1, filter: { collection: 'K1' } })).total, 35);
      // Its own writes too: a deletion and a changed collection.
      await reader.delete([items[1]!.id]);
      await reader.updateFields([{ ...items[5]!, collections: ['Kill', 'K2'] }]);
      const expected = idsIn(items.slice(0, 140)).filter((id) => id !== items[1]!.id && id !== items[5]!.id);
      assert.deepEqual(await inK1(), expected);
      assert.equal((await reader.nearest(items[0]!.vector, { limit: 1, filter: { collection: 'K1' } })).total, expected.length);
      await writer.close();
      await reader.close();
    });

    it('opened without a model, follows the schema and vectors a harvest with one writes beside it', async () => {
      const dir = tempDir();
      const reader = new EmbeddedStore(options(dir));
      await reader.open();
      const { vector: _v, regions: _r, ...bare } = items[0]!;
      await reader.upsert([bare]);
      assert.deepEqual(await reader.stats(), { items: 1, vectors: 0, itemsWithoutVectors: 1 });
      const writer = await openStore(dir, DIM);
      await writer.upsert(items.slice(0, 20));
      // A harvest with a model in another process: the server without one now finds its vectors too.
      const stats = await reader.stats();
      assert.equal(stats.modelId, MODEL);
      assert.equal(stats.items, 20);
      assert.equal(stats.itemsWithoutVectors, 0);
      assert.equal((await reader.nearest(items[7]!.vector, { limit: 1 })).hits[0]?.id, items[7]!.id);
      assert.ok((await reader.similar(items[7]!.id, { limit: 3 })).hits.length > 0);
      await writer.close();
      await reader.close();
    });

    it('reopens consistent after SIGKILL in the middle of a large upsert', async () => {
      const dir = tempDir();
      const child = spawn(process.execPath, ['--import', 'tsx', here], {
        env: { ...process.env, EMBEDDED_CHILD: dir, EMBEDDED_DIM: String(DIM) },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
      await new Promise<void>((resolve) => {
        let out = '';
        child.stdout!.on('data', (c: Buffer) => {
          out += c.toString();
          // Batch 4 has started: the kill lands inside its upsert (or the save that follows).
          if (/batch 4\n/.test(out)) setTimeout(resolve, 40);
        });
      });
      child.kill('SIGKILL');
      assert.equal(await exited, 'SIGKILL');

      const store = await openStore(dir, DIM);
      const stats = await store.stats();
      assert.ok(stats.items >= 1600, `${stats.items} items: batches 0–3 were committed`);
      assert.ok(stats.items % 400 === 0, `${stats.items} items: a batch is one transaction, all of it or none`);
      const present = Array.from({ length: stats.items }, (_, i) => itemAt(i, DIM));
      assert.equal(stats.vectors, present.reduce((n, it) => n + 1 + (it.regions?.length ?? 0), 0), 'every item has all its vectors');
      assert.equal(await store.get(itemAt(stats.items, DIM).id), undefined);
      assert.equal(store.indexedVectors, stats.vectors, 'the index holds every vector SQLite holds');
      // HNSW is approximate: an item may, rarely, miss itself in a dense cluster.
      let self = 0;
      for (const it of present) if ((await store.nearest(it.vector, { limit: 1 })).hits[0]?.id === it.id) self++;
      assert.ok(self / present.length >= 0.99, `${self} of ${present.length} items find themselves first`);
      let agree = 0;
      for (const q of queries) {
        const got = (await store.nearest(q, { limit: 10 })).hits.map((h) => h.id);
        const exact = exactTop(present, q, 10);
        agree += got.filter((id) => exact.includes(id)).length;
      }
      assert.ok(agree / (queries.length * 10) >= 0.95, `ANN agrees with an exact scan on ${agree} of ${queries.length * 10}`);
      await store.close();
    });

    it('keeps the last of an id given twice in one batch, and an unchanged re-upsert keeps the index as it was', async () => {
      const dir = tempDir();
      const store = await openStore(dir, DIM);
      const moved = itemAt(5000, DIM);
      await store.upsert([items[4]!, { ...items[4]!, vector: moved.vector, regions: [] }, items[5]!]);
      assert.deepEqual(await store.stats(), { modelId: MODEL, dimensions: DIM, items: 2, vectors: 1 + 1 + (items[5]!.regions?.length ?? 0), itemsWithoutVectors: 0 });
      assert.equal((await store.nearest(moved.vector, { limit: 1 })).hits[0]?.score.toFixed(5), '1.00000');
      await store.upsert([{ ...items[5]!, label: 'Same pixels' }]);
      assert.equal((await store.get(items[5]!.id))?.label, 'Same pixels');
      await store.close();
      const again = await openStore(dir, DIM);
      assert.equal(again.annOrigin.source, 'file');
      assert.equal((await again.stats()).vectors, 2 + (items[5]!.regions?.length ?? 0));
      await again.close();
    });

    it('validates pages, ids and vectors', async () => {
      const dir = tempDir();
      const store = await openStore(dir, DIM);
      await store.upsert(items.slice(0, 20));
      await assert.rejects(store.nearest(items[0]!.vector, { limit: 1001 }), InvalidQueryError);
      await assert.rejects(store.nearest(items[0]!.vector, { limit: 5, offset: -1 }), InvalidQueryError);
      await assert.rejects(store.similar('nope', { limit: 5 }), /nope/);
      await assert.rejects(store.nearest(new Float32Array(DIM + 3), { limit: 5 }), /51 dimensions; this index expects 48/);
      await assert.rejects(store.keyword('x', { limit: 5, filter: { dateFrom: 'last tuesday' } }), InvalidQueryError);
      await store.close();
    });

    it('scores keywords as Meilisearch folds its ranking rules, and merges hybrid lists as it does', async () => {
      // milli's Rank::global_score: words 1/2, then a perfect typo rank, then fid 1 of 2.
      assert.equal(globalScore([{ rank: 1, max: 2 }, { rank: 3, max: 3 }, { rank: 1, max: 2 }]), 5 / 12);
      const dir = tempDir();
      const store = await openStore(dir, DIM);
      await store.upsert([
        { ...items[0]!, label: 'Migrant Mother', text: 'Migrant Mother, Nipomo, California' },
        { ...items[1]!, label: 'Mother and child', text: 'A mother with a migrant family' },
        { ...items[2]!, label: 'Harvest', text: 'migrant workers' },
      ]);
      const { hits } = await store.keyword('migrant mother', { limit: 10 });
      assert.deepEqual(hits.map((h) => h.id), [items[0]!.id, items[1]!.id, items[2]!.id]);
      assert.equal(hits[0]!.score, 1, 'the label is the query: every rule at its best');
      assert.ok(hits[1]!.score > 0.5 && hits[1]!.score < 1, 'both words, apart');
      assert.ok(hits[2]!.score <= 0.5, 'one word of two');
      // Vector first on a tie; each document once, with its own unweighted score.
      const merged = mergeHybrid(
        [{ id: 'a', score: 0.8, value: 'a' }, { id: 'b', score: 0.6, value: 'b' }],
        [{ id: 'b', score: 0.9, value: 'b' }, { id: 'c', score: 0.7, value: 'c' }],
        0.4,
        0,
        10,
      );
      assert.deepEqual(merged.map((m) => [m.id, m.score]), [['a', 0.8], ['b', 0.9], ['c', 0.7]]);
      await store.close();
    });

    it('reaches recall@10 ≥ 0.95 with the default settings on clustered 512-d vectors', async function () {
      const dim = 512;
      const n = 20_000;
      const centres = Array.from({ length: 200 }, (_, c) => normalise(Float32Array.from({ length: dim }, gaussian(500_000 + c))));
      const noise = gaussian(99);
      // Noise of norm about 0.5 around each centre: neighbours in a cluster at cosine ≈ 0.8.
      const around = (c: number) => normalise(Float32Array.from(centres[c]!, (x) => x + (0.5 / Math.sqrt(dim)) * noise()));
      const vectors = Array.from({ length: n }, (_, i) => around(i % 200));
      const dir = tempDir();
      const store = await openStore(dir, dim);
      for (let start = 0; start < n; start += 5000) {
        await store.upsert(vectors.slice(start, start + 5000).map((vector, k) => ({ ...itemAt(start + k, 4), regions: [], vector })));
      }
      let found = 0;
      const Q = 100;
      for (let q = 0; q < Q; q++) {
        const query = around((q * 37) % 200);
        const exact = vectors
          .map((v, i) => ({ i, s: dotOf(query, v) }))
          .sort((a, b) => b.s - a.s)
          .slice(0, 10)
          .map((x) => x.i.toString(16).padStart(32, '0'));
        const got = (await store.nearest(query, { limit: 10 })).hits.map((h) => h.id);
        found += got.filter((id) => exact.includes(id)).length;
      }
      const recall = found / (Q * 10);
      assert.ok(recall >= 0.95, `recall@10 ${recall}`);
      await store.close();
    });
  });
}
