/**
 * npm run bench:api — the HTTP API under load, as `reprise serve` runs it: 100k items in the
 * embedded store, the tiny generated CLIP model (so the real text encoder runs on every text
 * query), the server in a process of its own on 127.0.0.1 (with --workers N, N processes),
 * wrk (when installed; BENCH_LOADER=autocannon to choose) or autocannon against it for BENCH_SECONDS
 * (default 20) per point after a short warm-up:
 *
 *   similar  GET /api/items/{random id}/similar?limit=20
 *   text     GET /api/search?q={one of ~24k varied queries}&limit=20   (the encoder cache, 1,000 entries, rarely hits)
 *
 * Each server (BENCH_WORKERS, default "1,2": one worker process, then two) is measured at each
 * concurrency of BENCH_CONNECTIONS (default "1,2,4,10") in the same run, so that the ratio of
 * their throughputs compares like with like. Reports throughput, p50/p95/p99 latency (every
 * response's time, not autocannon's coarser buckets) and errors (connection errors, timeouts,
 * non-2xx); prints tables and writes bench-output/api.json. The load generator runs on the same
 * machine: autocannon, in this process, takes much of a core (on two cores a second server process
 * then has none free: said in the output); wrk takes a few per cent of one, measured and reported. The model and the store are built once and cached under
 * bench-output/api-bench/ (delete it to rebuild). Needs ../shared/fixtures (the CLIP BPE vocabulary) the first time.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../config/index.ts';
import { storeSchema } from '../../config/schema.ts';
import type { IndexedRecord } from '../../harvester/stage.ts';
import { generateClipModel } from '../../models/generate/model-folder.ts';
import { resolveModelFiles } from '../../models/layout.ts';
import { readModelConfig } from '../../models/model-config.ts';
import { EmbeddedStore } from '../../store/embedded/embedded-store.ts';
import type { StoreItem } from '../../store/types.ts';
import { fixture } from '../support/fixtures.ts';
import { gaussian, normalise } from './vectors.ts';

const ITEMS = Number(process.env.BENCH_ITEMS ?? 100_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const CONNECTIONS = (process.env.BENCH_CONNECTIONS ?? '1,2,4,10').split(',').filter(Boolean).map(Number);
const WORKERS = (process.env.BENCH_WORKERS ?? '1,2').split(',').filter(Boolean).map(Number);
const WARMUP_SECONDS = Math.min(5, Math.max(1, Math.round(SECONDS / 10)));
const CENTRES = 1000;
const BATCH = 5000;
const CANVASES_PER_MANIFEST = 20;
const TARGETS = { similarP95Ms: 20, textP95Ms: 60 };
/** Bump when the generated items change, so a cached store is rebuilt. */
const FORMAT = 1;

const here = fileURLToPath(import.meta.url);
const root = path.resolve('bench-output', 'api-bench');
const modelDir = path.join(root, 'model');
const dataDir = path.join(root, 'data');

// --- deterministic data -------------------------------------------------------

/** The harvester's item ids are 32 hex characters; these are derived from the index alone. */
const itemIdAt = (i: number) => createHash('md5').update(`bench-item-${i}`).digest('hex');

const SUBJECTS = ['Sharecropper', 'Migrant worker', 'Farmer', 'Children', 'Cotton picker', 'Tenant family', 'Miner', 'Mother and child', 'Road worker', 'Grain elevator', 'Country store', 'Church', 'Main street', 'Dust storm', 'Tractor', 'Mule team', 'Railroad yard', 'Schoolhouse', 'Barn', 'Kitchen'];
const PLACES = ['Greene County, Georgia', 'Imperial Valley, California', 'Cimarron County, Oklahoma', 'Gee’s Bend, Alabama', 'Lancaster County, Pennsylvania', 'Scotts Run, West Virginia', 'Dyess Colony, Arkansas', 'Coffee County, Alabama', 'Nipomo, California', 'Taos County, New Mexico'];
const PHOTOGRAPHERS = ['Dorothea Lange', 'Walker Evans', 'Arthur Rothstein', 'Russell Lee', 'Marion Post Wolcott', 'Jack Delano', 'John Vachon', 'Ben Shahn'];
const REGIONS = ['South', 'Midwest', 'West', 'Northeast', 'Southwest', 'Appalachia', 'Great Plains', 'Pacific'];
const RIGHTS = ['http://rightsstatements.org/vocab/NoC-US/1.0/', 'https://creativecommons.org/publicdomain/mark/1.0/', 'http://rightsstatements.org/vocab/CNE/1.0/'];

function itemAt(i: number, dims: number, centres: Float32Array[]): StoreItem {
  const m = Math.floor(i / CANVASES_PER_MANIFEST);
  const index = i % CANVASES_PER_MANIFEST;
  const subject = SUBJECTS[(i * 7) % SUBJECTS.length]!;
  const place = PLACES[m % PLACES.length]!;
  const photographer = PHOTOGRAPHERS[m % PHOTOGRAPHERS.length]!;
  const year = 1935 + (m % 9);
  const manifestId = `https://bench.example.org/iiif/fsa/${m}/manifest`;
  const canvasId = `https://bench.example.org/iiif/fsa/${m}/canvas/${index + 1}`;
  const service = `https://bench.example.org/iiif/image/fsa-${m}-${index + 1}`;
  const label = `${subject}, ${place}, ${year}`;
  const manifestLabel = `${photographer}: ${place} (${year}), ${CANVASES_PER_MANIFEST} negatives`;
  const summary = `Photographs made by ${photographer} for the Resettlement Administration in ${place}.`;
  const collectionPath = ['Farm Security Administration', `Region: ${REGIONS[m % REGIONS.length]}`];
  const width = 4000 + (i % 7) * 100;
  const height = 3000 + (i % 5) * 100;
  const record: IndexedRecord = {
    canvasId,
    index,
    width,
    height,
    manifestId,
    manifestLabel: { en: [manifestLabel] },
    label: { none: [label] },
    summary: { en: [summary] },
    metadata: [
      { label: { en: ['Photographer'] }, value: { none: [photographer] } },
      { label: { en: ['Subject'] }, value: { en: [subject, place] } },
      { label: { en: ['Call number'] }, value: { none: [`LC-USF34-${String(10_000 + i).padStart(6, '0')}-D`] } },
    ],
    rights: RIGHTS[m % RIGHTS.length],
    requiredStatement: { label: { en: ['Attribution'] }, value: { en: ['Library of Congress, Prints & Photographs Division, FSA/OWI Collection'] } },
    navDate: `${year}-${String(1 + (m % 12)).padStart(2, '0')}-01T00:00:00Z`,
    homepage: `https://bench.example.org/item/fsa-${m}`,
    image: { url: `${service}/full/max/0/default.jpg`, format: 'image/jpeg', width, height, service: { id: service, version: 3, level: 1 } },
    alternatives: [],
    manifestUrl: manifestId,
    sourceUrl: 'https://bench.example.org/iiif/fsa/collection.json',
    collectionPath,
    imageUrl: `${service}/full/!640,640/0/default.jpg`,
  };
  // Clustered like photographs of one subject: unit centres plus noise of norm about 0.5.
  const g = gaussian(1000 + i * 7919);
  const sigma = 0.5 / Math.sqrt(dims);
  const vector = normalise(Float32Array.from(centres[i % CENTRES]!, (x) => x + sigma * g()));
  return {
    id: itemIdAt(i),
    canvasId,
    manifestId,
    manifestUrl: manifestId,
    source: record.sourceUrl,
    collections: collectionPath,
    label,
    labels: [subject, photographer],
    date: record.navDate!.replace('Z', '.000Z'),
    rights: record.rights,
    text: [label, manifestLabel, summary, photographer, subject, place].join(' \n'),
    record: record as unknown as Record<string, unknown>,
    vector,
  };
}

/** Varied text queries: ~24k distinct strings, so the text encoder's 1,000-entry cache rarely answers. */
function queryPool(): string[] {
  const what = ['a farmer', 'children', 'a woman', 'an old man', 'a family', 'workers', 'a horse', 'a mule', 'a dog', 'a car', 'a truck', 'a tractor', 'a train', 'a house', 'a barn', 'a church', 'a store', 'a school', 'a road', 'a field', 'cotton', 'wheat', 'corn', 'a river', 'a bridge', 'a crowd', 'a kitchen', 'a porch', 'a tent', 'a sign'];
  const doing = ['standing', 'sitting', 'working', 'walking', 'waiting', 'in the rain', 'at dusk', 'in winter', 'in the dust', 'near a fence', 'by the road', 'in front of a shack', 'on a porch', 'in a field', 'at the market', 'with tools', 'in a doorway', 'under a tree', 'beside a car', 'at a table'];
  const style = ['', 'photograph of ', 'close-up of ', 'portrait of ', 'wide view of ', 'old photo of ', 'black and white picture of ', 'group of ', 'two ', 'a lonely ', 'documentary photo of ', 'snapshot of ', 'detail of ', 'aerial view of ', 'interior with ', 'street scene with ', 'rural scene with ', 'sad ', 'smiling ', 'tired ', 'poor ', 'busy ', 'empty ', 'crowded ', 'small ', 'large ', 'wooden ', 'broken ', 'new ', 'dusty ', 'muddy ', 'sunny ', 'snowy ', 'dark ', 'bright ', 'early morning ', 'evening ', 'summer ', 'autumn ', 'spring '];
  const out: string[] = [];
  for (const s of style) for (const w of what) for (const d of doing) out.push(`${s}${w} ${d}`.trim());
  return out;
}

// --- phases -------------------------------------------------------------------

async function ensureModel(): Promise<{ modelId: string; dimensions: number }> {
  if (!existsSync(path.join(modelDir, 'onnx', 'text_model.onnx'))) {
    console.log(`generating the tiny CLIP model (random weights) into ${modelDir} …`);
    rmSync(modelDir, { recursive: true, force: true });
    await generateClipModel({ dir: modelDir, layout: 'huggingface', size: 'tiny', seed: 7, bpeVocabPath: fixture('clip', 'bpe_simple_vocab_16e6.txt') });
  }
  const config = readModelConfig(resolveModelFiles(modelDir));
  return { modelId: config.modelId, dimensions: config.projectionDim };
}

/** Child process: writes ITEMS items into the store the server will open (dataDir/index/reprise.db). */
async function build(modelId: string, dimensions: number): Promise<{ seconds: number }> {
  const g = gaussian(1);
  const centres = Array.from({ length: CENTRES }, () => normalise(Float32Array.from({ length: dimensions }, g)));
  const cfg = storeSchema.parse({});
  const store = new EmbeddedStore({ dir: path.join(dataDir, 'index'), index: cfg.index, ...cfg.embedded });
  await store.open({ modelId, dimensions });
  const t0 = performance.now();
  for (let start = 0; start < ITEMS; start += BATCH) {
    await store.upsert(Array.from({ length: Math.min(BATCH, ITEMS - start) }, (_, k) => itemAt(start + k, dimensions, centres)));
  }
  await store.close();
  return { seconds: (performance.now() - t0) / 1000 };
}

/** RSS of the cluster's worker processes (Linux /proc), in MB. */
async function workersRssMb(): Promise<number | undefined> {
  const cluster = (await import('node:cluster')).default;
  const { readFileSync } = await import('node:fs');
  let kb = 0;
  for (const worker of Object.values(cluster.workers ?? {})) {
    try {
      kb += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${worker!.process.pid}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      return undefined;
    }
  }
  return Math.round(kb / 1024);
}

/** Child process: the server as `reprise serve [--workers N]` starts it, no rate limit; prints its URL, and its memory when told to stop. */
async function serve(workers: number): Promise<void> {
  const { startServer } = await import('../../cli/commands/serve.ts');
  const config = loadConfig({
    env: {},
    overrides: { dataDir, 'models.path': modelDir, 'api.host': '127.0.0.1', 'api.port': 0, 'api.rateLimitPerMinute': 0, 'log.level': 'warn', 'api.workers': workers },
  });
  if (workers > 1) {
    const cluster = (await import('node:cluster')).default;
    const { serveWithWorkers } = await import('../../cli/commands/serve-workers.ts');
    const { createLogger } = await import('../../cli/progress.ts');
    let rss: number | undefined;
    if (cluster.isPrimary) {
      process.once('SIGTERM', () => {
        // Read before the workers stop; the primary's own stop runs on the same signal.
        void workersRssMb().then((mb) => (rss = mb));
      });
    }
    const code = await serveWithWorkers(config, createLogger('warn'), { onListening: (url) => process.stdout.write(JSON.stringify({ url }) + '\n') });
    if (cluster.isPrimary) process.stdout.write(JSON.stringify({ rssMb: rss, workers }) + '\n');
    process.exit(code);
  }
  const running = await startServer(config);
  process.stdout.write(JSON.stringify({ url: running.url }) + '\n');
  process.once('SIGTERM', () => {
    const rssMb = Math.round(process.memoryUsage().rss / 1048576);
    const peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
    void running.close().then(() => {
      process.stdout.write(JSON.stringify({ rssMb, peakRssMb }) + '\n');
      process.exit(0);
    });
  });
}

// --- load ---------------------------------------------------------------------

interface AutocannonResult {
  duration: number;
  requests: { total: number; average: number };
  errors: number;
  timeouts: number;
  non2xx: number;
}
interface AutocannonInstance extends PromiseLike<AutocannonResult> {
  on(event: 'response', listener: (client: unknown, statusCode: number, resBytes: number, responseTime: number) => void): void;
}
type Autocannon = (opts: Record<string, unknown>) => AutocannonInstance;
// autocannon ships no types: the call and the fields used here.
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

interface Scenario {
  name: 'similar' | 'text';
  path: () => string;
}

async function load(url: string, scenario: Scenario, seconds: number, connections: number) {
  return LOADER === 'wrk' ? loadWithWrk(url, scenario, seconds, connections) : loadWithAutocannon(url, scenario, seconds, connections);
}

async function loadWithAutocannon(url: string, scenario: Scenario, seconds: number, connections: number) {
  const times: number[] = [];
  const statuses: Record<string, number> = {};
  const instance = autocannon({
    url,
    connections,
    duration: seconds,
    timeout: 10,
    requests: [{ method: 'GET', setupRequest: (req: Record<string, unknown>) => ({ ...req, path: scenario.path() }) }],
  });
  instance.on('response', (_client, statusCode, _bytes, responseTime) => {
    times.push(responseTime);
    statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
  });
  const result = await instance;
  times.sort((a, b) => a - b);
  return {
    scenario: scenario.name,
    seconds: result.duration,
    connections,
    requests: result.requests.total,
    requestsPerSecond: +(times.length / result.duration).toFixed(1),
    p50Ms: +percentile(times, 50).toFixed(2),
    p95Ms: +percentile(times, 95).toFixed(2),
    p99Ms: +percentile(times, 99).toFixed(2),
    maxMs: +(times.at(-1) ?? NaN).toFixed(2),
    errors: result.errors + result.timeouts + result.non2xx,
    statuses,
    loaderCoreShare: undefined as number | undefined,
  };
}

// --- wrk: a load generator that leaves the server its cores ----------------------

/**
 * wrk (C, one thread, Debian's `wrk` package) when it is installed: at the few hundred requests
 * a second measured here it takes a few per cent of a core, where autocannon in this process
 * takes much of one, so on a two-core machine both server processes get a core each. Paths come
 * from a file of the scenario's own random paths; wrk's Lua `done` hook prints the figures, and
 * the shell's `times` what wrk used of the CPU.
 */
const WRK_SCRIPT = `
local paths = {}
for line in io.lines(os.getenv("REPRISE_WRK_PATHS")) do paths[#paths + 1] = line end
local i = 0
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("REPRISE %d %d %d %d %.3f %.3f %.3f %.3f\\n", summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
`;

const LOADER: 'wrk' | 'autocannon' = (process.env.BENCH_LOADER as 'wrk' | 'autocannon' | undefined) ?? (hasWrk() ? 'wrk' : 'autocannon');

function hasWrk(): boolean {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (err) {
    // wrk --version prints its version and exits 1.
    return (err as { status?: number }).status === 1;
  }
}

async function loadWithWrk(url: string, scenario: Scenario, seconds: number, connections: number) {
  mkdirSync(root, { recursive: true });
  const script = path.join(root, 'wrk.lua');
  writeFileSync(script, WRK_SCRIPT);
  const pathsFile = path.join(root, `wrk-${scenario.name}.txt`);
  writeFileSync(pathsFile, Array.from({ length: 20_000 }, () => scenario.path()).join('\n') + '\n');
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn('bash', ['-c', 'wrk "$@"; status=$?; times; exit $status', 'wrk', '-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '10s', '-s', script, url], {
      env: { ...process.env, REPRISE_WRK_PATHS: pathsFile },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let text = '';
    child.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`wrk exited with ${code}: ${text}`))));
  });
  const figures = /REPRISE (\d+) (\d+) (\d+) (\d+) ([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+)/.exec(out);
  if (!figures) throw new Error(`wrk printed no figures: ${out}`);
  const [requests, durationUs, errors, non2xx, p50, p95, p99, max] = figures.slice(1).map(Number) as number[];
  // `times`: the shell's own user/system time, then its children's (wrk's).
  const clock = [...out.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  const loaderCpuSeconds = (clock[2] ?? 0) + (clock[3] ?? 0);
  const duration = durationUs! / 1e6;
  return {
    scenario: scenario.name,
    seconds: duration,
    connections,
    requests: requests!,
    requestsPerSecond: +(requests! / duration).toFixed(1),
    p50Ms: +p50!.toFixed(2),
    p95Ms: +p95!.toFixed(2),
    p99Ms: +p99!.toFixed(2),
    maxMs: +max!.toFixed(2),
    errors: errors! + non2xx!,
    statuses: {} as Record<string, number>,
    loaderCoreShare: +(loaderCpuSeconds / duration).toFixed(3),
  };
}

function startServerProcess(workers: number): Promise<{ child: ChildProcess; url: string; lines: AsyncIterableIterator<string> }> {
  const child = spawn(process.execPath, [...(process.env.BENCH_SERVER_PROFILE ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_SERVER_PROFILE] : []), '--import', 'tsx', here, 'serve', String(workers)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the server exited (${code}) before listening`)));
    void lines.next().then(({ value }) => resolve({ child, url: (JSON.parse(String(value)) as { url: string }).url, lines }), reject);
  });
}

async function main(): Promise<void> {
  const { modelId, dimensions } = await ensureModel();
  const metaFile = path.join(root, 'store.json');
  const wanted = { format: FORMAT, items: ITEMS, modelId, dimensions };
  const cached = existsSync(metaFile) ? (JSON.parse(readFileSync(metaFile, 'utf8')) as typeof wanted & { buildSeconds: number }) : undefined;
  let buildSeconds = cached?.buildSeconds;
  if (!cached || JSON.stringify({ format: cached.format, items: cached.items, modelId: cached.modelId, dimensions: cached.dimensions }) !== JSON.stringify(wanted)) {
    console.log(`building the store: ${ITEMS} items, ${dimensions}-dimensional vectors (${modelId}) …`);
    rmSync(dataDir, { recursive: true, force: true });
    mkdirSync(dataDir, { recursive: true });
    const out = execFileSync(process.execPath, ['--import', 'tsx', here, 'build', modelId, String(dimensions)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    buildSeconds = (JSON.parse(out.trim().split('\n').at(-1)!) as { seconds: number }).seconds;
    writeFileSync(metaFile, JSON.stringify({ ...wanted, buildSeconds }, null, 2) + '\n');
    console.log(`  built in ${buildSeconds.toFixed(1)} s`);
  } else {
    console.log(`reusing the store in ${dataDir} (${ITEMS} items; delete ${root} to rebuild)`);
  }

  const pool = queryPool();
  let seed = 12345;
  const random = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 4294967296;
  };
  const scenarios: Scenario[] = [
    { name: 'similar', path: () => `/api/items/${itemIdAt(Math.floor(random() * ITEMS))}/similar?limit=20` },
    { name: 'text', path: () => `/api/search?q=${encodeURIComponent(pool[Math.floor(random() * pool.length)]!)}&limit=20` },
  ];

  type Row = Awaited<ReturnType<typeof load>> & { workers: number };
  const rows: Row[] = [];
  const memory: Record<number, { rssMb?: number; peakRssMb?: number } | undefined> = {};
  const loadAverageAtStart = os.loadavg()[0] ?? 0;
  for (const workers of WORKERS) {
    const server = await startServerProcess(workers);
    console.log(`${workers} worker process${workers > 1 ? 'es' : ''} at ${server.url}; ${SECONDS} s per point after ${WARMUP_SECONDS} s of warm-up; load average ${os.loadavg()[0]!.toFixed(2)}`);
    try {
      for (const scenario of scenarios) await load(server.url, scenario, WARMUP_SECONDS, Math.max(...CONNECTIONS));
      for (const connections of CONNECTIONS) {
        for (const scenario of scenarios) {
          const row = { ...(await load(server.url, scenario, SECONDS, connections)), workers };
          console.log(`  ${workers}w ${scenario.name} @${connections}: ${row.requestsPerSecond} req/s, p95 ${row.p95Ms} ms, ${row.errors} errors`);
          rows.push(row);
        }
      }
    } finally {
      server.child.kill('SIGTERM');
    }
    for (;;) {
      const { value, done } = await server.lines.next().catch(() => ({ value: undefined, done: true }));
      if (done) break;
      const parsed = JSON.parse(String(value)) as { rssMb?: number; peakRssMb?: number };
      if ('rssMb' in parsed) {
        memory[workers] = parsed;
        break;
      }
    }
    await new Promise((resolve) => (server.child.exitCode !== null ? resolve(undefined) : server.child.once('exit', resolve)));
  }

  console.log();
  console.table(rows.map(({ statuses: _s, seconds: _d, requests: _r, ...r }) => r));
  const at = (workers: number, connections: number, name: string) => rows.find((r) => r.workers === workers && r.connections === connections && r.scenario === name);
  const speedups = [];
  if (WORKERS.length > 1) {
    const [one, more] = [WORKERS[0]!, WORKERS.at(-1)!];
    for (const connections of CONNECTIONS) {
      for (const scenario of scenarios) {
        const a = at(one, connections, scenario.name);
        const b = at(more, connections, scenario.name);
        if (a && b) speedups.push({ scenario: scenario.name, connections, [`rps${one}w`]: a.requestsPerSecond, [`rps${more}w`]: b.requestsPerSecond, throughputRatio: +(b.requestsPerSecond / a.requestsPerSecond).toFixed(2), [`p95${one}w`]: a.p95Ms, [`p95${more}w`]: b.p95Ms });
      }
    }
    console.table(speedups);
  }
  const cores = os.availableParallelism();
  const loaderShare = Math.max(0, ...rows.map((r) => r.loaderCoreShare ?? 0));
  const coreNote =
    LOADER === 'wrk'
      ? `${cores} cores; the load generator (wrk, one thread) took at most ${(loaderShare * 100).toFixed(1)} % of one core at any point, leaving the cores to the server`
      : cores <= 2
        ? `${cores} cores: autocannon (this process) takes much of one, so a second server process has no free core to use; the ≥ 1.6× target at 10 connections needs a machine where the load generator leaves a core free (install wrk)`
        : `${cores} cores`;
  console.log(`load average at start ${loadAverageAtStart.toFixed(2)}; ${coreNote}`);
  const similar = at(WORKERS[0]!, Math.max(...CONNECTIONS), 'similar');
  const text = at(WORKERS[0]!, Math.max(...CONNECTIONS), 'text');
  const verdict = (value: number, target: number) => `${value} ms (target ≤ ${target} ms: ${value <= target ? 'met' : 'MISSED'})`;
  if (similar && text) console.log(`${WORKERS[0]} worker, ${Math.max(...CONNECTIONS)} connections: similar-by-id p95 ${verdict(similar.p95Ms, TARGETS.similarP95Ms)}; text p95 ${verdict(text.p95Ms, TARGETS.textP95Ms)}`);
  for (const workers of WORKERS) if (memory[workers]?.rssMb) console.log(`server RSS with ${workers} worker(s): ${memory[workers]!.rssMb} MB${workers > 1 ? ' (workers together; the mapped index file is counted once per process by RSS although its pages are shared)' : ''}`);

  mkdirSync('bench-output', { recursive: true });
  const report = {
    similarP95Ms: similar?.p95Ms,
    textP95Ms: text?.p95Ms,
    errors: rows.reduce((n, r) => n + r.errors, 0),
    targets: { ...TARGETS, throughputRatioAt10: 1.6 },
    rows,
    speedups,
    setup: {
      items: ITEMS,
      dimensions,
      modelId,
      workers: WORKERS,
      connections: CONNECTIONS,
      secondsPerPoint: SECONDS,
      warmupSeconds: WARMUP_SECONDS,
      textQueries: pool.length,
      storeBuildSeconds: buildSeconds,
      cpus: cores,
      cpuModel: os.cpus()[0]?.model,
      node: process.version,
      serverRss: memory,
      loadAverageAtStart,
      loader: LOADER,
      loaderMaxCoreShare: LOADER === 'wrk' ? loaderShare : undefined,
      note: `${LOADER === 'wrk' ? 'wrk runs in a process of its own' : 'autocannon runs in the bench process'} on the same machine as the server (${coreNote}); the text encoder is the tiny generated model (32 dimensions), far cheaper than a real CLIP text tower`,
    },
  };
  writeFileSync(path.join('bench-output', 'api.json'), JSON.stringify(report, null, 2) + '\n');
  console.log('wrote bench-output/api.json');
}

const [role, ...args] = process.argv.slice(2);
if (role === 'build') {
  process.stdout.write(JSON.stringify(await build(args[0]!, Number(args[1]))) + '\n');
} else if (role === 'serve') {
  await serve(Number(args[0] ?? 1));
} else {
  await main();
}
