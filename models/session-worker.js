// The onnxruntime session of one model, on its own thread (models/session.ts starts it).
// onnxruntime-node runs inference synchronously on the calling thread: on the main thread a
// batch of images would stop the event loop for a second, so a harvest could not fetch or
// decode while it encodes, and a server could not answer. Plain JavaScript, because a worker
// does not inherit the tsx loader that `bin/reprise.js` registers in the main thread.
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';

const { file, options } = workerData;

const metadata = (list) => list.map((m) => (m.isTensor ? { name: m.name, type: m.type, shape: m.shape } : { name: m.name, type: 'non-tensor', shape: [] }));

let session;
try {
  session = await ort.InferenceSession.create(file, options);
  parentPort.postMessage({ type: 'ready', inputs: metadata(session.inputMetadata), outputs: metadata(session.outputMetadata) });
} catch (err) {
  parentPort.postMessage({ type: 'failed', message: err?.message ?? String(err) });
  parentPort.close();
}

// One request at a time, in message order: onnxruntime's intra-op threads already use every
// core given to the session, and a release must not overtake the runs sent before it.
let queue = Promise.resolve();
parentPort.on('message', (msg) => {
  queue = queue.then(() => handle(msg));
});

async function handle(msg) {
  if (msg.type === 'release') {
    await session?.release();
    parentPort.close();
    return;
  }
  try {
    const feeds = {};
    for (const [name, t] of Object.entries(msg.feeds)) feeds[name] = new ort.Tensor(t.type, t.data, t.dims);
    const result = await session.run(feeds, msg.outputs);
    const outputs = {};
    const transfer = new Set();
    for (const name of msg.outputs) {
      const t = result[name];
      outputs[name] = { type: t.type, data: t.data, dims: t.dims };
      transfer.add(t.data.buffer);
    }
    parentPort.postMessage({ type: 'result', id: msg.id, outputs }, [...transfer]);
  } catch (err) {
    parentPort.postMessage({ type: 'result', id: msg.id, error: err?.message ?? String(err) });
  }
}
