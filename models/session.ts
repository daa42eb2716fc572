import os from 'node:os';
import * as ort from 'onnxruntime-node';
import { ModelFolderError } from './types.ts';

export interface SessionOptions {
  /** Intra-op threads; 0 means one per core. */
  threads: number;
  executionProvider: 'cpu' | 'cuda';
  /** For benchmarks that compare onnxruntime's settings; the defaults are what measured best. */
  tuning?: Pick<ort.InferenceSession.SessionOptions, 'graphOptimizationLevel' | 'enableCpuMemArena' | 'interOpNumThreads' | 'executionMode'>;
}

export interface TensorInfo {
  name: string;
  type: string;
  shape: ReadonlyArray<number | string>;
}

/** An onnxruntime session with what we need to know about its inputs and outputs, read from the model itself. */
export interface LoadedSession {
  session: ort.InferenceSession;
  file: string;
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  /** The execution provider actually in use (CUDA falls back to CPU when unavailable). */
  provider: 'cpu' | 'cuda';
}

function tensorInfos(list: readonly ort.InferenceSession.ValueMetadata[]): TensorInfo[] {
  return list.map((m) => (m.isTensor ? { name: m.name, type: m.type, shape: m.shape } : { name: m.name, type: 'non-tensor', shape: [] }));
}

/**
 * Opens an ONNX file with every graph optimisation on. CUDA is used only when asked
 * for and present; Reprise never requires it.
 */
export async function loadSession(file: string, opts: SessionOptions): Promise<LoadedSession> {
  const base: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: 'all',
    intraOpNumThreads: opts.threads > 0 ? opts.threads : os.availableParallelism(),
    interOpNumThreads: 1,
    executionMode: 'sequential',
    enableCpuMemArena: true,
    ...opts.tuning,
  };
  const attempt = async (provider: 'cpu' | 'cuda') =>
    ort.InferenceSession.create(file, { ...base, executionProviders: provider === 'cuda' ? ['cuda', 'cpu'] : ['cpu'] });
  let session: ort.InferenceSession;
  let provider: 'cpu' | 'cuda' = opts.executionProvider;
  try {
    session = await attempt(provider);
  } catch (err) {
    if (provider === 'cuda') {
      provider = 'cpu';
      session = await attempt('cpu').catch((e: unknown) => {
        throw new ModelFolderError(`cannot load ${file}: ${(e as Error).message}`, file);
      });
    } else {
      throw new ModelFolderError(`cannot load ${file}: ${(err as Error).message}`, file);
    }
  }
  return { session, file, inputs: tensorInfos(session.inputMetadata), outputs: tensorInfos(session.outputMetadata), provider };
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
