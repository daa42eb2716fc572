/**
 * npm run bench:harvest — fetch + decode + resize throughput of the harvester from a
 * loopback IIIF server (in its own process), with the recording stage, at several
 * concurrencies. Prints a table and writes bench-output/harvest.json.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { RecordingStage } from '../../harvester/recording-stage.ts';
import { harvestOnce, tempDataDir, testHarvestConfig } from '../support/harvest-harness.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const IMAGES = Number(process.env.BENCH_IMAGES ?? 400);
const CONCURRENCIES = (process.env.BENCH_CONCURRENCY ?? '1,2,4,8,16').split(',').map(Number);

const server = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'institution-process.ts'), String(IMAGES)], {
  stdio: ['pipe', 'pipe', 'inherit'],
});
const first = await new Promise<string>((resolve) => createInterface({ input: server.stdout! }).once('line', resolve));
const { rootCollectionUrl, canvases, modes } = JSON.parse(first) as { rootCollectionUrl: string; canvases: number; modes: string[] };

interface Row {
  concurrency: number;
  images: number;
  failed: number;
  seconds: number;
  imagesPerSecond: number;
  mbPerSecond: number;
}
const rows: Row[] = [];
try {
  // One untimed run warms the server's file cache and sharp.
  await harvestOnce(tempDataDir('reprise-bench-'), [rootCollectionUrl], { stage: new RecordingStage() });
  for (const concurrency of CONCURRENCIES) {
    const config = testHarvestConfig({ concurrency, perHostConcurrency: concurrency }, { decodeConcurrency: Math.min(2, os.availableParallelism()) });
    // The whole run, discovery of the manifests included: that is what a cron job waits for.
    const { summary } = await harvestOnce(tempDataDir('reprise-bench-'), [rootCollectionUrl], { config, stage: new RecordingStage() });
    const seconds = summary.durationMs / 1000;
    rows.push({
      concurrency,
      images: summary.images.indexed,
      failed: summary.images.failed,
      seconds: +seconds.toFixed(2),
      imagesPerSecond: +(summary.images.indexed / seconds).toFixed(1),
      mbPerSecond: +(summary.images.bytes / 1e6 / seconds).toFixed(1),
    });
  }
} finally {
  server.stdin!.end();
}

const best = rows.reduce((a, b) => (b.imagesPerSecond > a.imagesPerSecond ? b : a));
console.log(`\nharvest benchmark: ${canvases} canvases (${modes.join(', ')}) from a loopback server in its own process, ${os.availableParallelism()} cores, recording stage\n`);
console.table(rows);
console.log(`best: ${best.imagesPerSecond} images/s at concurrency ${best.concurrency} (target ≥ 40)`);
const out = {
  benchmark: 'harvest',
  date: new Date().toISOString(),
  machine: { cores: os.availableParallelism(), cpu: os.cpus()[0]?.model, node: process.version },
  canvases,
  modes,
  imagesPerSecond: best.imagesPerSecond,
  concurrency: best.concurrency,
  runs: rows,
};
mkdirSync('bench-output', { recursive: true });
writeFileSync(path.join('bench-output', 'harvest.json'), JSON.stringify(out, null, 2) + '\n');
console.log('wrote bench-output/harvest.json');
