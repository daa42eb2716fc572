/**
 * npm run bench:e2e — the product end to end on this machine: a harvest of BENCH_E2E_CANVASES
 * (default 1,040) canvases from a loopback IIIF institution (its own process, static level-0
 * trees and plain files) through the full-size generated ViT-B/32 (random weights, real
 * compute) into the embedded store, then queries against `reprise serve` on that store.
 *
 * Every harvest runs in a fresh child process composed as `reprise harvest` composes it
 * (config → HTTP client → createStage → HarvestService), so its peak RSS is its own. Between
 * harvests, another child measures the same model encoder-only: the pixels the harvester
 * hands the stage (decoded at harvest.imageSize) already in memory, embedded by the call the
 * embedding stage makes (preprocessing + inference, batch models.batchSize). Encoder-only and
 * end-to-end runs alternate, BENCH_E2E_ROUNDS times (default 1; 2 or more to see the noise), so both see the same load
 * from whatever else the machine runs; each end-to-end figure is divided by the mean of the
 * encoder-only runs around it, and the spread over rounds is the noise.
 *
 * Encoder-only runs embed BENCH_E2E_ENCODER_IMAGES (default 320, about 20 s: shorter runs made the
 * baseline noisier than the harvest it is compared with) photographs each.
 *
 * When the harvest CLI does not compose reprint features by default, a variant with the
 * feature stage (harvester/feature-stage.ts) is measured too (in every round), and
 * the other way round: the table says which is which (BENCH_E2E_VARIANTS=cli skips it, =embedding runs only that). The
 * headline ratio is the harvest without reprint features, what the ≥ 0.9 target is about
 * (fetching and decoding overlapping with encoding); with features it has its own line. Each
 * harvest also reports where its time went: CPU per image, the share of the run inside the
 * encoder, and why the encoder stood idle. Queries (sequential, after a warm-up): text search,
 * similar by id, reprints of an indexed item and of an uploaded photograph; p50/p95 over
 * BENCH_E2E_QUERIES each (default 60).
 *
 * Politeness limits are raised for the loopback server (perHostRatePerSecond 1000; the default
 * 10/s would be the bottleneck, by design, against a real institution). Prints a table and
 * writes bench-output/e2e.json. About 7 minutes on a 2-core machine, most of it the harvest
 * with reprint features (each further round adds about 5).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../config/index.ts';
import type { RepriseConfig } from '../../config/schema.ts';
import { fixture } from '../support/fixtures.ts';

const here = fileURLToPath(import.meta.url);
const CANVASES = Number(process.env.BENCH_E2E_CANVASES ?? 1040);
const ROUNDS = Number(process.env.BENCH_E2E_ROUNDS ?? 1);
const ENCODER_IMAGES = Number(process.env.BENCH_E2E_ENCODER_IMAGES ?? 320);
const QUERIES = Number(process.env.BENCH_E2E_QUERIES ?? 60);
const TARGET_RATIO = 0.9;
/** 'cli' alone skips the variant with the other feature composition; 'embedding' runs only the harvest without features (quick experiments). */
const ONLY_CLI = process.env.BENCH_E2E_VARIANTS === 'cli';
const ONLY_EMBEDDING = process.env.BENCH_E2E_VARIANTS === 'embedding';
const modelDir = path.resolve('bench-output/models/clip-vit-b-32-generated');
const workDir = path.resolve('bench-output/e2e-bench');

const rounded = (x: number, digits = 2) => +x.toFixed(digits);
const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const peakRssMb = () => Math.round(process.resourceUsage().maxRSS / 1024);
/** CPU seconds a process (another one) has used so far, from /proc; undefined where there is no /proc. */
function processCpuSeconds(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/** The configuration every child uses: the generated model, loopback allowed, politeness limits off. */
function benchConfig(dataDir: string, extra: Record<string, unknown> = {}): RepriseConfig {
  return loadConfig({
    env: {},
    overrides: {
      dataDir,
      'models.path': modelDir,
      'harvest.http.allowPrivate': ['127.0.0.1'],
      'harvest.http.perHostRatePerSecond': 1000,
      'harvest.http.perHostConcurrency': 8,
      'log.level': 'warn',
      ...extra,
    },
  });
}

/**
 * Experiment, applied alike to encoder-only and harvest children: BENCH_E2E_VIPS_THREADS=n
 * gives each sharp operation n libvips threads (default: one per core).
 */
async function applyExperiments(): Promise<string[]> {
  const applied: string[] = [];
  if (process.env.BENCH_E2E_VIPS_THREADS) {
    const { default: sharp } = await import('sharp');
    sharp.concurrency(Number(process.env.BENCH_E2E_VIPS_THREADS));
    applied.push(`libvips threads ${sharp.concurrency()}`);
  }
  return applied;
}

// --- child: one harvest -------------------------------------------------------

type Variant = 'cli' | 'embedding' | 'features';

interface HarvestResult {
  variant: Variant;
  stageId: string;
  features: boolean;
  images: number;
  failed: number;
  loadSeconds: number;
  runSeconds: number;
  closeSeconds: number;
  /** Time the stage spent in index() (encoder + store + features), and in the encoder's embed calls. */
  stageSeconds: number;
  embedSeconds: number;
  inferSeconds: number;
  batches: number;
  encoderIdle?: { beforeFirstSeconds: number; starvedSeconds: number; latencySeconds: number; afterLastSeconds: number };
  meanBatch: number;
  peakRssMb: number;
  cpuSeconds: number;
}

async function harvestChild(variant: Variant, dataDir: string, url: string): Promise<HarvestResult> {
  await applyExperiments();
  const { createHttpClient } = await import('../../common/index.ts');
  const { HarvestService } = await import('../../harvester/harvest-service.ts');
  const { createStage } = await import('../../harvester/create-stage.ts');
  const { withFeatureStage, FeatureStage } = await import('../../harvester/feature-stage.ts');
  const { EmbeddingStage } = await import('../../harvester/embedding-stage.ts');
  const { loadEncoders } = await import('../../models/index.ts');
  const { openStore } = await import('../../store/index.ts');
  const config = benchConfig(dataDir);
  const warn = (m: string) => process.stderr.write(`e2e harvest: ${m}\n`);
  const t0 = performance.now();
  let composed: { stage: import('../../harvester/stage.ts').IndexStage; close: () => Promise<void> };
  if (variant === 'cli') {
    composed = await createStage(config, warn);
  } else {
    const encoders = await loadEncoders(config.models, config.dataDir);
    const store = await openStore(config.store, config.dataDir, { modelId: encoders.config.modelId, dimensions: encoders.config.projectionDim });
    const inner = {
      stage: new EmbeddingStage(encoders, store),
      close: async () => {
        await store.close();
        await encoders.close();
      },
    };
    composed = variant === 'features' ? withFeatureStage(inner, config.dataDir, warn) : inner;
  }
  const loadSeconds = (performance.now() - t0) / 1000;
  // Measures where the time goes without changing what runs: index() wall time, and the image
  // encoder's embed() wall time when the stage has one.
  let stageMs = 0;
  let embedMs = 0;
  let inferMs = 0;
  let batches = 0;
  let batched = 0;
  const stage = composed.stage;
  const index = stage.index.bind(stage);
  const entered: number[] = [];
  const spans: Array<[number, number]> = [];
  stage.index = async (items) => {
    const s = performance.now();
    entered.push(s);
    try {
      return await index(items);
    } finally {
      stageMs += performance.now() - s;
      batches++;
      batched += items.length;
    }
  };
  const embedding = stage instanceof EmbeddingStage ? stage : stage instanceof FeatureStage ? (stage as unknown as { inner: unknown }).inner : undefined;
  type Wrappable = { embed: (...a: unknown[]) => Promise<unknown>; loaded: { run: (...a: unknown[]) => Promise<unknown> } };
  const encoder = (embedding as { encoders?: { image: Wrappable } } | undefined)?.encoders?.image;
  if (encoder) {
    // The session's run (on its thread) is what onnxruntime alone costs; embed adds preprocessing.
    const session = encoder.loaded;
    const run = session.run.bind(session);
    session.run = async (...args: unknown[]) => {
      const s = performance.now();
      try {
        return await run(...args);
      } finally {
        inferMs += performance.now() - s;
      }
    };
    const embed = encoder.embed.bind(encoder);
    encoder.embed = async (...args: unknown[]) => {
      const s = performance.now();
      try {
        return await embed(...args);
      } finally {
        spans.push([s, performance.now()]);
        embedMs += performance.now() - s;
      }
    };
  }
  const http = createHttpClient(config.harvest.http);
  const cpu0 = process.cpuUsage();
  const t1 = performance.now();
  let summary;
  try {
    summary = await new HarvestService({ config: config.harvest, dataDir: config.dataDir, http, stage }).run([url]);
  } finally {
    await http.close();
  }
  const runSeconds = (performance.now() - t1) / 1000;
  // Where the encoder stood idle: before the first batch, between batches (the next batch not
  // handed over yet: starved; handed over but not started: latency), after the last.
  let starvedMs = 0;
  let latencyMs = 0;
  for (let i = 1; i < spans.length && i < entered.length; i++) {
    const previousEnd = spans[i - 1]![1];
    starvedMs += Math.max(0, entered[i]! - previousEnd);
    latencyMs += Math.max(0, spans[i]![0] - Math.max(entered[i]!, previousEnd));
  }
  const encoderIdle = spans.length
    ? {
        beforeFirstSeconds: rounded((spans[0]![0] - t1) / 1000),
        starvedSeconds: rounded(starvedMs / 1000),
        latencySeconds: rounded(latencyMs / 1000),
        afterLastSeconds: rounded((t1 + runSeconds * 1000 - spans.at(-1)![1]) / 1000),
      }
    : undefined;
  const t2 = performance.now();
  await composed.close();
  const closeSeconds = (performance.now() - t2) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return {
    variant,
    stageId: stage.id,
    features: stage instanceof FeatureStage,
    images: summary.images.indexed,
    failed: summary.images.failed,
    loadSeconds: rounded(loadSeconds),
    runSeconds: rounded(runSeconds),
    closeSeconds: rounded(closeSeconds),
    stageSeconds: rounded(stageMs / 1000),
    embedSeconds: rounded(embedMs / 1000),
    inferSeconds: rounded(inferMs / 1000),
    batches,
    encoderIdle,
    meanBatch: rounded(batched / Math.max(1, batches), 1),
    peakRssMb: peakRssMb(),
    cpuSeconds: rounded((cpu.user + cpu.system) / 1e6),
  };
}

// --- child: the same model, encoder only ---------------------------------------

interface EncoderResult {
  images: number;
  seconds: number;
  imagesPerSecond: number;
  /** CPU time of the process per image (all threads). */
  cpuMsPerImage: number;
  /** The same batches already preprocessed: the model alone. */
  inferenceOnlyPerSecond: number;
}

/** The photographs the institution serves, decoded as the harvester decodes them (harvest.imageSize long side). */
async function decodedPhotographs(count: number, longSide: number, maxInputPixels: number) {
  const { decodeImage } = await import('../../common/index.ts');
  const files = ['fsa-owi', 'documerica', 'met', 'oldpics'].flatMap((folder) => {
    const dir = fixture('images', folder);
    return readdirSync(dir).filter((f) => /\.(jpe?g|png)$/i.test(f)).sort().map((f) => path.join(dir, f));
  });
  const out = [];
  for (let i = 0; i < Math.min(count, files.length); i++) out.push(await decodeImage(readFileSync(files[i]!), { longSide, maxInputPixels }));
  return out;
}

async function encoderChild(count: number): Promise<EncoderResult> {
  await applyExperiments();
  const { loadEncoders } = await import('../../models/index.ts');
  const { preprocessImages } = await import('../../models/preprocess.ts');
  const config = benchConfig(mkdtempSync(path.join(os.tmpdir(), 'reprise-e2e-enc-')));
  const encoders = await loadEncoders(config.models, config.dataDir);
  const images = await decodedPhotographs(count, config.harvest.imageSize, config.harvest.maxInputPixels);
  const batch = config.harvest.batchSize;
  const inputs = (from: number) => images.slice(from, from + batch).map((im) => ({ data: im.data, width: im.width, height: im.height, channels: 3 as const }));
  await encoders.image.embed(inputs(0));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < images.length; i += batch) await encoders.image.embed(inputs(i));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  // The model alone on the same amount of work, one batch preprocessed once.
  const pixels = await preprocessImages(inputs(0), encoders.config.image);
  const n = Math.min(batch, images.length);
  const t1 = performance.now();
  for (let i = 0; i < images.length; i += batch) await encoders.image.run(pixels, n);
  const inferenceSeconds = (performance.now() - t1) / 1000;
  await encoders.close();
  rmSync(config.dataDir, { recursive: true, force: true });
  return {
    images: images.length,
    seconds: rounded(seconds),
    imagesPerSecond: rounded(images.length / seconds),
    cpuMsPerImage: rounded((cpu.user + cpu.system) / 1000 / images.length, 1),
    inferenceOnlyPerSecond: rounded((Math.ceil(images.length / batch) * n) / inferenceSeconds),
  };
}

// --- child: the server --------------------------------------------------------

async function serveChild(dataDir: string): Promise<void> {
  const { startServer } = await import('../../cli/commands/serve.ts');
  const running = await startServer(benchConfig(dataDir, { 'api.host': '127.0.0.1', 'api.port': 0, 'api.rateLimitPerMinute': 0 }));
  process.stdout.write(JSON.stringify({ url: running.url }) + '\n');
  process.once('SIGTERM', () => {
    void running.close().then(() => {
      process.stdout.write(JSON.stringify({ peakRssMb: peakRssMb() }) + '\n');
      process.exit(0);
    });
  });
}

// --- parent -------------------------------------------------------------------

/** Runs this file in a child with a role; its last stdout line is the JSON result. */
function child<T>(args: string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', here, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    proc.once('error', reject);
    proc.once('exit', (code) => {
      const last = out.trim().split('\n').at(-1);
      if (code !== 0 || !last) reject(new Error(`${args[0]} child exited with ${code}`));
      else resolve(JSON.parse(last) as T);
    });
  });
}

async function startInstitution(): Promise<{ proc: ChildProcess; rootCollectionUrl: string; canvases: number; photographs: number; modes: string[] }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', path.join(path.dirname(here), 'institution-process.ts'), String(CANVASES), 'repeat'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const first = await new Promise<string>((resolve, reject) => {
    proc.once('exit', (code) => reject(new Error(`the institution exited (${code}) before serving`)));
    createInterface({ input: proc.stdout! }).once('line', resolve);
  });
  return { proc, ...(JSON.parse(first) as { rootCollectionUrl: string; canvases: number; photographs: number; modes: string[] }) };
}

interface QueryRow { query: string; n: number; p50Ms: number; p95Ms: number; meanHits: number; errors: number }

async function timeQueries(name: string, requests: Array<() => Promise<Response>>, hitsOf: (body: unknown) => number): Promise<QueryRow> {
  // Warm-up: first use opens indexes (the reprint index reads every image's words) and compiles paths.
  for (const r of requests.slice(0, 3)) await (await r()).arrayBuffer();
  const times: number[] = [];
  let hits = 0;
  let errors = 0;
  for (const request of requests) {
    const t0 = performance.now();
    const res = await request();
    const body: unknown = await res.json();
    times.push(performance.now() - t0);
    if (!res.ok) errors++;
    else hits += hitsOf(body);
  }
  return { query: name, n: times.length, p50Ms: rounded(percentile(times, 50), 1), p95Ms: rounded(percentile(times, 95), 1), meanHits: rounded(hits / times.length, 1), errors };
}

async function queryServer(dataDir: string, reprints: boolean): Promise<{ rows: QueryRow[]; serverPeakRssMb?: number }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', here, 'serve', dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: proc.stdout! })[Symbol.asyncIterator]();
  const { url } = JSON.parse(String((await lines.next()).value)) as { url: string };
  const api = `${url}/api`;
  const rows: QueryRow[] = [];
  try {
    const words = ['farmer', 'children playing', 'a street at night', 'portrait of a woman', 'river with boats', 'factory', 'old car', 'church', 'crowd', 'mountain landscape', 'kitchen', 'horse', 'train station', 'beach', 'soldiers', 'market stalls', 'a dog', 'snow', 'bridge', 'smoke stacks'];
    const texts = Array.from({ length: QUERIES }, (_, i) => `${words[i % words.length]} ${i >= words.length ? `photograph ${i}` : ''}`.trim());
    const textRow = await timeQueries('text search', texts.map((q) => () => fetch(`${api}/search?q=${encodeURIComponent(q)}&limit=20`)), (b) => (b as { hits: unknown[] }).hits.length);
    rows.push(textRow);
    // Item ids from text hits across the collection.
    const ids = new Set<string>();
    for (const q of texts) {
      const body = (await (await fetch(`${api}/search?q=${encodeURIComponent(q)}&limit=50`)).json()) as { hits: Array<{ id: string }> };
      for (const h of body.hits) ids.add(h.id);
      if (ids.size >= QUERIES) break;
    }
    const idList = [...ids].slice(0, QUERIES);
    rows.push(await timeQueries('similar by id', idList.map((id) => () => fetch(`${api}/items/${id}/similar?limit=20`)), (b) => (b as { hits: unknown[] }).hits.length));
    if (reprints) {
      const json = (body: unknown) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      rows.push(await timeQueries('reprints of an item', idList.map((id) => () => fetch(`${api}/reprints`, json({ item: id }))), (b) => (b as { hits: unknown[] }).hits.length));
      const photos = ['fsa-owi', 'met'].flatMap((f) => readdirSync(fixture('images', f)).filter((n) => n.endsWith('.jpg')).sort().slice(0, Math.ceil(QUERIES / 2)).map((n) => fixture('images', f, n)));
      rows.push(
        await timeQueries(
          'reprints of an upload',
          photos.slice(0, QUERIES).map((file) => () => {
            const form = new FormData();
            form.append('image', new Blob([readFileSync(file)], { type: 'image/jpeg' }), path.basename(file));
            return fetch(`${api}/reprints`, { method: 'POST', body: form });
          }),
          (b) => (b as { hits: unknown[] }).hits.length,
        ),
      );
    }
  } finally {
    proc.kill('SIGTERM');
  }
  const last = await lines.next().then(({ value }) => (value ? (JSON.parse(String(value)) as { peakRssMb: number }) : undefined), () => undefined);
  return { rows, serverPeakRssMb: last?.peakRssMb };
}

async function ensureModel(): Promise<void> {
  if (existsSync(path.join(modelDir, 'onnx', 'text_model.onnx')) && existsSync(path.join(modelDir, 'onnx', 'vision_model.onnx'))) return;
  const { generateClipModel } = await import('../../models/generate/model-folder.ts');
  console.log(`generating the full-size ViT-B/32 (random weights) into ${modelDir} …`);
  await generateClipModel({ dir: modelDir, layout: 'huggingface', size: 'vit-b-32', seed: 1, fp16: true, bpeVocabPath: fixture('clip', 'bpe_simple_vocab_16e6.txt') });
}

interface E2eRow {
  round: number;
  variant: string;
  features: boolean;
  images: number;
  failed: number;
  e2eImagesPerSecond: number;
  encoderImagesPerSecond: number;
  ratio: number;
  harvestSeconds: number;
  closeSeconds: number;
  encoderBusy: number;
  inferenceBusy: number;
  stageBusy: number;
  meanBatch: number;
  cpuMsPerImage: number;
  serverCpuMsPerImage: number;
  peakRssMb: number;
}

async function main(): Promise<void> {
  const started = performance.now();
  if (!(CANVASES >= 1)) throw new RangeError('BENCH_E2E_CANVASES must be a positive number');
  await ensureModel();
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  const institution = await startInstitution();
  console.log(`institution: ${institution.canvases} canvases (${institution.photographs} photographs, ${institution.modes.join(' + ')}) at ${institution.rootCollectionUrl}`);
  const { localFeaturesAvailable } = await import('../../reprints/features/index.ts');
  const featuresAvailable = localFeaturesAvailable();

  const encoderRuns: EncoderResult[] = [];
  const harvests: Array<HarvestResult & { round: number; encoderBefore: number; dataDir: string; serverCpuMsPerImage: number }> = [];
  const variants: Variant[] = ONLY_EMBEDDING ? ['embedding'] : ['cli'];
  const encoder = async () => {
    const r = await child<EncoderResult>(['encoder', String(ENCODER_IMAGES)]);
    encoderRuns.push(r);
    console.log(`  encoder only: ${r.imagesPerSecond} images/s (${r.images} images; inference alone ${r.inferenceOnlyPerSecond}/s)`);
    return r;
  };
  try {
    await encoder();
    for (let round = 1; round <= ROUNDS; round++) {
      // Both compositions every round, so that each has its own spread over rounds.
      for (let v = 0; v < variants.length; v++) {
        const variant = variants[v]!;
        const dataDir = path.join(workDir, `${variant}-${round}`);
        const serverCpu0 = processCpuSeconds(institution.proc.pid!);
        const r = await child<HarvestResult>(['harvest', variant, dataDir, institution.rootCollectionUrl]);
        const serverCpu = (processCpuSeconds(institution.proc.pid!) ?? NaN) - (serverCpu0 ?? NaN);
        harvests.push({ ...r, round, encoderBefore: encoderRuns.length - 1, dataDir, serverCpuMsPerImage: rounded((1000 * serverCpu) / r.images, 1) });
        console.log(`  round ${round}, ${variant}${r.features ? ' (with reprint features)' : ''}: ${r.images} images in ${r.runSeconds} s + ${r.closeSeconds} s closing = ${rounded(r.images / (r.runSeconds + r.closeSeconds))} images/s; encoder busy ${rounded((100 * r.embedSeconds) / r.runSeconds, 0)}%, inference ${rounded((100 * r.inferSeconds) / r.runSeconds, 0)}%, stage ${rounded((100 * r.stageSeconds) / r.runSeconds, 0)}%, ${r.cpuSeconds} CPU s` +
            (r.encoderIdle ? `; encoder idle ${r.encoderIdle.beforeFirstSeconds} s before the first batch, ${r.encoderIdle.starvedSeconds} s waiting for batches, ${r.encoderIdle.latencySeconds} s with one waiting, ${r.encoderIdle.afterLastSeconds} s after the last` : ''),
        );
        // The CLI's composition decides the other variant: the one it does not run by default.
        if (round === 1 && variants.length === 1 && featuresAvailable && !ONLY_CLI && !ONLY_EMBEDDING) variants.push(r.features ? 'embedding' : 'features');
        await encoder();
      }
    }
  } finally {
    institution.proc.stdin!.end();
  }

  const rows: E2eRow[] = harvests.map((h) => {
    const around = [encoderRuns[h.encoderBefore]!, encoderRuns[h.encoderBefore + 1]!].filter(Boolean);
    const enc = mean(around.map((e) => e.imagesPerSecond));
    const seconds = h.runSeconds + h.closeSeconds;
    const e2e = h.images / seconds;
    return {
      round: h.round,
      variant: h.variant === 'cli' ? 'reprise harvest' : h.variant === 'features' ? '+ reprint features' : 'embedding only',
      features: h.features,
      images: h.images,
      failed: h.failed,
      e2eImagesPerSecond: rounded(e2e),
      encoderImagesPerSecond: rounded(enc),
      ratio: rounded(e2e / enc),
      harvestSeconds: h.runSeconds,
      closeSeconds: h.closeSeconds,
      encoderBusy: rounded(h.embedSeconds / h.runSeconds),
      inferenceBusy: rounded(h.inferSeconds / h.runSeconds),
      stageBusy: rounded(h.stageSeconds / h.runSeconds),
      meanBatch: h.meanBatch,
      cpuMsPerImage: rounded((1000 * h.cpuSeconds) / h.images, 1),
      serverCpuMsPerImage: h.serverCpuMsPerImage,
      peakRssMb: h.peakRssMb,
    };
  });

  // Queries against the last harvest that has both the store and the reprint index.
  const queried = [...harvests].reverse().find((h) => h.features) ?? harvests.at(-1)!;
  console.log(`queries against ${queried.dataDir} (${queried.images} items${queried.features ? ', reprint index' : ', no reprint index'}) …`);
  const queries = await queryServer(queried.dataDir, queried.features);

  const summarise = (list: E2eRow[]) => ({
    e2eImagesPerSecond: rounded(mean(list.map((r) => r.e2eImagesPerSecond))),
    encoderImagesPerSecond: rounded(mean(list.map((r) => r.encoderImagesPerSecond))),
    ratio: rounded(mean(list.map((r) => r.ratio))),
    ratioRange: [Math.min(...list.map((r) => r.ratio)), Math.max(...list.map((r) => r.ratio))],
    peakRssMb: Math.max(...list.map((r) => r.peakRssMb)),
    runs: list.length,
  });
  const cliFeatures = [...rows].reverse().find((r) => r.variant === 'reprise harvest')?.features;
  const withFeatures = rows.filter((r) => r.features);
  const withoutFeatures = rows.filter((r) => !r.features);
  // The target is about the embedding pipeline (fetching and decoding overlapping with
  // encoding), so the headline is the harvest without reprint features when it was measured;
  // reprint features are a second analysis on the same cores and get their own line.
  const pipeline = summarise(withoutFeatures.length ? withoutFeatures : rows);
  const features = withFeatures.length ? summarise(withFeatures) : undefined;
  const machine = { cores: os.availableParallelism(), cpu: os.cpus()[0]?.model, memoryGb: Math.round(os.totalmem() / 2 ** 30), node: process.version, loadAverage: os.loadavg().map((x) => rounded(x, 1)) };
  const verdict = (ratio: number) => (ratio >= TARGET_RATIO ? 'met' : 'MISSED');

  console.log(`\ne2e benchmark: ${institution.canvases} canvases from a loopback IIIF server (own process) → generated ViT-B/32 (random weights) → embedded store; ${machine.cores} cores (${machine.cpu}), load average ${machine.loadAverage.join(' / ')} at the end\n`);
  console.table(rows);
  const encRates = encoderRuns.map((e) => e.imagesPerSecond);
  console.log(`encoder only (${encoderRuns.length} runs interleaved): ${encRates.join(', ')} images/s (spread ${rounded(Math.min(...encRates))}–${rounded(Math.max(...encRates))})`);
  console.table(queries.rows);
  console.log(
    `harvest ${withoutFeatures.length ? 'without reprint features' : 'with reprint features (the only composition measured)'}: ${pipeline.e2eImagesPerSecond} images/s end to end, encoder only ${pipeline.encoderImagesPerSecond} images/s, ratio ${pipeline.ratio} ` +
      `(range ${pipeline.ratioRange.join('–')} over ${pipeline.runs} runs; target ≥ ${TARGET_RATIO}: ${verdict(pipeline.ratio)}), peak RSS ${pipeline.peakRssMb} MB`,
  );
  if (features && withoutFeatures.length) {
    console.log(
      `harvest with reprint features${cliFeatures ? ' (what `reprise harvest` composes by default)' : ''}: ${features.e2eImagesPerSecond} images/s, ratio ${features.ratio} (range ${features.ratioRange.join('–')}; ${verdict(features.ratio)}), peak RSS ${features.peakRssMb} MB`,
    );
  }

  const q = (name: string) => queries.rows.find((r) => r.query === name);
  const out = {
    benchmark: 'e2e',
    date: new Date().toISOString(),
    machine,
    model: 'generated clip-vit-b-32 (huggingface layout, random weights, fp32)',
    canvases: institution.canvases,
    photographs: institution.photographs,
    experiments: { libvipsThreads: process.env.BENCH_E2E_VIPS_THREADS ?? 'default (one per core)' },
    composedByCli: cliFeatures ? 'embedding + reprint features' : 'embedding',
    headline: withoutFeatures.length ? 'harvest without reprint features (fetch, decode, encode, store)' : 'harvest with reprint features',
    e2eImagesPerSecond: pipeline.e2eImagesPerSecond,
    encoderImagesPerSecond: pipeline.encoderImagesPerSecond,
    ratio: pipeline.ratio,
    ratioRange: pipeline.ratioRange,
    targetRatio: TARGET_RATIO,
    targetMet: pipeline.ratio >= TARGET_RATIO,
    peakRssMb: pipeline.peakRssMb,
    withReprintFeatures: features && { ...features, targetMet: features.ratio >= TARGET_RATIO },
    withoutReprintFeatures: withoutFeatures.length ? pipeline : undefined,
    queries: {
      textP50Ms: q('text search')?.p50Ms,
      textP95Ms: q('text search')?.p95Ms,
      similarP50Ms: q('similar by id')?.p50Ms,
      similarP95Ms: q('similar by id')?.p95Ms,
      reprintItemP50Ms: q('reprints of an item')?.p50Ms,
      reprintItemP95Ms: q('reprints of an item')?.p95Ms,
      reprintUploadP50Ms: q('reprints of an upload')?.p50Ms,
      reprintUploadP95Ms: q('reprints of an upload')?.p95Ms,
      rows: queries.rows,
      serverPeakRssMb: queries.serverPeakRssMb,
    },
    encoderRuns,
    harvests: rows,
    harvestDetails: harvests.map(({ dataDir: _d, encoderBefore: _e, ...h }) => h),
    totalSeconds: rounded((performance.now() - started) / 1000, 0),
    notes: [
      'e2e images/s = images indexed / (harvest run, discovery included, + closing the stage, which runs the reprint scan when features are composed); model loading (loadSeconds) excluded',
      'encoder only = the same model embedding the harvested-size pixels already in memory, batch harvest.batchSize, preprocessing included; measured between the harvests',
      'encoderBusy / inferenceBusy / stageBusy = share of the harvest run spent inside the image encoder (preprocessing + inference) / onnxruntime alone / the whole indexing stage',
      'cpuMsPerImage = CPU time of the harvest process (all threads, model loading included) per image; serverCpuMsPerImage = the loopback institution\'s, which shares the cores here and would not against a real institution',
      'politeness limits raised for the loopback server (perHostRatePerSecond 1000, perHostConcurrency 8)',
    ],
  };
  mkdirSync('bench-output', { recursive: true });
  writeFileSync(path.join('bench-output', 'e2e.json'), JSON.stringify(out, null, 2) + '\n');
  if (!process.env.BENCH_E2E_KEEP) rmSync(workDir, { recursive: true, force: true });
  console.log(`wrote bench-output/e2e.json (${out.totalSeconds} s in all)`);
}

const [role, ...args] = process.argv.slice(2);
if (role === 'harvest') {
  process.stdout.write(JSON.stringify(await harvestChild(args[0] as Variant, args[1]!, args[2]!)) + '\n');
} else if (role === 'encoder') {
  process.stdout.write(JSON.stringify(await encoderChild(Number(args[0]))) + '\n');
} else if (role === 'serve') {
  await serveChild(args[0]!);
} else {
  await main();
}
