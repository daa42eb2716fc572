/**
 * Maps of collections: computed in the background (the vectors read from the store here, the
 * layout on a worker thread), kept as compact JSON files under dataDir/maps/<index>/, and served
 * from there until the collection changes (another model, or another number of items), when the
 * stored map is still served, marked stale, while a new one is computed.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../../common/index.ts';
import type { ItemFilter, VectorStore } from '../../store/index.ts';
import type { LayoutOptions } from './layout.ts';
import { RepriseError } from '../../common/index.ts';

/** Items a map may hold: 100k vectors of 512 dimensions are 200 MB while the layout runs. */
export const MAX_MAP_ITEMS = 250_000;
/** Maps waiting for their turn behind the one being computed. */
export const MAX_QUEUED_MAPS = 8;
/** Coordinates are integers from 0 to this: 16 bits of precision, about 5 characters each in JSON. */
export const MAP_SCALE = 65535;
const SCAN_PAGE = 1000;
/** A map that failed is not tried again on every request: once this long has passed. */
const RETRY_AFTER_MS = 60_000;

/** A computed map, as stored and served. */
export interface MapData {
  /** The collection laid out; null for the whole index. */
  collection: string | null;
  modelId: string;
  computedAt: string;
  /** Items under the collection when it was computed (with or without vectors): a change makes the map stale. */
  items: number;
  /** The points: item ids, and their positions as x, y pairs in 0…MAP_SCALE, in the same order. */
  ids: string[];
  xy: number[];
}

export interface MapJob {
  collection: string | null;
  phase: 'queued' | 'reading' | 'neighbours' | 'layout';
  /** Of the current phase, 0…1. */
  progress: number;
  startedAt?: string;
}

export type MapState =
  | { status: 'ready'; map: MapData; stale: boolean; job?: MapJob }
  | { status: 'computing'; job: MapJob; error?: string }
  | { status: 'failed'; error: string };

export class MapBusyError extends RepriseError {
  override name = 'MapBusyError';
}

export class MapTooLargeError extends RepriseError {
  override name = 'MapTooLargeError';
}

interface Pending {
  key: string;
  job: MapJob;
  done: Promise<MapData>;
  resolve: (map: MapData) => void;
  reject: (err: Error) => void;
}

export interface MapJobsOptions {
  /** Where maps are kept: one folder per index. */
  dir: string;
  layout?: Omit<LayoutOptions, 'onProgress'>;
  maxItems?: number;
}

const keyOf = (collection: string | null) => createHash('sha256').update(collection === null ? '\u0000all' : `c:${collection}`).digest('hex').slice(0, 20);

export class MapJobs {
  private readonly pending = new Map<string, Pending>();
  private readonly queue: Pending[] = [];
  private running?: Pending;
  private worker?: Worker;
  private closed = false;
  /** The last failure of each map and when, shown until a new computation starts (tried again after RETRY_AFTER_MS). */
  private readonly failures = new Map<string, { error: string; at: number }>();

  constructor(
    private readonly store: VectorStore,
    private readonly options: MapJobsOptions,
  ) {}

  private file(key: string): string {
    return path.join(this.options.dir, `${key}.json`);
  }

  private read(key: string): MapData | undefined {
    try {
      return JSON.parse(readFileSync(this.file(key), 'utf8')) as MapData;
    } catch {
      return undefined;
    }
  }

  private write(key: string, map: MapData): void {
    mkdirSync(this.options.dir, { recursive: true });
    // Whole or not at all: a reader never sees half a map.
    const tmp = `${this.file(key)}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(map));
    renameSync(tmp, this.file(key));
  }

  /** What the collection's items are now: a stored map of another model or item count is stale. */
  private async signature(collection: string | null): Promise<{ modelId?: string; items: number }> {
    const filter: ItemFilter | undefined = collection === null ? undefined : { collection };
    const [stats, listed] = await Promise.all([this.store.stats(), this.store.keyword('', { limit: 1, ...(filter ? { filter } : {}) })]);
    return { ...(stats.modelId ? { modelId: stats.modelId } : {}), items: collection === null ? stats.items : (listed.total ?? 0) };
  }

  /**
   * The collection's map (null: the whole index) as it stands: ready (maybe stale, with its
   * recomputation under way), or being computed. Starts the computation when needed.
   */
  async state(collection: string | null): Promise<MapState> {
    const key = keyOf(collection);
    const stored = this.read(key);
    const now = await this.signature(collection);
    const current = stored !== undefined && stored.modelId === now.modelId && stored.items === now.items;
    const failed = this.failures.get(key);
    if (current) return { status: 'ready', map: stored, stale: false };
    if (!now.modelId) {
      // Nothing embedded yet: a map of no vectors.
      return { status: 'failed', error: 'the index holds no vectors yet (no harvest with a model has embedded it): there is nothing to lay out' };
    }
    if (failed && !this.pending.has(key) && Date.now() - failed.at < RETRY_AFTER_MS) {
      return stored ? { status: 'ready', map: stored, stale: true } : { status: 'failed', error: failed.error };
    }
    const job = this.start(collection).job;
    return stored ? { status: 'ready', map: stored, stale: true, job } : { status: 'computing', job };
  }

  /** Starts computing a map unless it is already under way; its promise settles when it is stored. */
  start(collection: string | null): { job: MapJob; done: Promise<MapData> } {
    if (this.closed) throw new Error('the map jobs are closed');
    const key = keyOf(collection);
    const existing = this.pending.get(key);
    if (existing) return existing;
    if (this.queue.length >= MAX_QUEUED_MAPS) throw new MapBusyError(`${MAX_QUEUED_MAPS} maps are waiting to be computed already; ask again in a few minutes`);
    let resolve!: (map: MapData) => void;
    let reject!: (err: Error) => void;
    const done = new Promise<MapData>((res, rej) => ((resolve = res), (reject = rej)));
    // Nobody may be waiting (a GET started it): a failure is recorded, not thrown at nobody.
    done.catch(() => {});
    const entry: Pending = { key, job: { collection, phase: 'queued', progress: 0 }, done, resolve, reject };
    this.pending.set(key, entry);
    this.failures.delete(key);
    this.queue.push(entry);
    this.next();
    return entry;
  }

  private next(): void {
    if (this.running || this.closed) return;
    const entry = this.queue.shift();
    if (!entry) return;
    this.running = entry;
    this.compute(entry)
      .then((map) => {
        this.write(entry.key, map);
        entry.resolve(map);
      })
      .catch((err: Error) => {
        this.failures.set(entry.key, { error: err.message, at: Date.now() });
        entry.reject(err);
      })
      .finally(() => {
        this.pending.delete(entry.key);
        this.running = undefined;
        this.next();
      });
  }

  private async compute(entry: Pending): Promise<MapData> {
    const { collection } = entry.job;
    entry.job.startedAt = new Date().toISOString();
    entry.job.phase = 'reading';
    const filter: ItemFilter | undefined = collection === null ? undefined : { collection };
    const signature = await this.signature(collection);
    const stats = await this.store.stats();
    if (!stats.modelId || !stats.dimensions) throw new Error('the index holds no vectors yet: there is nothing to lay out');
    const max = this.options.maxItems ?? MAX_MAP_ITEMS;
    if (signature.items > max) {
      throw new MapTooLargeError(`${collection === null ? 'the index' : `the collection ${JSON.stringify(collection)}`} holds ${signature.items} items, more than the ${max} a map lays out: map a collection within it`);
    }
    const dimensions = stats.dimensions;
    // Shared, so that the worker reads the vectors where they are.
    const shared = new SharedArrayBuffer(Math.max(1, signature.items) * dimensions * 4);
    const vectors = new Float32Array(shared);
    const ids: string[] = [];
    let after: string | undefined;
    do {
      const page = await this.store.scan({ limit: SCAN_PAGE, ...(filter ? { filter } : {}), ...(after !== undefined ? { after } : {}) });
      for (const s of page.items) {
        // Items without a vector have no place on the map yet; items added since the count wait for the next map.
        if (!s.vector || ids.length >= signature.items) continue;
        vectors.set(s.vector, ids.length * dimensions);
        ids.push(s.item.id);
      }
      entry.job.progress = signature.items ? ids.length / signature.items : 1;
      after = page.next;
    } while (after !== undefined && !this.closed);
    const xy = await this.layout(entry, shared, ids.length, dimensions);
    const quantised = new Array<number>(xy.length);
    for (let i = 0; i < xy.length; i++) quantised[i] = Math.round(Math.min(1, Math.max(0, xy[i]!)) * MAP_SCALE);
    return { collection, modelId: stats.modelId, computedAt: new Date().toISOString(), items: signature.items, ids, xy: quantised };
  }

  private layout(entry: Pending, vectors: SharedArrayBuffer, n: number, dimensions: number): Promise<Float32Array> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new Error('the map jobs were closed'));
      const worker = startWorker(import.meta.url, 'layout-worker', { workerData: { vectors, n, dimensions, options: this.options.layout ?? {} } });
      this.worker = worker;
      let settled = false;
      worker.on('message', (message: { type: 'progress'; fraction: number; phase: 'neighbours' | 'layout' } | { type: 'done'; xy: Float32Array }) => {
        if (message.type === 'progress') {
          entry.job.phase = message.phase;
          entry.job.progress = message.fraction;
        } else {
          settled = true;
          resolve(message.xy);
          void worker.terminate();
        }
      });
      worker.once('error', (err) => {
        settled = true;
        reject(err);
      });
      worker.once('exit', (code) => {
        if (this.worker === worker) this.worker = undefined;
        if (!settled) reject(new Error(this.closed ? 'the map jobs were closed' : `the layout thread stopped (exit code ${code})`));
      });
    });
  }

  /**
   * Which points of the stored map pass the filters (within its collection), as indices into its
   * ids: what a map highlights for a filter. Undefined while no map is stored.
   */
  async matches(collection: string | null, filter: ItemFilter): Promise<{ computedAt: string; indices: number[] } | undefined> {
    const map = this.read(keyOf(collection));
    if (!map) return undefined;
    const position = new Map(map.ids.map((id, i) => [id, i]));
    // The map's collection narrows the scan, unless the filter names collections of its own: then both must hold.
    const own = filter.collection !== undefined;
    const scan: ItemFilter = collection === null || own ? filter : { ...filter, collection };
    const indices: number[] = [];
    let after: string | undefined;
    do {
      const page = await this.store.scan({ limit: SCAN_PAGE, filter: scan, vectors: false, ...(after !== undefined ? { after } : {}) });
      for (const s of page.items) {
        const i = position.get(s.item.id);
        if (i !== undefined && (collection === null || !own || s.item.collections.includes(collection))) indices.push(i);
      }
      after = page.next;
    } while (after !== undefined);
    return { computedAt: map.computedAt, indices: indices.sort((a, b) => a - b) };
  }

  /** Computes a map now (the CLI), or joins the computation under way. */
  computeNow(collection: string | null): Promise<MapData> {
    return this.start(collection).done;
  }

  /** Stops the layout thread, if one runs; queued maps are dropped. */
  async close(): Promise<void> {
    this.closed = true;
    for (const entry of this.queue.splice(0)) entry.reject(new Error('the map jobs were closed'));
    await this.worker?.terminate();
  }
}
