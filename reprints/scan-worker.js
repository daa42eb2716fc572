// The collection-wide reprint scan on its own thread (reprints/scan-thread.ts starts it). The scan
// verifies tens of candidates per image synchronously: on the main thread it stopped a server's
// event loop for seconds at the end of every harvest, and held off SIGTERM until it was done.
// Plain JavaScript, because a worker does not inherit the tsx loader that `bin/reprise.js`
// registers in the main thread: it registers it here, then loads the TypeScript body.
import { parentPort, workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { runScan } = await import('./scan-worker-body.ts');
runScan(workerData, (message) => parentPort.postMessage(message));
