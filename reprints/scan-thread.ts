import path from 'node:path';
import { startWorker } from '../common/index.ts';
import type { ReprintIndex } from './reprint-index/index.ts';
import type { ScanWorkerData, ScanWorkerMessage } from './scan-worker-body.ts';

/**
 * The scan thread's JavaScript heap. Its big parts (the inverted file's postings, one image's
 * descriptors at a time) are typed arrays outside the heap; this bounds the rest, so that a fault
 * ends the scan with an error rather than taking the process's memory.
 */
export const SCAN_HEAP_MB = 512;

/**
 * How long a stop may take before the thread is terminated: a stop is asked before each image,
 * and one image is milliseconds to a few hundred. Terminating is safe (each image is recorded in
 * one SQLite transaction, which a dead connection rolls back); waiting is tidier.
 */
export const SCAN_STOP_GRACE_MS = 5000;

export interface ScanInThreadOptions {
  minInliers?: number;
  shortlist?: number;
  /** Stops the scan after the image in hand; the others stay unscanned for the next scan. */
  signal?: AbortSignal;
  /** Images compared so far, every few seconds. */
  onProgress?: (scanned: number) => void;
}

export interface ScanResult {
  /** Images compared and recorded. */
  scanned: number;
  /** The signal stopped the scan before it was done. */
  stopped: boolean;
}

/**
 * ReprintService.scan over `index`'s file, on a worker thread with its own connection (SQLite in
 * WAL mode: the caller's connections keep reading, and wait up to their busy timeout for the
 * thread's short write transactions), so the caller's event loop stays free: a server keeps
 * answering, a signal is handled at once. Resolves once the thread has closed its connection.
 */
export function scanInThread(index: ReprintIndex, options: ScanInThreadOptions = {}): Promise<ScanResult> {
  const { signal } = options;
  const stop = new Int32Array(new SharedArrayBuffer(4));
  const data: ScanWorkerData = {
    dir: path.dirname(index.file),
    vocabulary: index.vocabulary.toBytes(),
    minInliers: options.minInliers,
    shortlist: options.shortlist,
    stop,
  };
  return new Promise<ScanResult>((resolve, reject) => {
    const worker = startWorker(import.meta.url, 'scan-worker', { workerData: data, resourceLimits: { maxOldGenerationSizeMb: SCAN_HEAP_MB } });
    let scanned = 0;
    let result: ScanResult | undefined;
    let failure: Error | undefined;
    let terminator: NodeJS.Timeout | undefined;
    const onAbort = () => {
      Atomics.store(stop, 0, 1);
      terminator = setTimeout(() => void worker.terminate(), SCAN_STOP_GRACE_MS);
    };
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });

    worker.on('message', (message: ScanWorkerMessage) => {
      if (message.type === 'progress') {
        scanned = message.scanned;
        options.onProgress?.(scanned);
      } else if (message.type === 'done') {
        result = { scanned: message.scanned, stopped: message.stopped && !!signal?.aborted };
      } else {
        failure = new Error(`the reprint scan failed: ${message.message}`);
      }
    });
    worker.once('error', (err) => (failure ??= new Error(`the reprint scan's thread failed: ${err.message}`, { cause: err })));
    worker.once('exit', (code) => {
      clearTimeout(terminator);
      signal?.removeEventListener('abort', onAbort);
      if (result) resolve(result);
      // Terminated after the grace: what it recorded is kept, the rest waits for the next scan.
      else if (signal?.aborted && !failure) resolve({ scanned, stopped: true });
      else reject(failure ?? new Error(`the reprint scan's thread exited (code ${code}) before it was done`));
    });
  });
}
