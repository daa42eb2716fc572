import { readlinkSync } from 'node:fs';
import os from 'node:os';
import { Vocabulary } from './features/index.ts';
import { ReprintIndex } from './reprint-index/index.ts';
import { ReprintService } from './reprint-service.ts';

/** What scan-thread.ts hands the scan's thread. */
export interface ScanWorkerData {
  /** The reprint index's folder: the thread opens its own connection to the same SQLite file. */
  dir: string;
  /** The vocabulary's bytes (Vocabulary.toBytes): the same words as the index the caller holds. */
  vocabulary: Uint8Array;
  minInliers?: number;
  shortlist?: number;
  /** Set to 1 by the caller to stop: read before each image. */
  stop: Int32Array;
}

export type ScanWorkerMessage =
  | { type: 'progress'; scanned: number }
  | { type: 'done'; scanned: number; stopped: boolean }
  | { type: 'failed'; message: string };

/** Progress at most this often: the caller logs it, and a flood of messages would be memory on its side. */
const PROGRESS_EVERY_MS = 2000;

/**
 * Runs ReprintService.scan on this thread's own connection, asking the shared stop flag before
 * each image. Every image is recorded in one transaction, so a stop leaves the index consistent:
 * what was compared is marked scanned, the rest is compared by the next scan.
 */
export function runScan(data: ScanWorkerData, post: (message: ScanWorkerMessage) => void): void {
  lowerThisThreadsPriority();
  let index: ReprintIndex | undefined;
  try {
    index = ReprintIndex.open(data.dir, Vocabulary.fromBytes(data.vocabulary));
    let last = Date.now();
    const stopped = () => Atomics.load(data.stop, 0) === 1;
    const scanned = new ReprintService(index).scan({
      minInliers: data.minInliers,
      shortlist: data.shortlist,
      stop: stopped,
      onProgress: (done) => {
        if (Date.now() - last < PROGRESS_EVERY_MS) return;
        last = Date.now();
        post({ type: 'progress', scanned: done });
      },
    });
    post({ type: 'done', scanned, stopped: stopped() });
  } catch (err) {
    post({ type: 'failed', message: (err as Error)?.message ?? String(err) });
  } finally {
    index?.close();
  }
}

/**
 * The scan is background work: on a machine with few cores it should take the CPU the server's
 * own thread leaves, not share it evenly with it. Linux sets a nice value per thread (the thread's
 * id is in /proc/thread-self); elsewhere the thread keeps the process's priority.
 */
function lowerThisThreadsPriority(): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) os.setPriority(tid, os.constants.priority.PRIORITY_BELOW_NORMAL);
  } catch {
    // Not Linux, or not allowed: the scan still runs off the event loop.
  }
}
