/**
 * npm run bench:store — the embedded store at 100k and 1M vectors of 512 dimensions,
 * clustered (1,000 random unit centres, Gaussian noise, normalised): insert time, top-10
 * query p50/p95 with and without a filter, recall@10 against an exact scan, RSS of a
 * process that opens the store and serves queries, disk size. Prints a table and writes
 * bench-output/store.json.
 *
 * Each phase runs in its own process so that RSS is the store's, not the generator's:
 *   build  — inserts N generated vectors (never all in memory at once);
 *   query  — opens the store from disk and runs the queries;
 *   the parent computes the exact top-10 by streaming the same vectors again.
 * BENCH_SIZES=100000 limits the sizes; BENCH_QUANTIZATION=f16 picks the index storage.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { storeSchema } from '../../config/schema.ts';
import { EmbeddedStore } from '../../store/embedded/embedded-store.ts';
import type { StoreItem } from '../../store/types.ts';
import { gaussian, normalise } from './vectors.ts';

const DIM = 512;
const CENTRES = 1000;
const QUERIES = 200;
const RECALL_QUERIES = 100;
const BATCH = 5000;
const here = fileURLToPath(import.meta.url);


const centres = (() => {
  const g = gaussian(1);
  return Array.from({ length: CENTRES }, () => normalise(Float32Array.from({ length: DIM }, g)));
})();

/** Vector i of the collection: its own seed, so any range can be regenerated alone. */
function vectorAt(i: number, seed = 1000): Float32Array {
  const g = gaussian(seed + i * 7919);
  const c = centres[i % CENTRES]!;
  // Noise of norm about 0.5: neighbours in a cluster sit at cosine 0.8, as photographs of one subject do.
  const sigma = 0.5 / Math.sqrt(DIM);
  return normalise(Float32Array.from(c, (x) => x + sigma * g()));
}

/** Queries: perturbed copies of collection vectors, as an image query near an indexed photograph. */
const queryAt = (q: number, n: number) => {
  const base = vectorAt((q * 104729) % n);
  const g = gaussian(99 + q);
  return normalise(Float32Array.from(base, (x) => x + (0.3 / Math.sqrt(DIM)) * g()));
};

function item(i: number): StoreItem {
  const id = i.toString(16).padStart(32, '0');
  return {
    id,
    canvasId: `https://bench.test/canvas/${i}`,
    manifestId: `https://bench.test/manifest/${Math.floor(i / 20)}`,
    manifestUrl: `https://bench.test/manifest/${Math.floor(i / 20)}`,
    collections: ['Bench', `C${i % 10}`],
    label: `Canvas ${i}`,
    labels: [],
    text: `Canvas ${i}`,
    record: {},
    vector: vectorAt(i),
  };
}

function openStore(dir: string) {
  const embedded: Record<string, unknown> = {};
  if (process.env.BENCH_QUANTIZATION) embedded.quantization = process.env.BENCH_QUANTIZATION;
  if (process.env.BENCH_EXPANSION_SEARCH) embedded.expansionSearch = Number(process.env.BENCH_EXPANSION_SEARCH);
  const cfg = storeSchema.parse({ embedded });
  return new EmbeddedStore({ dir, index: 'bench', ...cfg.embedded });
}

const duSize = (dir: string): number =>
  readdirSync(dir, { withFileTypes: true }).reduce((s, e) => s + (e.isDirectory() ? duSize(path.join(dir, e.name)) : statSync(path.join(dir, e.name)).size), 0);

const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

async function build(dir: string, n: number) {
  const store = openStore(dir);
  await store.open({ modelId: 'bench', dimensions: DIM });
  const t0 = performance.now();
  for (let start = 0; start < n; start += BATCH) {
    await store.upsert(Array.from({ length: Math.min(BATCH, n - start) }, (_, k) => item(start + k)));
  }
  const insertSeconds = (performance.now() - t0) / 1000;
  await store.close();
  return { insertSeconds };
}

async function query(dir: string, n: number) {
  const t0 = performance.now();
  const store = openStore(dir);
  await store.open({ modelId: 'bench', dimensions: DIM });
  const openSeconds = (performance.now() - t0) / 1000;
  const plain: number[] = [];
  const filtered: number[] = [];
  const results: string[][] = [];
  for (let q = 0; q < QUERIES; q++) {
    const v = queryAt(q, n);
    let t = performance.now();
    const { hits } = await store.nearest(v, { limit: 10 });
    plain.push(performance.now() - t);
    if (q < RECALL_QUERIES) results.push(hits.map((h) => h.id));
    t = performance.now();
    await store.nearest(v, { limit: 10, filter: { collection: `C${q % 10}` } });
    filtered.push(performance.now() - t);
  }
  const rssMb = Math.round(process.memoryUsage().rss / 1048576);
  const peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
  await store.close();
  return {
    openSeconds,
    p50Ms: percentile(plain, 50),
    p95Ms: percentile(plain, 95),
    filteredP50Ms: percentile(filtered, 50),
    filteredP95Ms: percentile(filtered, 95),
    rssMb,
    peakRssMb,
    results,
  };
}

/** The exact top-10 of each recall query, streaming the collection once; kept beside the store for later runs. */
function exactTop10(n: number, dir: string): string[][] {
  const cache = path.join(dir, `exact-top10-${RECALL_QUERIES}.json`);
  if (existsSync(cache)) return JSON.parse(readFileSync(cache, 'utf8')) as string[][];
  const truth = computeExactTop10(n);
  writeFileSync(cache, JSON.stringify(truth));
  return truth;
}

function computeExactTop10(n: number): string[][] {
  const queries = Array.from({ length: RECALL_QUERIES }, (_, q) => queryAt(q, n));
  const best = queries.map(() => [] as Array<{ i: number; s: number }>);
  for (let i = 0; i < n; i++) {
    const v = vectorAt(i);
    for (let q = 0; q < queries.length; q++) {
      const qv = queries[q]!;
      let s = 0;
      for (let d = 0; d < DIM; d++) s += qv[d]! * v[d]!;
      const top = best[q]!;
      if (top.length < 10 || s > top[top.length - 1]!.s) {
        top.push({ i, s });
        top.sort((a, b) => b.s - a.s);
        if (top.length > 10) top.pop();
      }
    }
  }
  return best.map((top) => top.map((t) => t.i.toString(16).padStart(32, '0')));
}

function child(role: string, dir: string, n: number): Record<string, unknown> {
  const out = execFileSync(process.execPath, ['--import', 'tsx', here, role, dir, String(n)], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

const [role, dirArg, nArg] = process.argv.slice(2);
if (role === 'build' || role === 'query') {
  const result = role === 'build' ? await build(dirArg!, Number(nArg)) : await query(dirArg!, Number(nArg));
  process.stdout.write(JSON.stringify(result) + '\n');
} else {
  const sizes = (process.env.BENCH_SIZES ?? '100000,1000000').split(',').map(Number);
  const rows = [];
  for (const n of sizes) {
    const dir = path.resolve('bench-output', 'store-bench', String(n));
    // BENCH_REUSE=1 queries the store the last run built (same data), to compare query settings.
    const reuse = process.env.BENCH_REUSE === '1' && existsSync(path.join(dir, 'build.json'));
    let built: Record<string, unknown>;
    if (reuse) {
      built = JSON.parse(readFileSync(path.join(dir, 'build.json'), 'utf8')) as Record<string, unknown>;
      console.log(`${n} vectors: reusing the store built in ${(built.insertSeconds as number).toFixed(1)} s; querying …`);
    } else {
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      console.log(`${n} vectors: building …`);
      built = child('build', dir, n);
      writeFileSync(path.join(dir, 'build.json'), JSON.stringify(built));
      console.log(`  inserted in ${(built.insertSeconds as number).toFixed(1)} s; querying …`);
    }
    const served = child('query', dir, n);
    console.log('  exact scan for recall …');
    const exact = exactTop10(n, dir);
    const got = served.results as string[][];
    const recall = exact.reduce((s, truth, q) => s + truth.filter((id) => got[q]!.includes(id)).length / 10, 0) / exact.length;
    rows.push({
      vectors: n,
      insertSeconds: +(built.insertSeconds as number).toFixed(1),
      insertPerSecond: Math.round(n / (built.insertSeconds as number)),
      openSeconds: +(served.openSeconds as number).toFixed(2),
      p50Ms: +(served.p50Ms as number).toFixed(2),
      p95Ms: +(served.p95Ms as number).toFixed(2),
      filteredP50Ms: +(served.filteredP50Ms as number).toFixed(2),
      filteredP95Ms: +(served.filteredP95Ms as number).toFixed(2),
      recallAt10: +recall.toFixed(4),
      rssMb: served.rssMb as number,
      peakRssMb: served.peakRssMb as number,
      diskMb: Math.round(duSize(dir) / 1048576),
    });
    console.table(rows.slice(-1));
  }
  const quantization = process.env.BENCH_QUANTIZATION ?? storeSchema.parse({}).embedded.quantization;
  console.log(`\nstore benchmark: embedded store (${quantization} index), ${DIM}-d clustered vectors, ${os.availableParallelism()} cores, ${os.cpus()[0]?.model}\n`);
  console.table(rows);
  const at1M = rows.find((r) => r.vectors === 1_000_000);
  const largest = rows.at(-1)!;
  const out = {
    benchmark: 'store',
    date: new Date().toISOString(),
    store: 'embedded',
    quantization,
    expansionSearch: storeSchema.parse({ embedded: process.env.BENCH_EXPANSION_SEARCH ? { expansionSearch: Number(process.env.BENCH_EXPANSION_SEARCH) } : {} }).embedded.expansionSearch,
    machine: { cores: os.availableParallelism(), cpu: os.cpus()[0]?.model, node: process.version },
    p95Ms1M: at1M?.p95Ms ?? null,
    recallAt10: largest.recallAt10,
    rssMb1M: at1M?.rssMb ?? null,
    runs: rows,
  };
  mkdirSync('bench-output', { recursive: true });
  writeFileSync('bench-output/store.json', JSON.stringify(out, null, 2) + '\n');
  console.log('wrote bench-output/store.json');
}
