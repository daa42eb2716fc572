/**
 * bench:map — the collection map's layout at scale: N unit vectors (default 100,000 × 512, in 50
 * clusters) laid out on the worker thread exactly as GET /map does it (plugin/map/layout-worker.ts),
 * timing each phase, the process's peak memory, the longest stall of the main event loop while it
 * runs (the server keeps answering), and the size of the map as served.
 *
 *   npm run bench:map                       # 100,000 × 512
 *   BENCH_MAP_N=20000 npm run bench:map     # a quicker look
 *
 * Writes a table to stdout and bench-output/map.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startWorker } from '../../common/worker-thread.ts';
import { MAP_SCALE } from '../../plugin/map/map-jobs.ts';
import { gaussian, normalise } from './vectors.ts';

const N = Number(process.env.BENCH_MAP_N ?? 100_000);
const DIMENSIONS = Number(process.env.BENCH_MAP_DIM ?? 512);
const CLUSTERS = 50;

/** Clustered unit vectors: images of a collection fall into groups (portraits, maps, street scenes…). */
function vectors(shared: SharedArrayBuffer): Float32Array {
  const all = new Float32Array(shared);
  const random = gaussian(20);
  const centres = Array.from({ length: CLUSTERS }, () => normalise(Float32Array.from({ length: DIMENSIONS }, random)));
  const row = new Float32Array(DIMENSIONS);
  for (let i = 0; i < N; i++) {
    const centre = centres[i % CLUSTERS]!;
    for (let d = 0; d < DIMENSIONS; d++) row[d] = centre[d]! + 0.06 * random();
    all.set(normalise(row), i * DIMENSIONS);
  }
  return all;
}

async function main(): Promise<void> {
  const shared = new SharedArrayBuffer(N * DIMENSIONS * 4);
  vectors(shared);
  const rssBefore = process.memoryUsage().rss;
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const phases: Record<string, number> = {};
  const started = performance.now();
  let phaseStart = started;
  let phase = 'start';
  const xy = await new Promise<Float32Array>((resolve, reject) => {
    // Referenced from the layout module's folder, as map-jobs.ts starts it.
    const worker = startWorker(new URL('../../plugin/map/layout.ts', import.meta.url).href, 'layout-worker', {
      workerData: { vectors: shared, n: N, dimensions: DIMENSIONS, options: {} },
    });
    worker.on('message', (m: { type: 'progress'; phase: string } | { type: 'done'; xy: Float32Array }) => {
      if (m.type === 'progress' && m.phase !== phase) {
        const now = performance.now();
        if (phase !== 'start') phases[phase] = (now - phaseStart) / 1000;
        phase = m.phase;
        phaseStart = now;
      } else if (m.type === 'done') {
        phases[phase] = (performance.now() - phaseStart) / 1000;
        resolve(m.xy);
        void worker.terminate();
      }
    });
    worker.once('error', reject);
  });
  const seconds = (performance.now() - started) / 1000;
  delay.disable();
  const peakRss = process.resourceUsage().maxRSS * 1024;
  const ids = Array.from({ length: N }, (_, i) => i.toString(16).padStart(32, '0'));
  const served = JSON.stringify({ status: 'ready', ids, xy: Array.from(xy, (v) => Math.round(v * MAP_SCALE)) });
  const result = {
    vectors: N,
    dimensions: DIMENSIONS,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    node: process.version,
    seconds: Number(seconds.toFixed(1)),
    neighboursSeconds: Number((phases.neighbours ?? 0).toFixed(1)),
    layoutSeconds: Number((phases.layout ?? 0).toFixed(1)),
    vectorsMB: Math.round((N * DIMENSIONS * 4) / 1e6),
    rssBeforeMB: Math.round(rssBefore / 1e6),
    peakRssMB: Math.round(peakRss / 1e6),
    mainLoopMaxStallMs: Math.round(delay.max / 1e6),
    mapJsonMB: Number((Buffer.byteLength(served) / 1e6).toFixed(1)),
    loadAverage: os.loadavg().map((l) => Number(l.toFixed(1))),
  };
  console.table([result]);
  const out = path.resolve('bench-output');
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, 'map.json'), JSON.stringify(result, null, 2) + '\n');
}

await main();
