// The onnxruntime session of one model, on its own thread (models/session.ts starts it).
// onnxruntime-node runs inference synchronously on the calling thread: on the main thread a
// batch of images would stop the event loop for a second, so a harvest could not fetch or
// decode while it encodes, and a server could not answer.
import { parentPort as port, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import type { PlainTensor, SessionWorkerData, SessionWorkerRequest, TensorInfo, WorkerMessage } from './session.ts';

const parentPort = port!;
// `bytes`: a model rewritten in memory (an image classifier with its pooled features exposed as an output).
const { file, bytes, options } = workerData as SessionWorkerData;

const metadata = (list: readonly ort.InferenceSession.ValueMetadata[]): TensorInfo[] =>
  list.map((m) => (m.isTensor ? { name: m.name, type: m.type, shape: m.shape } : { name: m.name, type: 'non-tensor', shape: [] }));
const post = (message: WorkerMessage, transfer: ArrayBuffer[] = []) => parentPort.postMessage(message, transfer);
const messageOf = (err: unknown) => (err as Error | undefined)?.message ?? String(err);

let session: ort.InferenceSession | undefined;
try {
  session = await (bytes ? ort.InferenceSession.create(bytes, options) : ort.InferenceSession.create(file, options));
  post({ type: 'ready', inputs: metadata(session.inputMetadata), outputs: metadata(session.outputMetadata) });
} catch (err) {
  post({ type: 'failed', message: messageOf(err) });
  parentPort.close();
}

// One request at a time, in message order: onnxruntime's intra-op threads already use every
// core given to the session, and a release must not overtake the runs sent before it.
let queue = Promise.resolve();
parentPort.on('message', (msg: SessionWorkerRequest) => {
  queue = queue.then(() => handle(msg));
});

async function handle(msg: SessionWorkerRequest): Promise<void> {
  if (msg.type === 'release') {
    await session?.release();
    parentPort.close();
    return;
  }
  try {
    const feeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(msg.feeds)) feeds[name] = new ort.Tensor(t.type as ort.Tensor.Type, t.data, t.dims);
    const result = await session!.run(feeds, msg.outputs);
    const outputs: Record<string, PlainTensor> = {};
    const transfer = new Set<ArrayBuffer>();
    for (const name of msg.outputs) {
      const t = result[name]!;
      const data = t.data as PlainTensor['data'];
      outputs[name] = { type: t.type, data, dims: t.dims };
      transfer.add(data.buffer as ArrayBuffer);
    }
    post({ type: 'result', id: msg.id, outputs }, [...transfer]);
  } catch (err) {
    post({ type: 'result', id: msg.id, error: messageOf(err) });
  }
}
