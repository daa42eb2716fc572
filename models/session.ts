import { closeSync, openSync, readSync } from 'node:fs';
import os from 'node:os';
import type { Worker } from 'node:worker_threads';
import type * as ort from 'onnxruntime-node';
import { ModelFolderError } from './types.ts';
import { startWorker } from '../common/index.ts';
import { RepriseError } from '../common/index.ts';

export interface SessionOptions {
  /** Intra-op threads; 0 means one per core. */
  threads: number;
  executionProvider: 'cpu' | 'cuda';
  /** The model's bytes when they differ from the file's (rewritten in memory); `file` then only names it. */
  modelBytes?: Uint8Array;
  /** For benchmarks that compare onnxruntime's settings; the defaults are what measured best. */
  tuning?: Pick<ort.InferenceSession.SessionOptions, 'graphOptimizationLevel' | 'enableCpuMemArena' | 'interOpNumThreads' | 'executionMode'>;
}

export interface TensorInfo {
  name: string;
  type: string;
  shape: ReadonlyArray<number | string>;
}

/** A tensor handed to or returned by a session: plain data, so it can cross to the session's thread. */
export interface PlainTensor {
  type: string;
  /** float16 travels as its IEEE half bits in a Uint16Array (Node 20 has no Float16Array). */
  data: Float32Array | Uint16Array | Int32Array | BigInt64Array;
  dims: readonly number[];
}

/** Inference failed or the session's thread is gone; the message says which. */
export class InferenceError extends RepriseError {
  override name = 'InferenceError';
  constructor(message: string, readonly file: string) {
    super(message);
  }
}

/** What the session's thread (session-worker.ts) is started with. */
export interface SessionWorkerData {
  file: string;
  bytes: Uint8Array | undefined;
  options: ort.InferenceSession.SessionOptions;
}

/** What the session's thread is asked, in order. */
export type SessionWorkerRequest = { type: 'run'; id: number; feeds: Record<string, PlainTensor>; outputs: string[] } | { type: 'release' };

/** What the session's thread answers. */
export type WorkerMessage =
  | { type: 'ready'; inputs: TensorInfo[]; outputs: TensorInfo[] }
  | { type: 'failed'; message: string }
  | { type: 'result'; id: number; outputs?: Record<string, PlainTensor>; error?: string };

/**
 * An onnxruntime session running on its own worker thread, so that inference never blocks
 * the event loop: a harvest keeps fetching and decoding while a batch is encoded, a server
 * keeps answering while a query is embedded. Requests are answered in order. If the thread
 * dies (a native crash, memory), pending runs fail with an InferenceError and the next run
 * starts a fresh thread.
 */
export class LoadedSession {
  private worker: Worker | undefined;
  private ready: Promise<{ inputs: TensorInfo[]; outputs: TensorInfo[] }> | undefined;
  private readonly pending = new Map<number, { resolve: (out: Record<string, PlainTensor>) => void; reject: (err: Error) => void }>();
  private nextId = 1;
  private released = false;

  private constructor(
    readonly file: string,
    /** The model as rewritten in memory, when it is not loaded from `file` as is. */
    private readonly bytes: Uint8Array | undefined,
    private readonly options: ort.InferenceSession.SessionOptions,
    /** The execution provider actually in use (CUDA falls back to CPU when unavailable). */
    readonly provider: 'cpu' | 'cuda',
    readonly inputs: TensorInfo[],
    readonly outputs: TensorInfo[],
  ) {}

  /** Starts the thread and loads the model in it; rejects with the loader's message. */
  static async open(file: string, options: ort.InferenceSession.SessionOptions, provider: 'cpu' | 'cuda', bytes?: Uint8Array): Promise<LoadedSession> {
    const session = new LoadedSession(file, bytes, options, provider, [], []);
    const { inputs, outputs } = await session.start();
    session.inputs.push(...inputs);
    session.outputs.push(...outputs);
    return session;
  }

  private start(): Promise<{ inputs: TensorInfo[]; outputs: TensorInfo[] }> {
    const workerData: SessionWorkerData = { file: this.file, bytes: this.bytes, options: this.options };
    const worker = startWorker(import.meta.url, 'session-worker', { workerData });
    this.worker = worker;
    this.ready = new Promise((resolve, reject) => {
      worker.on('message', (msg: WorkerMessage) => {
        if (msg.type === 'result') return this.settle(msg);
        if (msg.type === 'failed') return reject(new InferenceError(msg.message, this.file));
        // Only loading and runs wait on the thread; an idle session must not keep the process alive.
        if (this.pending.size === 0) worker.unref();
        resolve(msg);
      });
      const gone = (reason: string) => {
        if (this.worker === worker) this.worker = undefined;
        const err = new InferenceError(`the inference thread of ${this.file} ${reason}`, this.file);
        reject(err);
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
      };
      worker.once('error', (err) => gone(`failed: ${err.message}`));
      worker.once('exit', (code) => gone(`exited (code ${code})`));
    });
    return this.ready;
  }

  private settle(msg: Extract<WorkerMessage, { type: 'result' }>): void {
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (this.pending.size === 0) this.worker?.unref();
    if (msg.error !== undefined) p.reject(new InferenceError(`${this.file}: inference failed: ${msg.error}`, this.file));
    else p.resolve(msg.outputs!);
  }

  /**
   * Runs the model; the outputs are moved back. The inputs are copied to the session's thread,
   * or with `transfer` moved there (a batch is megabytes; the caller's arrays are then unusable).
   */
  async run(feeds: Record<string, PlainTensor>, outputNames: string[], options: { transfer?: boolean } = {}): Promise<Record<string, PlainTensor>> {
    if (this.released) throw new InferenceError(`${this.file}: the session was closed`, this.file);
    // Runs that arrive together after the thread died share one new thread.
    const ready = this.worker ? this.ready! : this.start();
    await ready;
    const worker = this.worker;
    if (!worker) throw new InferenceError(`the inference thread of ${this.file} exited while starting`, this.file);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.ref();
      const transfer = options.transfer ? [...new Set(Object.values(feeds).map((t) => t.data.buffer as ArrayBuffer))] : [];
      worker.postMessage({ type: 'run', id, feeds, outputs: outputNames }, transfer);
    });
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    const worker = this.worker;
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.ref();
    worker.postMessage({ type: 'release' });
    await exited;
  }
}

/**
 * Opens an ONNX file with every graph optimisation on, on its own thread. CUDA is used only
 * when asked for and present; Reprise never requires it. A file that cannot be a model is
 * named, with what to do about it.
 */
export async function loadSession(file: string, opts: SessionOptions): Promise<LoadedSession> {
  if (isLfsPointer(file)) {
    throw new ModelFolderError(
      `${file} is a Git LFS pointer, not the model: the repository was cloned without git-lfs. Run \`git lfs pull\` in it, or download the file itself (reprise models pull does).`,
      file,
    );
  }
  const base: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: 'all',
    intraOpNumThreads: opts.threads > 0 ? opts.threads : os.availableParallelism(),
    interOpNumThreads: 1,
    executionMode: 'sequential',
    enableCpuMemArena: true,
    ...opts.tuning,
  };
  const attempt = (provider: 'cpu' | 'cuda') =>
    LoadedSession.open(file, { ...base, executionProviders: provider === 'cuda' ? ['cuda', 'cpu'] : ['cpu'] }, provider, opts.modelBytes);
  const unreadable = (err: unknown) =>
    new ModelFolderError(
      `${file} cannot be opened by onnxruntime (${(err as Error).message.trim()}); the file may be truncated or corrupt: delete it and pull it again`,
      file,
    );
  try {
    return await attempt(opts.executionProvider);
  } catch (err) {
    if (opts.executionProvider !== 'cuda') throw unreadable(err);
    return attempt('cpu').catch((e: unknown) => {
      throw unreadable(e);
    });
  }
}

/** A clone without git-lfs leaves ~130-byte text files where the weights should be. */
function isLfsPointer(file: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const head = Buffer.alloc(64);
    const n = readSync(fd, head, 0, head.length, 0);
    return head.subarray(0, n).toString('latin1').startsWith('version https://git-lfs');
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Builds an encoder on a session already open; the session is released if the model turns out unusable. */
export async function releaseOnFailure<T>(session: LoadedSession, build: () => Promise<T>): Promise<T> {
  try {
    return await build();
  } catch (err) {
    await session.release();
    throw err;
  }
}

/** Picks the output that holds the embedding: a known name, else the only rank-2 output. */
export function embeddingOutput(s: LoadedSession, preferred: string[]): TensorInfo {
  const byName = s.outputs.find((o) => preferred.includes(o.name));
  if (byName) return byName;
  const rank2 = s.outputs.filter((o) => o.shape.length === 2);
  if (rank2.length === 1) return rank2[0]!;
  throw new ModelFolderError(
    `${s.file}: cannot tell which output is the embedding (outputs: ${s.outputs.map((o) => `${o.name}[${o.shape.join(',')}]`).join(', ')}); expected one of ${preferred.join(', ')}`,
    s.file,
  );
}

export function l2Normalise(values: Float32Array, dim: number): Float32Array[] {
  const out: Float32Array[] = [];
  for (let offset = 0; offset < values.length; offset += dim) {
    const v = values.slice(offset, offset + dim);
    let norm = 0;
    for (let i = 0; i < dim; i++) norm += v[i]! * v[i]!;
    norm = Math.sqrt(norm) || 1;
    for (let i = 0; i < dim; i++) v[i]! /= norm;
    out.push(v);
  }
  return out;
}
