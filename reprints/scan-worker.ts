// The collection-wide reprint scan on its own thread (reprints/scan-thread.ts starts it). The scan
// verifies tens of candidates per image synchronously: on the main thread it stopped a server's
// event loop for seconds at the end of every harvest, and held off SIGTERM until it was done.
import { parentPort, workerData } from 'node:worker_threads';
import { runScan, type ScanWorkerData } from './scan-worker-body.ts';

runScan(workerData as ScanWorkerData, (message) => parentPort!.postMessage(message));
