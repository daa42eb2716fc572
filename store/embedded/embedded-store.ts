import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { InvalidQueryError, StoreError } from '../errors.ts';
import type { Box, FacetField, ItemFields, ItemFilter, Page, ScanPage, ScannedItem, SearchHit, SearchResult, StoreItem, StoreSchema, StoreStats, UpsertItem, VectorStore } from '../types.ts';
import { AnnIndex, type Quantization } from './ann-index.ts';
import { compileFilter, type SqlFilter } from './filters.ts';
import { keywordSearch } from './keyword.ts';
import { keywordGoodEnough, mergeHybrid, semanticScore, type Scored } from './ranking.ts';
import { SqliteRepository, type PreparedItem, type VectorChanges } from './sqlite-repository.ts';
import { vectorSearch, type VectorHit } from './vector-search.ts';
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
}

/** How the ANN index came to be at the last open: tests and operators want to know. */
export interface AnnOrigin {
  source: 'new' | 'file' | 'replayed' | 'rebuilt';
  /** Why the file was not used as it was. */
  reason?: string;
  /** Vector keys applied from the change log. */
  replayed?: number;
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
  /** The generation the in-memory index reflects. */
  private annGeneration = 0;
  /** SQLite's data_version when this store last looked for other processes' writes. */
  private seenDataVersion: number | undefined;
  /** Vector changes since the index file was written. */
  private unsaved = 0;
  /** embedded: items with a whole-image vector; the others were stored without a model. */
  private counts = { items: 0, vectors: 0, embedded: 0 };
  annOrigin: AnnOrigin = { source: 'new' };

  /** Vectors in the ANN index: equal to stats().vectors whenever the store is consistent. */
  get indexedVectors(): number {
    return this.ann?.size ?? 0;
  }

  readonly dbFile: string;
  readonly annFile: string;

  constructor(private readonly options: EmbeddedStoreOptions) {
    this.dbFile = path.join(options.dir, `${options.index}.db`);
    this.annFile = path.join(options.dir, `${options.index}.hnsw`);
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

  private loadAnn(): void {
    const repo = this.repo!;
    this.counts = repo.counts();
    const loaded = AnnIndex.load(this.annFile, this.settings(), repo.storeId);
    if ('reason' in loaded) {
      this.rebuild(this.counts.vectors === 0 && loaded.reason === 'no index file' ? { source: 'new' } : { source: 'rebuilt', reason: loaded.reason });
      return;
    }
    const { index, generation } = loaded;
    const changed = repo.changedSince(generation);
    if (changed === undefined) {
      this.rebuild({ source: 'rebuilt', reason: `the index file is at generation ${generation}, the store at ${repo.generation}, and the change log does not cover the gap` });
      return;
    }
    if (index.tombstones > index.size) {
      // usearch never compacts: once most of the graph is removed vectors, rebuild it.
      this.rebuild({ source: 'rebuilt', reason: `${index.tombstones} removed vectors outweigh ${index.size} live ones` });
      return;
    }
    this.ann = index;
    this.annGeneration = generation;
    if (changed.length > 0) this.replay(changed);
    if (this.ann.size !== this.counts.vectors) {
      this.rebuild({ source: 'rebuilt', reason: `the index holds ${this.ann.size} vectors, SQLite ${this.counts.vectors}` });
      return;
    }
    this.annOrigin = changed.length ? { source: 'replayed', replayed: changed.length } : { source: 'file' };
  }

  /** Brings a loaded index up to SQLite's state for the keys the log names: present keys are added, gone ones removed. */
  private replay(keys: number[]): void {
    const ann = this.ann!;
    const present = new Map(this.repo!.vectorsByKey(keys).map((v) => [v.key, v.vector]));
    ann.remove(keys.filter((k) => !present.has(k)));
    const toAdd = [...present].filter(([key]) => !ann.has(key));
    ann.add(
      toAdd.map(([key]) => key),
      toAdd.map(([, vector]) => vector),
    );
    this.annGeneration = this.repo!.generation;
    this.unsaved += keys.length;
  }

  private rebuild(origin: AnnOrigin): void {
    const repo = this.repo!;
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
    this.counts = repo.counts();
    if (origin.source === 'new') {
      AnnIndex.remove(this.annFile);
      this.unsaved = 0;
    } else {
      this.saveAnn();
    }
  }

  private saveAnn(): void {
    this.ann!.save(this.annFile, { storeId: this.repo!.storeId, generation: this.annGeneration });
    this.repo!.trimLog(this.annGeneration);
    this.unsaved = 0;
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
    })();
  }

  /** Makes the index follow a committed SQLite write; if that fails, the index is rebuilt from SQLite. */
  private follow(changes: VectorChanges): void {
    // Without a schema there is no ANN index, and no vector in SQLite either: the schema is recorded before any vector.
    const { ann } = this.ready();
    if (ann) {
      try {
        ann.remove(changes.removed);
        ann.add(
          changes.added.map((a) => a.key),
          changes.added.map((a) => a.vector),
        );
        this.annGeneration = changes.generation;
      } catch (err) {
        this.rebuild({ source: 'rebuilt', reason: `updating the index failed (${(err as Error).message})` });
        return;
      }
    }
    this.counts.items += changes.itemDelta;
    this.counts.embedded += changes.embeddedDelta;
    this.counts.vectors += changes.added.length - changes.removed.length;
    if (!ann) return;
    this.unsaved += changes.added.length + changes.removed.length;
    if (this.unsaved >= Math.max(this.options.saveEvery ?? 50_000, ann.size / 10)) this.saveAnn();
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
      if (!['manifest', 'collection', 'rights', 'labels', 'source'].includes(field)) throw new InvalidQueryError(`unknown facet ${JSON.stringify(field)}`);
      out[field] = repo.facet(field, sql);
    }
    // Only the fields asked for, as Meilisearch's facetDistribution.
    return out as Record<FacetField, Record<string, number>>;
  }

  async scan(opts: { filter?: ItemFilter; limit: number; after?: string }): Promise<ScanPage> {
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
    const rows = repo.vectorsOfItems(rowids).sort((a, b) => a.itemRowid - b.itemRowid || a.ord - b.ord);
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
    if (this.repo && this.ann && this.unsaved > 0) this.saveAnn();
    this.ann = undefined;
    this.closeRepo();
  }

  // --- helpers --------------------------------------------------------------

  private vectorHits(query: Float32Array, filter: SqlFilter, needed: number, exclude?: number): { hits: VectorHit[]; total: number } {
    const { repo, ann } = this.ready();
    const filteredItems = filter.active ? repo.countItems(filter) : this.counts.items;
    const hits = vectorSearch(
      repo,
      ann!,
      // Items without vectors are never candidates: the index's own density is per embedded item.
      { vector: query, filter, needed, filteredItems, totalItems: this.counts.embedded, ...(exclude === undefined ? {} : { exclude }) },
      { exactScanLimit: this.options.exactScanLimit ?? 5000, oversample: OVERSAMPLE[this.options.quantization] },
    );
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
