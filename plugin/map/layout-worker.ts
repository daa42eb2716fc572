/**
 * The map's layout on its own thread (map-jobs.ts starts it): UMAP runs for minutes at 100k
 * items and must never hold the server's event loop. The vectors arrive in a SharedArrayBuffer
 * (no copy); the positions go back transferred.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { computeLayout, type LayoutOptions } from './layout.ts';

interface LayoutJob {
  vectors: SharedArrayBuffer;
  n: number;
  dimensions: number;
  options: Omit<LayoutOptions, 'onProgress'>;
}

const job = workerData as LayoutJob;
let last = 0;
const xy = computeLayout(new Float32Array(job.vectors, 0, job.n * job.dimensions), job.n, job.dimensions, {
  ...job.options,
  onProgress: (fraction, phase) => {
    // A few messages a second at most: progress is for people, not a second event loop to flood.
    const now = Date.now();
    if (now - last < 250 && fraction > 0 && fraction < 1) return;
    last = now;
    parentPort!.postMessage({ type: 'progress', fraction, phase });
  },
});
parentPort!.postMessage({ type: 'done', xy }, [xy.buffer as ArrayBuffer]);
