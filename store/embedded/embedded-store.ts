import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../../common/index.ts';
import { InvalidQueryError, StoreError } from '../errors.ts';
import { FIXED_FACETS, isFacetField } from '../types.ts';
import type { Box, FacetField, ItemFields, ItemFilter, Page, ScanPage, ScannedItem, SearchHit, SearchResult, StoreItem, StoreSchema, StoreStats, UpsertItem, VectorStore } from '../types.ts';
import { AnnIndex, sidecarPath, type Quantization } from './ann-index.ts';
import type { AnnRebuildJob, AnnRebuildResult } from './ann-rebuild-worker.ts';
import { compileFilter, type SqlFilter } from './filters.ts';
import { keywordSearch } from './keyword.ts';
import { keywordGoodEnough, mergeHybrid, semanticScore, type Scored } from './ranking.ts';
import { SqliteRepository, type PreparedItem, type VectorChanges } from './sqlite-repository.ts';
import { vectorSearch, type SearchPath, type VectorHit } from './vector-search.ts';
import { SlabFullError, VectorSlab } from './vector-slab.ts';
import { normalised } from './vectors.ts';

export interface EmbeddedStoreOptions {
  /** Folder of `{index}.db` (SQLite, the truth) and `{index}.hnsw` (+ `.hnsw.json`, derived). */
  dir: string;
  index: string;
  quantization: Quantization;
  connectivity: number;
  expansionAdd: number;
  expansionSearch: number;
  /**
   * Vector changes after which the HNSW file is saved again (at least; a tenth of the index when
   * that is more, so that large indexes are not rewritten too often): what a crash can cost in
   * replay at the next open.
   */
  saveEvery?: number;
  /** A filtered search over at most this many vectors scans them exactly instead of asking the index. */
  exactScanLimit?: number;
  /** Most candidates a filtered search asks of the HNSW index before scanning the filter's items instead. */
  maxAnnCandidates?: number;
  /**
   * A missing or stale HNSW index of more vectors than this is rebuilt on a worker thread while
   * searches answer by exact scans (slower); a smaller one is rebuilt before open() returns.
   */
  backgroundRebuildAbove?: number;
  /**
   * writer (default): loads the HNSW index into memory, saves it and the scan copy, rebuilds them.
   * reader: maps the writer's saved HNSW file (usearch view(): one copy in the page cache for
   * every process, none per process), follows the writer's changes through the change log, and
   * never writes or rebuilds a derived file; without a usable file it answers by scans until the
   * writer saves one. `reprise serve --workers N` opens one writer and N − 1 readers.
   */
  role?: 'writer' | 'reader';
}

/** How the ANN index came to be at the last open: tests and operators want to know. */
export interface AnnOrigin {
  /** rebuilding: on a worker thread, searches scan meanwhile; none: a reader without a usable file. */
  source: 'new' | 'file' | 'replayed' | 'rebuilt' | 'rebuilding' | 'none';
  /** Why the file was not used as it was. */
  reason?: string;
  /** Vector keys applied from the change log. */
  replayed?: number;
}

/** How the exact-scan copy of the vectors came to be; unavailable: scans read SQLite. */
export interface SlabOrigin {
  source: 'new' | 'file' | 'replayed' | 'rebuilt' | 'unavailable';
  reason?: string;
}

const MAX_LIMIT = 1000;
const REBUILD_PAGE = 4096;
// Quantised vectors blur the index's order; more candidates, rescored exactly, restore it.
const OVERSAMPLE: Record<Quantization, number> = { f32: 1, f16: 1, i8: 3 };

function checkPage(opts: Page): { limit: number; offset: number } {
  const { limit, offset = 0 } = opts;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw new InvalidQueryError(`limit must be an integer from 1 to ${MAX_LIMIT}, got ${limit}`);
  if (!Number.isInteger(offset) || offset < 0) throw new InvalidQueryError(`offset must be a non-negative integer, got ${offset}`);
  return { limit, offset };
}

/**
 * The default store: SQLite (better-sqlite3, WAL) holds items, vectors and a full-text index;
 * an HNSW index (usearch) in memory answers vector queries and is saved beside it. SQLite is
 * written first, in one transaction per call, then the index follows; every change to the
 * vectors is also logged in SQLite with a generation number, which the saved index file carries
 * too. At open, an index file that is missing, torn, corrupt, built with other settings or for
 * another database is rebuilt from SQLite; one that is merely behind replays the log.
 */
export class EmbeddedStore implements VectorStore {
  private repo?: SqliteRepository;
  private ann?: AnnIndex;
  private schema?: StoreSchema;
  /** The generation the in-memory index and slab reflect. */
  private annGeneration = 0;
  /** The int8 copy of every vector, for exact scans of filtered subsets. */
  private slab?: VectorSlab;
  /** A background rebuild of the HNSW index, while one runs. */
  private rebuilding?: { worker: Worker; done: Promise<void> };
  /** How the last vector search was answered (tests, the benchmark). */
  lastSearchPath: SearchPath | undefined;
  /** SQLite's data_version when this store last looked for other processes' writes. */
  private seenDataVersion: number | undefined;
  /** Vector changes since the index file was written. */
  private unsaved = 0;
  /** embedded: items with a whole-image vector; the others were stored without a model. */
  private counts = { items: 0, vectors: 0, embedded: 0 };
  annOrigin: AnnOrigin = { source: 'new' };
  slabOrigin: SlabOrigin = { source: 'new' };

  /** Vectors in the ANN index: equal to stats().vectors whenever the store is consistent. */
  get indexedVectors(): number {
    return this.ann?.size ?? 0;
  }

  readonly dbFile: string;
  readonly annFile: string;
  readonly slabFile: string;

  constructor(private readonly options: EmbeddedStoreOptions) {
    this.dbFile = path.join(options.dir, `${options.index}.db`);
    this.annFile = path.join(options.dir, `${options.index}.hnsw`);
    this.slabFile = path.join(options.dir, `${options.index}.slab`);
  }

  private get reader(): boolean {
    return this.options.role === 'reader';
  }

  /** Resolves once no background rebuild of the HNSW index is running. */
  async annReady(): Promise<void> {
    while (this.rebuilding) await this.rebuilding.done;
  }

  async open(schema?: StoreSchema): Promise<void> {
    if (schema && (!Number.isInteger(schema.dimensions) || schema.dimensions < 1)) throw new InvalidQueryError(`dimensions must be a positive integer, got ${schema.dimensions}`);
    const firstOpen = !this.repo;
    if (!this.repo) {
      mkdirSync(this.options.dir, { recursive: true });
      this.repo = new SqliteRepository(this.dbFile);
    }
    try {
      if (schema) this.repo.checkSchema(this.options.index, schema);
    } catch (err) {
      if (firstOpen) this.closeRepo();
      throw err;
    }
    // Without a model, the schema a harvest with one recorded, if any: similar items keep working.
    this.schema = schema ?? this.repo.storedSchema();
    if (this.schema && !this.ann) this.loadAnn();
    else if (!this.schema) this.counts = this.repo.counts();
  }

  private closeRepo(): void {
    this.repo?.close();
    this.repo = undefined;
  }

  private settings() {
    const { quantization, connectivity, expansionAdd, expansionSearch } = this.options;
    return { dimensions: this.schema!.dimensions, quantization, connectivity, expansionAdd, expansionSearch };
  }

  /** Loads (or rebuilds) the slab and the HNSW index, each from its file when the file vouches for itself. */
  private loadAnn(): void {
    this.counts = this.repo!.counts();
    this.loadSlab();
    this.annGeneration = this.repo!.generation;
    this.loadIndex();
  }

  /** The exact-scan copy: from its file, brought up to date from the log, or rebuilt from SQLite (seconds at 1M, not minutes). */
  private loadSlab(): void {
    const repo = this.repo!;
    const dimensions = this.schema!.dimensions;
    this.slab = undefined;
    const loaded = VectorSlab.load(this.slabFile, dimensions, repo.storeId);
    if (!('reason' in loaded)) {
      const changed = repo.changedSince(loaded.generation);
      if (changed !== undefined) {
        this.slab = loaded.slab;
        if (changed.length) this.applyKeys(changed, { slab: this.slab });
        if (this.slab.size === this.counts.vectors) {
          this.slabOrigin = changed.length ? { source: 'replayed' } : { source: 'file' };
          // A file from before rows were laid out by collection: once, so that its filters scan fast.
          if (!loaded.arranged && !this.reader) this.saveSlab(repo.generation);
          return;
        }
      }
    }
    const reason = 'reason' in loaded ? loaded.reason : 'it is behind the change log or holds another count';
    try {
      const slab = VectorSlab.create(dimensions);
      if (!slab) {
        this.slabOrigin = { source: 'unavailable', reason: 'this Node has no WebAssembly SIMD: filtered searches read SQLite' };
        return;
      }
      for (const page of repo.vectorPages(REBUILD_PAGE)) {
        slab.add(
          page.map((v) => v.key),
          page.map((v) => v.item),
          page.map((v) => v.vector),
        );
      }
      this.slab = slab;
      this.slabOrigin = this.counts.vectors === 0 && reason === 'no slab file' ? { source: 'new' } : { source: 'rebuilt', reason };
      if (!this.reader && this.counts.vectors > 0) this.saveSlab(repo.generation);
    } catch (err) {
      if (!(err instanceof SlabFullError)) throw err;
      this.slab = undefined;
      this.slabOrigin = { source: 'unavailable', reason: `${err.message}: filtered searches read SQLite` };
    }
  }

  /** The HNSW index: loaded (writer) or mapped (reader) from its file and replayed, else rebuilt (writer), here or in the background. */
  private loadIndex(): void {
    const repo = this.repo!;
    this.ann = undefined;
    const loaded = AnnIndex.load(this.annFile, this.settings(), repo.storeId, this.reader ? 'view' : 'load');
    let reason: string;
    if ('reason' in loaded) reason = loaded.reason;
    else {
      const { index, generation } = loaded;
      const changed = repo.changedSince(generation);
      if (changed === undefined) reason = `the index file is at generation ${generation}, the store at ${repo.generation}, and the change log does not cover the gap`;
      else if (index.tombstones > index.size && !this.reader) reason = `${index.tombstones} removed vectors outweigh ${index.size} live ones`; // usearch never compacts
      else {
        if (changed.length > 0) this.applyKeys(changed, { ann: index });
        if (index.size === this.counts.vectors) {
          this.ann = index;
          this.unsaved += changed.length;
          this.annOrigin = changed.length ? { source: 'replayed', replayed: changed.length } : { source: 'file' };
          return;
        }
        reason = `the index holds ${index.size} vectors, SQLite ${this.counts.vectors}`;
      }
    }
    if (this.reader) {
      // The writer rebuilds it; scans answer until its file is there (catchUp looks again).
      this.annOrigin = { source: 'none', reason };
      return;
    }
    this.rebuild(this.counts.vectors === 0 && reason === 'no index file' ? { source: 'new' } : { source: 'rebuilt', reason });
  }

  /**
   * Brings the index and/or the slab up to SQLite's state for the keys the log names: present
   * keys are added, gone ones removed (keys are never reused, so a present key is the same vector).
   */
  private applyKeys(keys: number[], to: { ann?: AnnIndex; slab?: VectorSlab }): void {
    const present = this.repo!.vectorsByKey(keys);
    const have = new Set(present.map((v) => v.key));
    const gone = keys.filter((k) => !have.has(k));
    if (to.ann) {
      const ann = to.ann;
      ann.remove(gone);
      const add = present.filter((v) => !ann.has(v.key));
      ann.add(
        add.map((v) => v.key),
        add.map((v) => v.vector),
      );
    }
    if (to.slab) {
      const slab = to.slab;
      slab.remove(gone);
      const add = present.filter((v) => !slab.has(v.key));
      slab.add(
        add.map((v) => v.key),
        add.map((v) => v.item),
        add.map((v) => v.vector),
      );
    }
  }

  /** Brings the loaded index and slab up to SQLite for the keys the log names. */
  private replay(keys: number[]): void {
    this.applyKeys(keys, { ann: this.ann, slab: this.slab });
    this.annGeneration = this.repo!.generation;
    this.unsaved += keys.length;
  }

  /** Rebuilds the HNSW index from SQLite: before returning when it is small, on a worker thread otherwise. */
  private rebuild(origin: AnnOrigin): void {
    const repo = this.repo!;
    this.counts = repo.counts();
    if (origin.source !== 'new' && this.counts.vectors > (this.options.backgroundRebuildAbove ?? 20_000)) {
      this.rebuildInBackground(origin.reason ?? 'rebuilding');
      return;
    }
    const ann = new AnnIndex(this.settings());
    for (const page of repo.vectorPages(REBUILD_PAGE)) {
      ann.add(
        page.map((v) => v.key),
        page.map((v) => v.vector),
      );
    }
    this.ann = ann;
    this.annGeneration = repo.generation;
    this.annOrigin = origin;
    if (origin.source === 'new') {
      AnnIndex.remove(this.annFile);
      this.unsaved = 0;
    } else {
      this.saveAnn();
    }
  }

  /**
   * The rebuild of a large index (about 15 minutes at 1M vectors on two cores) on a worker
   * thread, from one read snapshot of SQLite, leaving a core to the server; searches scan the
   * slab meanwhile. The finished file is loaded and brought up to date from the change log,
   * which is not trimmed until then.
   */
  private rebuildInBackground(reason: string): void {
    if (this.rebuilding) return;
    this.ann = undefined;
    this.annOrigin = { source: 'rebuilding', reason };
    const repo = this.repo!;
    const job: AnnRebuildJob = {
      dbFile: this.dbFile,
      annFile: this.annFile,
      settings: this.settings(),
      storeId: repo.storeId,
      pageSize: REBUILD_PAGE,
      threads: Math.max(1, os.availableParallelism() - 1),
    };
    const worker = startWorker(import.meta.url, 'ann-rebuild-worker', { workerData: job });
    const done = new Promise<void>((resolve) => {
      let settled = false;
      const finish = (outcome: AnnRebuildResult | Error) => {
        if (settled) return;
        settled = true;
        if (this.rebuilding?.worker === worker) this.rebuilding = undefined;
        if (this.repo && this.repo === repo) this.adoptRebuilt(outcome, reason);
        resolve();
      };
      worker.once('message', (result: AnnRebuildResult) => finish(result));
      worker.once('error', (err) => finish(err));
      worker.once('exit', (code) => finish(new Error(`the rebuild thread exited with code ${code}`)));
    });
    this.rebuilding = { worker, done };
  }

  private adoptRebuilt(outcome: AnnRebuildResult | Error, reason: string): void {
    if (outcome instanceof Error) {
      this.annOrigin = { source: 'none', reason: `rebuilding the index failed (${outcome.message}); searches scan until the next open` };
      return;
    }
    const repo = this.repo!;
    const loaded = AnnIndex.load(this.annFile, this.settings(), repo.storeId);
    const changed = 'reason' in loaded ? undefined : repo.changedSince(loaded.generation);
    if ('reason' in loaded || changed === undefined) {
      this.annOrigin = { source: 'none', reason: `the rebuilt index could not be used (${'reason' in loaded ? loaded.reason : 'the change log no longer reaches it'}); searches scan until the next open` };
      return;
    }
    if (changed.length) this.applyKeys(changed, { ann: loaded.index });
    this.ann = loaded.index;
    this.unsaved += changed.length;
    this.annOrigin = { source: 'rebuilt', reason };
    repo.markIndexSaved(loaded.generation);
  }

  /** Saves the index and the slab at the generation they reflect, then trims the log to it. */
  private saveAnn(): void {
    if (this.reader) return;
    const repo = this.repo!;
    const stamp = { storeId: repo.storeId, generation: this.annGeneration };
    this.saveSlab(this.annGeneration);
    // While the index is rebuilt, the log must keep reaching back to the rebuild's snapshot.
    if (!this.ann) return;
    this.ann.save(this.annFile, stamp);
    repo.trimLog(this.annGeneration);
    // Readers map the file: the meta write tells them (through data_version) that a newer one is there.
    repo.markIndexSaved(this.annGeneration);
    this.unsaved = 0;
  }

  /** Lays the slab's rows out by collection and manifest (when changes have disturbed that order), then saves it. */
  private saveSlab(generation: number): void {
    const repo = this.repo!;
    if (!this.slab) return;
    if (!this.slab.arranged) this.slab.arrange(repo.itemsInLayoutOrder());
    this.slab.save(this.slabFile, { storeId: repo.storeId, generation });
  }

  /** The open store; ann and schema are absent while no model has opened the index (items without vectors only). */
  private ready(): { repo: SqliteRepository; ann: AnnIndex | undefined; schema: StoreSchema | undefined } {
    if (!this.repo) throw new StoreError('the embedded store is not open: call open() first');
    this.catchUp();
    return { repo: this.repo, ann: this.ann, schema: this.schema };
  }

  /**
   * Follows writes made by another process on the same database (a `reprise harvest` from cron
   * while `reprise serve` runs): SQLite's data_version changes only when another connection
   * commits, so the usual cost is one pragma. The index then replays the change log from its
   * generation, or reloads the file the writer saved (which trimmed the log), as open() does.
   */
  private catchUp(): void {
    const repo = this.repo!;
    const version = repo.dataVersion();
    if (version === this.seenDataVersion) return;
    this.seenDataVersion = version;
    repo.db.transaction(() => {
      if (!this.schema) {
        // Opened without a model: a harvest with one may have recorded its schema meanwhile.
        this.schema = repo.storedSchema();
        if (this.schema) this.loadAnn();
        else this.counts = repo.counts();
        return;
      }
      if (repo.generation !== this.annGeneration) {
        const changed = repo.changedSince(this.annGeneration);
        if (changed === undefined) {
          this.ann = undefined;
          this.loadAnn();
          return;
        }
        this.replay(changed);
      }
      // Items stored without vectors change the counts without a new generation.
      this.counts = repo.counts();
      // A reader maps the writer's file: a newer one replaces the vectors it keeps on the side (or the scans it answers with).
      if (this.reader && (!this.ann || (this.ann.isView && (repo.indexSavedGeneration() ?? 0) > this.ann.viewedGeneration))) this.loadIndex();
    })();
  }

  /** Makes the index follow a committed SQLite write; if that fails, the index is rebuilt from SQLite. */
  private follow(changes: VectorChanges): void {
    // Without a schema there is no ANN index, and no vector in SQLite either: the schema is recorded before any vector.
    const { ann, schema } = this.ready();
    this.counts.items += changes.itemDelta;
    this.counts.embedded += changes.embeddedDelta;
    this.counts.vectors += changes.added.length - changes.removed.length;
    if (!schema) return;
    if (this.slab) {
      try {
        this.slab.remove(changes.removed);
        this.slab.add(
          changes.added.map((a) => a.key),
          changes.added.map((a) => a.item),
          changes.added.map((a) => a.vector),
        );
      } catch (err) {
        if (!(err instanceof SlabFullError)) throw err;
        this.slab = undefined;
        this.slabOrigin = { source: 'unavailable', reason: `${err.message}: filtered searches read SQLite` };
      }
    }
    // Absent while it is rebuilt in the background: the rebuild replays the log when it is done.
    if (ann) {
      try {
        ann.remove(changes.removed);
        ann.add(
          changes.added.map((a) => a.key),
          changes.added.map((a) => a.vector),
        );
      } catch (err) {
        this.annGeneration = changes.generation;
        this.rebuild({ source: 'rebuilt', reason: `updating the index failed (${(err as Error).message})` });
        return;
      }
    }
    this.annGeneration = changes.generation;
    this.unsaved += changes.added.length + changes.removed.length;
    if (this.unsaved >= Math.max(this.options.saveEvery ?? 50_000, this.counts.vectors / 10)) this.saveAnn();
  }

  // --- writes -------------------------------------------------------------

  async upsert(items: UpsertItem[]): Promise<void> {
    const { repo, schema } = this.ready();
    // Everything is checked before anything is written: a bad item rejects the whole batch.
    const prepared: PreparedItem[] = items.map((item) => {
      if (typeof item.id !== 'string' || item.id.length === 0) throw new InvalidQueryError('an item needs a non-empty string id');
      const { vector, regions, ...fields } = item as ItemFields & Partial<Pick<StoreItem, 'vector' | 'regions'>>;
      if (vector === undefined) {
        if (regions?.length) throw new InvalidQueryError(`item ${item.id} has region vectors but no whole-image vector`);
        return { fields, vectors: [] };
      }
      if (!schema) throw new StoreError(`item ${item.id} has a vector, but the index was opened without a model: open it with the model's id and dimensions to store vectors`);
      return {
        fields,
        vectors: [
          { vector: normalised(vector, schema.dimensions, `the vector of item ${item.id}`) },
          ...(regions ?? []).map((r, i) => ({ box: { x: r.box.x, y: r.box.y, w: r.box.w, h: r.box.h }, vector: normalised(r.vector, schema.dimensions, `region ${i} of item ${item.id}`) })),
        ],
      };
    });
    if (prepared.length === 0) return;
    this.follow(repo.upsert(prepared));
  }

  async updateFields(items: ItemFields[]): Promise<void> {
    const { repo } = this.ready();
    if (items.length === 0) return;
    repo.updateFields(items.map((item) => {
      // A StoreItem passed here keeps its vectors out of the fields.
      const { vector: _v, regions: _r, ...fields } = item as ItemFields & Partial<Pick<StoreItem, 'vector' | 'regions'>>;
      return fields;
    }));
  }

  async delete(ids: string[]): Promise<void> {
    const { repo } = this.ready();
    if (ids.length === 0) return;
    this.follow(repo.deleteIds(ids).changes);
  }

  async deleteWhere(where: { manifest?: string[]; source?: string[] }): Promise<number> {
    const { repo } = this.ready();
    const ids = repo.idsWhere(where);
    if (ids.length === 0) return 0;
    const { deleted, changes } = repo.deleteIds(ids);
    this.follow(changes);
    return deleted;
  }

  // --- reads --------------------------------------------------------------

  async get(id: string): Promise<ItemFields | undefined> {
    return this.ready().repo.get(id);
  }

  async vectors(ids: string[]): Promise<Array<Float32Array | undefined>> {
    const { repo } = this.ready();
    return ids.map((id) => {
      const rowid = repo.rowidOf(id);
      return rowid === undefined ? undefined : repo.wholeVector(rowid);
    });
  }

  async nearest(vector: Float32Array, opts: Page & { filter?: ItemFilter }): Promise<SearchResult> {
    const { schema } = this.ready();
    const page = checkPage(opts);
    // No model has opened the index: it holds no vector to compare with.
    if (!schema) return { hits: [], total: 0 };
    const query = normalised(vector, schema.dimensions, 'the query vector');
    const { hits, total } = this.vectorHits(query, compileFilter(opts.filter), page.offset + page.limit);
    return { hits: this.hydrate(hits.slice(page.offset).map((h) => ({ rowid: h.rowid, score: h.cosine, region: h.region }))), total };
  }

  async similar(id: string, opts: Page & { filter?: ItemFilter }): Promise<SearchResult> {
    const { repo } = this.ready();
    const page = checkPage(opts);
    const filter = compileFilter(opts.filter);
    const rowid = repo.rowidOf(id);
    if (rowid === undefined) throw new InvalidQueryError(`no item with id ${JSON.stringify(id)} in the index`);
    // Stored without a vector (harvested without a model): nothing to compare it with yet.
    const vector = repo.wholeVector(rowid);
    if (!vector) return { hits: [], total: 0 };
    const { hits, total } = this.vectorHits(vector, filter, page.offset + page.limit, rowid);
    return { hits: this.hydrate(hits.slice(page.offset).map((h) => ({ rowid: h.rowid, score: h.cosine, region: h.region }))), total };
  }

  async keyword(query: string, opts: Page & { filter?: ItemFilter }): Promise<SearchResult> {
    const { repo } = this.ready();
    const page = checkPage(opts);
    if (typeof query !== 'string') throw new InvalidQueryError('the keyword query must be a string');
    const { hits, total } = keywordSearch(repo, query, compileFilter(opts.filter), page.offset + page.limit);
    return { hits: this.hydrate(hits.slice(page.offset)), total };
  }

  /**
   * Meilisearch's hybrid search: ratio 0 is the keyword search, ratio 1 (or no words) the
   * semantic one, and anything between merges both lists (ranking.ts). Vector hits score
   * (1 + cosine) / 2 here, Meilisearch's semantic score, to be comparable with keyword scores.
   */
  async hybrid(query: string, vector: Float32Array, opts: Page & { filter?: ItemFilter; semanticRatio: number }): Promise<SearchResult> {
    const { repo, schema } = this.ready();
    const page = checkPage(opts);
    const ratio = opts.semanticRatio;
    if (typeof ratio !== 'number' || !(ratio >= 0 && ratio <= 1)) throw new InvalidQueryError(`semanticRatio must be a number from 0 to 1, got ${ratio}`);
    if (typeof query !== 'string') throw new InvalidQueryError('the keyword query must be a string');
    // Without a schema the index holds no vectors: the semantic side finds nothing, keywords still match.
    const queryVector = schema ? normalised(vector, schema.dimensions, 'the query vector') : undefined;
    if (ratio === 0) return this.keyword(query, opts);
    const filter = compileFilter(opts.filter);
    const needed = page.offset + page.limit;
    const semantic = (): { list: Scored<SearchHitRef>[]; total: number } => {
      if (!queryVector) return { list: [], total: 0 };
      const { hits, total } = this.vectorHits(queryVector, filter, needed);
      return { list: hits.map((h) => ({ id: String(h.rowid), score: semanticScore(h.cosine), value: { rowid: h.rowid, score: semanticScore(h.cosine), region: h.region } })), total };
    };
    if (ratio === 1 || query.trim() === '') {
      const { list, total } = semantic();
      return { hits: this.hydrate(list.slice(page.offset).map((s) => s.value)), total };
    }
    const keyword = keywordSearch(repo, query, filter, needed);
    const keywordList: Scored<SearchHitRef>[] = keyword.hits.map((h) => ({ id: String(h.rowid), score: h.score, value: h }));
    if (keywordGoodEnough(keywordList, needed, ratio)) {
      return { hits: this.hydrate(keywordList.slice(page.offset).map((s) => s.value)), total: keyword.total };
    }
    const { list, total } = semantic();
    const merged = mergeHybrid(keywordList, list, ratio, page.offset, page.limit);
    return { hits: this.hydrate(merged.map((s) => s.value)), total: Math.max(total, keyword.total) };
  }

  async facets(fields: FacetField[], filter?: ItemFilter): Promise<Record<FacetField, Record<string, number>>> {
    const { repo } = this.ready();
    const sql = compileFilter(filter);
    const out: Partial<Record<FacetField, Record<string, number>>> = {};
    for (const field of new Set(fields)) {
      if (typeof field !== 'string' || !isFacetField(field)) throw new InvalidQueryError(`unknown facet ${JSON.stringify(field)}; known: ${FIXED_FACETS.join(', ')}, meta.<name>`);
      out[field] = repo.facet(field, sql);
    }
    // Only the fields asked for, as Meilisearch's facetDistribution.
    return out as Record<FacetField, Record<string, number>>;
  }

  async scan(opts: { filter?: ItemFilter; limit: number; after?: string; vectors?: boolean }): Promise<ScanPage> {
    const { repo } = this.ready();
    const { limit } = checkPage({ limit: opts.limit });
    // The cursor is the last rowid seen: rowids only grow, so a page never repeats an item.
    const after = opts.after === undefined ? 0 : Number(opts.after);
    if (!Number.isSafeInteger(after) || after < 0) throw new InvalidQueryError(`after must be the "next" cursor of an earlier page, got ${JSON.stringify(opts.after)}`);
    const rowids = repo.rowidsAfter(compileFilter(opts.filter), after, limit);
    const items = repo.itemsByRowid(rowids);
    const scanned = new Map<number, ScannedItem>();
    for (const rowid of rowids) {
      const item = items.get(rowid);
      if (item) scanned.set(rowid, { item, regions: [] });
    }
    const rows = opts.vectors === false ? [] : repo.vectorsOfItems(rowids).sort((a, b) => a.itemRowid - b.itemRowid || a.ord - b.ord);
    for (const row of rows) {
      const entry = scanned.get(row.itemRowid);
      if (!entry) continue;
      if (row.ord === 0) entry.vector = row.vector;
      else if (row.box) entry.regions.push({ box: row.box, vector: row.vector });
    }
    const page: ScanPage = { items: [...scanned.values()] };
    if (rowids.length === limit) page.next = String(rowids[rowids.length - 1]);
    return page;
  }

  async stats(): Promise<StoreStats> {
    const { schema } = this.ready();
    const { items, vectors, embedded } = this.counts;
    return { ...(schema ? { modelId: schema.modelId, dimensions: schema.dimensions } : {}), items, vectors, itemsWithoutVectors: items - embedded };
  }

  /** Saves the index if it changed since it was last written, then closes SQLite. */
  async close(): Promise<void> {
    const rebuilding = this.rebuilding;
    this.rebuilding = undefined;
    if (rebuilding) {
      // Stopped, not awaited to the end: the next open starts it again (the file it was writing is a .tmp).
      await rebuilding.worker.terminate();
    }
    if (this.repo && this.schema && this.unsaved > 0) this.saveAnn();
    this.ann = undefined;
    this.slab = undefined;
    this.closeRepo();
  }

  // --- helpers --------------------------------------------------------------

  private vectorHits(query: Float32Array, filter: SqlFilter, needed: number, exclude?: number): { hits: VectorHit[]; total: number } {
    const { repo, ann } = this.ready();
    const filteredItems = filter.active ? repo.countItems(filter) : this.counts.items;
    const { hits, path } = vectorSearch(
      repo,
      { ann, slab: this.slab, totalVectors: this.counts.vectors },
      // Items without vectors are never candidates: the index's own density is per embedded item.
      { vector: query, filter, needed, filteredItems, totalItems: this.counts.embedded, ...(exclude === undefined ? {} : { exclude }) },
      {
        exactScanLimit: this.options.exactScanLimit ?? 20_000,
        oversample: OVERSAMPLE[this.options.quantization],
        maxAnnCandidates: this.options.maxAnnCandidates ?? 1000,
      },
    );
    this.lastSearchPath = path;
    // Meilisearch counts every item that passes the filter as a candidate of a vector search.
    const total = Math.max(0, filteredItems - (exclude !== undefined && filter.active === false ? 1 : 0));
    return { hits, total };
  }

  private hydrate(refs: SearchHitRef[]): SearchHit[] {
    const items = this.ready().repo.itemsByRowid(refs.map((r) => r.rowid));
    const hits: SearchHit[] = [];
    for (const ref of refs) {
      const item = items.get(ref.rowid);
      if (!item) continue;
      const hit: SearchHit = { id: item.id, score: ref.score, item };
      if (ref.region) hit.region = ref.region;
      hits.push(hit);
    }
    return hits;
  }
}

interface SearchHitRef {
  rowid: number;
  score: number;
  region?: Box | undefined;
}
