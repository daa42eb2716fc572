import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Worker } from 'node:worker_threads';
import { modelsSchema } from '../../config/schema.ts';
import { loadEncoders, type Encoders } from '../../models/index.ts';
import { InferenceError, loadSession } from '../../models/session.ts';
import { tinyModel } from '../support/tiny-model.ts';

const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);
const randomPixels = (n: number, size: number, seed: number) => {
  const out = new Float32Array(n * 3 * size * size);
  let x = seed;
  for (let i = 0; i < out.length; i++) out[i] = ((x = (x * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  return out;
};
/** The session's thread, reached past its privacy: these tests kill it on purpose. */
const threadOf = (enc: Encoders) => (enc.image as unknown as { loaded: { worker?: Worker } }).loaded.worker;

describe('onnxruntime sessions run on their own thread', function () {
  this.timeout(120_000);
  let enc: Encoders;
  let size: number;

  beforeEach(async () => {
    enc = await loadEncoders(modelsSchema.parse({ path: await tinyModel('huggingface'), threads: 1, batchSize: 4 }), os.tmpdir());
    size = enc.config.image.size;
  });
  afterEach(async () => enc?.close());

  it('answers concurrent runs each with its own result', async () => {
    const a = randomPixels(2, size, 1);
    const b = randomPixels(3, size, 2);
    const [ra, rb] = await Promise.all([enc.image.run(a, 2), enc.image.run(b, 3)]);
    assert.equal(ra.length, 2);
    assert.equal(rb.length, 3);
    const [sa, sb] = [await enc.image.run(a, 2), await enc.image.run(b, 3)];
    assert.ok(ra.every((v, i) => maxDiff(v, sa[i]!) === 0), 'same input, same output as alone');
    assert.ok(rb.every((v, i) => maxDiff(v, sb[i]!) === 0));
    assert.ok(maxDiff(ra[0]!, rb[0]!) > 1e-3, 'different inputs, different outputs');
  });

  it('leaves the caller’s inputs usable after a run', async () => {
    const pixels = randomPixels(1, size, 3);
    const first = await enc.image.run(pixels, 1);
    assert.equal(pixels.length, 3 * size * size, 'not moved to the other thread');
    const second = await enc.image.run(pixels, 1);
    assert.equal(maxDiff(first[0]!, second[0]!), 0);
  });

  it('moves a batch it is allowed to move, with the same result as a copy', async () => {
    const session = (enc.image as unknown as { loaded: import('../../models/session.ts').LoadedSession }).loaded;
    const input = session.inputs[0]!.name;
    const output = session.outputs.find((o) => o.name === 'image_embeds')?.name ?? session.outputs[0]!.name;
    const dims = [2, 3, size, size];
    const copied = randomPixels(2, size, 8);
    const moved = randomPixels(2, size, 8);
    const a = await session.run({ [input]: { type: 'float32', data: copied, dims } }, [output]);
    const b = await session.run({ [input]: { type: 'float32', data: moved, dims } }, [output], { transfer: true });
    assert.equal(copied.length, 2 * 3 * size * size, 'a copy leaves the array usable');
    assert.equal(moved.length, 0, 'a moved array is detached here');
    assert.deepEqual(Array.from(b[output]!.data as Float32Array), Array.from(a[output]!.data as Float32Array));
  });

  it('keeps the event loop free while a batch is encoded', async () => {
    // A batch large enough that a stall of its length could not be mistaken for noise.
    let batch = 32;
    let pixels = randomPixels(batch, size, 4);
    let runMs = 0;
    for (;;) {
      const t0 = performance.now();
      await enc.image.run(pixels, batch);
      runMs = performance.now() - t0;
      if (runMs >= 60 || batch >= 1024) break;
      batch *= 2;
      pixels = randomPixels(batch, size, 4);
    }
    assert.ok(runMs >= 30, `the batch must take long enough to tell (${runMs.toFixed(1)} ms for ${batch})`);
    const histogram = monitorEventLoopDelay({ resolution: 1 });
    histogram.enable();
    const t0 = performance.now();
    await enc.image.run(pixels, batch);
    runMs = performance.now() - t0;
    histogram.disable();
    // Inference on the main thread would show one delay as long as the run itself.
    assert.ok(histogram.max / 1e6 < runMs / 2, `longest event-loop stall ${(histogram.max / 1e6).toFixed(1)} ms during a ${runMs.toFixed(1)} ms run`);
  });

  it('fails pending runs with an InferenceError when the thread dies, and starts a new one for the next run', async () => {
    const pixels = randomPixels(2, size, 5);
    const before = await enc.image.run(pixels, 2);
    const pending = enc.image.run(pixels, 2);
    await threadOf(enc)!.terminate();
    await assert.rejects(pending, (err: Error) => err instanceof InferenceError && /inference thread .* exited/.test(err.message));
    const after = await enc.image.run(pixels, 2);
    assert.equal(maxDiff(before[0]!, after[0]!), 0, 'the new thread loads the same model');
  });

  it('reports a bad input as an InferenceError naming the model file, and goes on', async () => {
    await assert.rejects(enc.image.run(new Float32Array(5), 1), (err: Error) => err instanceof InferenceError && err.message.includes('vision_model') && /inference failed/.test(err.message));
    const [v] = await enc.image.run(randomPixels(1, size, 6), 1);
    assert.equal(v!.length, enc.config.projectionDim);
  });

  it('refuses runs after close', async () => {
    await enc.close();
    await assert.rejects(enc.image.run(randomPixels(1, size, 7), 1), /session was closed/);
  });
});

describe('loading a session on its thread', function () {
  this.timeout(60_000);
  it('keeps a one-shot process alive while the model loads and lets it exit afterwards', async () => {
    const script = fileURLToPath(new URL('../support/embed-text-once.ts', import.meta.url));
    // An idle thread must not hold the process open, and a loading one must not let it end early.
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script, await tinyModel('huggingface')], { timeout: 30_000 });
    assert.equal(stdout.trim(), '32\nclosed');
  });

  it('names the file that cannot be loaded', async () => {
    const missing = path.join(os.tmpdir(), 'reprise-no-such-model.onnx');
    await assert.rejects(loadSession(missing, { threads: 1, executionProvider: 'cpu' }), (err: Error) => err.name === 'ModelFolderError' && err.message.includes(missing));
  });
});
