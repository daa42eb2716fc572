import { existsSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import type { Index as UsearchIndex, ScalarKind as UsearchScalarKind } from 'usearch';
import { usearch } from './usearch.ts';

const { Index, MetricKind, ScalarKind } = usearch;
type Index = UsearchIndex;
import { fileCrc32, readSidecar, syncFolder, writeDurably } from '../../common/index.ts';

export type Quantization = 'f32' | 'f16' | 'i8';

export interface AnnSettings {
  dimensions: number;
  quantization: Quantization;
  connectivity: number;
  expansionAdd: number;
  expansionSearch: number;
}

/** What ties an index file to one SQLite store at one point of its history. */
export interface AnnStamp {
  storeId: string;
  generation: number;
}

/** The sidecar written next to the index file: the file is trusted only when all of it agrees. */
interface Sidecar extends AnnStamp {
  format: typeof FORMAT;
  count: number;
  tombstones: number;
  bytes: number;
  crc32: number;
  dimensions: number;
  quantization: Quantization;
  connectivity: number;
}

const FORMAT = 'reprise-ann/1';
const SCALAR: Record<Quantization, UsearchScalarKind> = { f32: ScalarKind.F32, f16: ScalarKind.F16, i8: ScalarKind.I8 };
const THREADS = Math.max(1, os.availableParallelism());

export const sidecarPath = (file: string) => `${file}.json`;

/**
 * An HNSW graph (usearch) over the store's vectors, keyed by `vectors.key`. It lives in memory
 * and is saved beside the SQLite file with a sidecar that stamps it with the store's id, the
 * generation it reflects and a CRC of its bytes; a file that does not match its sidecar is never
 * handed to usearch, which would trust whatever it reads.
 */
export class AnnIndex {
  private index: Index;
  /** Removed keys still taking room in the graph: usearch marks them, it does not compact. */
  tombstones = 0;
  /**
   * A viewed index (view()) is the saved file memory-mapped, shared with every process that
   * views it and never copied; usearch cannot change it, so vectors added since live in a small
   * index of their own and removed ones are hidden from its answers.
   */
  private viewed = false;
  private delta?: Index;
  private readonly hidden = new Set<number>();
  /** The generation of the file a viewed index maps. */
  viewedGeneration = 0;

  constructor(readonly settings: AnnSettings) {
    this.index = AnnIndex.empty(settings);
  }

  private static empty(settings: AnnSettings): Index {
    return new Index({
      dimensions: settings.dimensions,
      // Cosine rather than inner product although vectors are unit length: usearch normalises
      // before quantising, which i8 needs to use its 256 levels on unit vectors.
      metric: MetricKind.Cos,
      quantization: SCALAR[settings.quantization],
      connectivity: settings.connectivity,
      expansion_add: settings.expansionAdd,
      expansion_search: settings.expansionSearch,
      multi: false,
    });
  }

  /**
   * Loads a saved index if its sidecar vouches for it and it was built with these settings for
   * this store; otherwise says why not, so the caller rebuilds from SQLite.
   */
  static load(file: string, settings: AnnSettings, storeId: string, how: 'load' | 'view' = 'load'): { index: AnnIndex; generation: number } | { reason: string } {
    if (!existsSync(file)) return { reason: 'no index file' };
    const read = readSidecar<Sidecar>(sidecarPath(file));
    if ('reason' in read) return read;
    const { sidecar } = read;
    if (sidecar.format !== FORMAT) return { reason: `unknown sidecar format ${String(sidecar.format)}` };
    if (sidecar.storeId !== storeId) return { reason: 'it belongs to another store' };
    if (sidecar.dimensions !== settings.dimensions || sidecar.quantization !== settings.quantization || sidecar.connectivity !== settings.connectivity) {
      return { reason: `it was built with other settings (${sidecar.quantization}, connectivity ${sidecar.connectivity})` };
    }
    const bytes = statSync(file).size;
    if (bytes !== sidecar.bytes) return { reason: `it is ${bytes} bytes, ${sidecar.bytes} were written (torn write)` };
    if (fileCrc32(file) !== sidecar.crc32) return { reason: 'its checksum does not match (corrupt)' };
    const ann = new AnnIndex(settings);
    try {
      if (how === 'view') {
        ann.index.view(file);
        ann.viewed = true;
        ann.viewedGeneration = sidecar.generation;
      } else ann.index.load(file);
    } catch (err) {
      return { reason: `usearch could not load it (${(err as Error).message})` };
    }
    if (ann.index.size() !== sidecar.count || ann.index.dimensions() !== settings.dimensions) {
      return { reason: `it holds ${ann.index.size()} vectors, its sidecar says ${sidecar.count}` };
    }
    ann.tombstones = sidecar.tombstones;
    return { index: ann, generation: sidecar.generation };
  }

  get size(): number {
    return this.index.size() - this.hidden.size + (this.delta?.size() ?? 0);
  }

  /** Whether this index maps a file (view()) rather than holding the graph in memory. */
  get isView(): boolean {
    return this.viewed;
  }

  /** Vectors added to a viewed index since its file was saved. */
  get deltaSize(): number {
    return this.delta?.size() ?? 0;
  }

  has(key: number): boolean {
    const big = BigInt(key);
    if (this.delta?.contains(big)) return true;
    return !this.hidden.has(key) && (this.index.contains(big) as boolean);
  }

  /** Adds a batch on every core: usearch parallelises inside one call only. */
  add(keys: number[], vectors: Float32Array[], threads = THREADS): void {
    if (keys.length === 0) return;
    if (this.viewed) {
      this.delta ??= AnnIndex.empty(this.settings);
      // A key hidden from the mapped file is added back in the delta (keys are never reused, so this is a replay).
      for (const key of keys) this.hidden.delete(key);
      this.delta.add(BigUint64Array.from(keys, BigInt), vectors, threads);
      return;
    }
    this.index.add(BigUint64Array.from(keys, BigInt), vectors, threads);
  }

  remove(keys: number[]): void {
    const present = keys.filter((k) => this.has(k));
    if (present.length === 0) return;
    if (this.viewed) {
      const inDelta = present.filter((k) => this.delta?.contains(BigInt(k)));
      if (inDelta.length) this.delta!.remove(BigUint64Array.from(inDelta, BigInt));
      for (const k of present) if (!inDelta.includes(k)) this.hidden.add(k);
      return;
    }
    this.index.remove(BigUint64Array.from(present, BigInt));
    this.tombstones += present.length;
  }

  /** The k nearest keys with their cosine similarity as the index computes it (quantised when the index is). */
  search(vector: Float32Array, k: number): Array<{ key: number; similarity: number }> {
    if (k <= 0) return [];
    const out = AnnIndex.searchOne(this.index, vector, k + this.hidden.size).filter((hit) => !this.hidden.has(hit.key));
    if (this.delta?.size()) {
      out.push(...AnnIndex.searchOne(this.delta, vector, k));
      out.sort((a, b) => b.similarity - a.similarity);
    }
    return out.slice(0, k);
  }

  private static searchOne(index: Index, vector: Float32Array, k: number): Array<{ key: number; similarity: number }> {
    const size = index.size();
    if (size === 0) return [];
    const { keys, distances } = index.search(vector, Math.min(k, size), 1);
    const out: Array<{ key: number; similarity: number }> = [];
    for (let i = 0; i < keys.length; i++) out.push({ key: Number(keys[i]!), similarity: 1 - distances[i]! });
    return out;
  }

  /**
   * Writes the index and then its sidecar, each to a temporary file made durable before it is
   * renamed into place. A crash between the two renames leaves a new file under an old sidecar,
   * which the CRC check refuses: the store then rebuilds rather than trusting it.
   */
  save(file: string, stamp: AnnStamp): void {
    if (this.viewed) throw new Error('a viewed index is read-only: only the store that loaded its index saves it');
    const tmpIndex = writeDurably(file, (tmp) => this.index.save(tmp));
    const sidecar: Sidecar = {
      format: FORMAT,
      ...stamp,
      count: this.index.size(),
      tombstones: this.tombstones,
      bytes: statSync(tmpIndex).size,
      crc32: fileCrc32(tmpIndex),
      dimensions: this.settings.dimensions,
      quantization: this.settings.quantization,
      connectivity: this.settings.connectivity,
    };
    const tmpSidecar = writeDurably(sidecarPath(file), (tmp) => writeFileSync(tmp, JSON.stringify(sidecar)));
    renameSync(tmpIndex, file);
    renameSync(tmpSidecar, sidecarPath(file));
    syncFolder(file);
  }

  static remove(file: string): void {
    rmSync(file, { force: true });
    rmSync(sidecarPath(file), { force: true });
  }
}
