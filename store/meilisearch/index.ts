import { Meilisearch, type Index, type SearchParams } from 'meilisearch';
import type { StoreConfig } from '../../config/index.ts';
import type {
  Box,
  FacetField,
  ItemFields,
  ItemFilter,
  Page,
  ScanPage,
  ScannedItem,
  SearchResult,
  StoreSchema,
  UpsertItem,
  StoreStats,
  VectorStore,
} from '../types.ts';
import { InvalidQueryError, StoreError } from '../errors.ts';
import { FIXED_FACETS, isFacetField } from '../types.ts';
import { apiErrorBody, toStoreError } from './errors.ts';
import { TaskWaiter } from './tasks.ts';
import { checkVersion, embedderName, ensureIndex, indexSchema } from './settings.ts';
import { checkItem, fromDocument, isValidDocumentId, toDocument, toFieldsDocument } from './documents.ts';
import {
  facetAttribute,
  MATCH_NOTHING,
  metaValue,
  anyOf,
  buildFilter,
  checkPage,
  checkSimilarId,
  checkVectorValues,
  deleteFilter,
  runSearch,
  toResult,
} from './search.ts';

export type MeilisearchOptions = StoreConfig['meilisearch'];

export { embedderName, modelIdOf, MIN_VERSION } from './settings.ts';
export { quote, buildFilter, toScore } from './search.ts';
export { TaskWaiter } from './tasks.ts';

/**
 * The vector store on a Meilisearch server (1.13 or newer), for portals that already run one or
 * want its keyword search next to visual search. One index per model: an index is made with a
 * `userProvided` embedder named after the model, and refuses to be opened for another.
 */
export class MeilisearchStore implements VectorStore {
  readonly url: string;
  readonly indexName: string;
  private readonly client: Meilisearch;
  private readonly tasks: TaskWaiter;
  private readonly index: Index;
  private readonly batchSize: number;
  /** Undefined while the index has no embedder (opened without a model, and no model has opened it since). */
  private schema: StoreSchema | undefined;
  private embedder: string | undefined;
  private isOpen = false;
  private closed = false;

  constructor(options: MeilisearchOptions, index: string) {
    this.url = options.url;
    this.indexName = index;
    this.batchSize = options.batchSize;
    this.client = new Meilisearch({
      host: options.url,
      ...(options.apiKey ? { apiKey: options.apiKey } : {}),
      timeout: options.timeoutMs,
      clientAgents: ['Reprise'],
    });
    this.tasks = new TaskWaiter(this.client, options.taskTimeoutMs);
    this.index = this.client.index(index);
  }

  /** The store for `store.index` and `store.meilisearch` of the configuration. */
  static fromConfig(store: StoreConfig): MeilisearchStore {
    return new MeilisearchStore(store.meilisearch, store.index);
  }

  async open(schema?: StoreSchema): Promise<void> {
    if (this.closed) throw new StoreError('the Meilisearch store is closed');
    if (schema && (!schema.modelId || !Number.isInteger(schema.dimensions) || schema.dimensions < 1)) {
      throw new StoreError(`a store needs a model id and a positive number of dimensions, got ${JSON.stringify(schema)}`);
    }
    const effective = await this.guard(async () => {
      await checkVersion(this.client, this.url);
      return ensureIndex(this.client, this.tasks, this.indexName, schema);
    });
    this.adopt(effective);
    this.isOpen = true;
  }

  private adopt(schema: StoreSchema | undefined): void {
    this.schema = schema && { modelId: schema.modelId, dimensions: schema.dimensions };
    this.embedder = schema && embedderName(schema.modelId);
  }

  /**
   * The index's schema. Opened without a model, the store asks the index again until one appears:
   * a harvest with a model in another process may have added the embedder, and from then on every
   * document written must name it.
   */
  private async currentSchema(): Promise<StoreSchema | undefined> {
    this.opened();
    if (!this.schema) this.adopt(await this.guard(() => indexSchema(this.client, this.indexName)));
    return this.schema;
  }

  async upsert(items: UpsertItem[]): Promise<void> {
    this.opened();
    if (items.length === 0) return;
    const schema = await this.currentSchema();
    for (const item of items) checkItem(item, schema?.dimensions);
    const docs = items.map((item) => toDocument(item, this.embedder));
    await this.guard(async () => {
      const enqueued = [];
      for (let i = 0; i < docs.length; i += this.batchSize) {
        enqueued.push(this.index.addDocuments(docs.slice(i, i + this.batchSize), { primaryKey: 'id' }));
      }
      await this.tasks.waitAll(enqueued);
    });
  }

  async updateFields(items: ItemFields[]): Promise<void> {
    await this.currentSchema();
    // The last version of an item wins, as it would in a sequence of calls.
    const byId = new Map<string, ItemFields>();
    for (const item of items) if (typeof item?.id === 'string' && isValidDocumentId(item.id)) byId.set(item.id, item);
    if (byId.size === 0) return;
    await this.guard(async () => {
      // A partial update of an id that is not indexed would create a document without vectors,
      // which Meilisearch refuses for the whole batch: only items already there are sent.
      const ids = [...byId.keys()];
      const existing = new Set<string>();
      const vectorless = new Set<string>();
      for (let i = 0; i < ids.length; i += this.batchSize) {
        const chunk = ids.slice(i, i + this.batchSize);
        const found = await this.index.getDocuments<Record<string, unknown>>({ filter: anyOf('id', chunk), fields: ['id', 'vectorless'], limit: chunk.length });
        for (const doc of found.results) {
          existing.add(String(doc.id));
          if (doc.vectorless === true) vectorless.add(String(doc.id));
        }
      }
      // An item stored without a vector opts out of the embedder again, as its first version did.
      const embedder = this.embedder;
      const docs = ids
        .filter((id) => existing.has(id))
        .map((id) => ({ ...toFieldsDocument(byId.get(id)!), ...(embedder !== undefined && vectorless.has(id) ? { _vectors: { [embedder]: null } } : {}) }));
      const enqueued = [];
      for (let i = 0; i < docs.length; i += this.batchSize) {
        enqueued.push(this.index.updateDocuments(docs.slice(i, i + this.batchSize), { primaryKey: 'id' }));
      }
      await this.tasks.waitAll(enqueued);
    });
  }

  async delete(ids: string[]): Promise<void> {
    this.opened();
    // An id Meilisearch cannot hold is not in the index: nothing to delete.
    const valid = ids.filter((id) => typeof id === 'string' && isValidDocumentId(id));
    if (valid.length === 0) return;
    await this.guard(async () => {
      const enqueued = [];
      for (let i = 0; i < valid.length; i += this.batchSize) {
        enqueued.push(this.index.deleteDocuments(valid.slice(i, i + this.batchSize)));
      }
      await this.tasks.waitAll(enqueued);
    });
  }

  async deleteWhere(where: { manifest?: string[]; source?: string[] }): Promise<number> {
    this.opened();
    const filter = deleteFilter(where);
    if (filter === undefined) return 0;
    return this.guard(async () => {
      const task = await this.tasks.wait(this.index.deleteDocuments({ filter }));
      // The task's own count is exact; a search's estimatedTotalHits need not be.
      return task.details?.deletedDocuments ?? 0;
    });
  }

  async get(id: string): Promise<ItemFields | undefined> {
    this.opened();
    if (typeof id !== 'string' || !isValidDocumentId(id)) return undefined;
    return this.guard(async () => {
      try {
        return fromDocument(await this.index.getDocument<Record<string, unknown>>(id));
      } catch (err) {
        if (apiErrorBody(err)?.code === 'document_not_found') return undefined;
        throw err;
      }
    });
  }

  async vectors(ids: string[]): Promise<Array<Float32Array | undefined>> {
    const schema = await this.currentSchema();
    const valid = [...new Set(ids.filter((id) => typeof id === 'string' && isValidDocumentId(id)))];
    const found = new Map<string, Float32Array>();
    if (valid.length && schema) {
      await this.guard(async () => {
        for (let i = 0; i < valid.length; i += this.batchSize) {
          const chunk = valid.slice(i, i + this.batchSize);
          const page = await this.index.getDocuments<Record<string, unknown>>({ filter: anyOf('id', chunk), fields: ['id', '_vectors'], retrieveVectors: true, limit: chunk.length });
          for (const doc of page.results) {
            const whole = (doc._vectors as Record<string, { embeddings?: number[][] }> | undefined)?.[this.embedder!]?.embeddings?.[0];
            if (whole) found.set(String(doc.id), Float32Array.from(whole));
          }
        }
      });
    }
    return ids.map((id) => found.get(id));
  }

  async nearest(vector: Float32Array, opts: Page & { filter?: ItemFilter }): Promise<SearchResult> {
    const schema = await this.currentSchema();
    const page = checkPage(opts);
    const filter = buildFilter(opts.filter);
    // No embedder: no item has a vector to compare with.
    if (filter === MATCH_NOTHING || !schema) return { hits: [], total: 0 };
    const params: SearchParams = {
      vector: checkVectorValues(vector),
      hybrid: { embedder: this.embedder!, semanticRatio: 1 },
      ...page,
      ...(filter ? { filter } : {}),
    };
    return this.guard(() => runSearch(this.index, params, 'vector'), vector.length);
  }

  async similar(id: string, opts: Page & { filter?: ItemFilter }): Promise<SearchResult> {
    const schema = await this.currentSchema();
    const page = checkPage(opts);
    checkSimilarId(id);
    const filter = buildFilter(opts.filter);
    if (filter === MATCH_NOTHING || !schema) {
      if ((await this.get(id)) === undefined) throw new InvalidQueryError(`no item has the id ${JSON.stringify(id)}`);
      return { hits: [], total: 0 };
    }
    return this.guard(async () => {
      try {
        // An item stored without a vector has no neighbours: Meilisearch answers no hits.
        const response = await this.index.searchSimilarDocuments<Record<string, unknown>>({
          id,
          embedder: this.embedder!,
          ...page,
          ...(filter ? { filter } : {}),
          showRankingScore: true,
        });
        return toResult(response, 'vector');
      } catch (err) {
        if (apiErrorBody(err)?.code === 'not_found_similar_id') throw new InvalidQueryError(`no item has the id ${JSON.stringify(id)}`);
        throw err;
      }
    });
  }

  async keyword(query: string, opts: Page & { filter?: ItemFilter }): Promise<SearchResult> {
    this.opened();
    const page = checkPage(opts);
    if (typeof query !== 'string') throw new InvalidQueryError('the keyword query must be a string');
    // A blank query is Meilisearch's placeholder search: every item the filter selects, as the embedded store lists them.
    const filter = buildFilter(opts.filter);
    if (filter === MATCH_NOTHING) return { hits: [], total: 0 };
    return this.guard(() => runSearch(this.index, { q: query, ...page, ...(filter ? { filter } : {}) }, 'ranking'));
  }

  async hybrid(
    query: string,
    vector: Float32Array,
    opts: Page & { filter?: ItemFilter; semanticRatio: number },
  ): Promise<SearchResult> {
    const schema = await this.currentSchema();
    const page = checkPage(opts);
    const ratio = opts.semanticRatio;
    if (typeof ratio !== 'number' || !(ratio >= 0 && ratio <= 1)) {
      throw new InvalidQueryError(`semanticRatio must be between 0 and 1, got ${ratio}`);
    }
    const filter = buildFilter(opts.filter);
    if (filter === MATCH_NOTHING) return { hits: [], total: 0 };
    if (!schema) {
      // No embedder, no vectors: the semantic side finds nothing and keywords alone rank.
      if (ratio === 1 || typeof query !== 'string' || query.trim() === '') return { hits: [], total: 0 };
      return this.keyword(query, opts);
    }
    const params: SearchParams = {
      q: typeof query === 'string' ? query : '',
      vector: checkVectorValues(vector),
      hybrid: { embedder: this.embedder!, semanticRatio: ratio },
      ...page,
      ...(filter ? { filter } : {}),
    };
    return this.guard(() => runSearch(this.index, params, 'ranking'), vector.length);
  }

  async facets(fields: FacetField[], filter?: ItemFilter): Promise<Record<FacetField, Record<string, number>>> {
    this.opened();
    for (const f of fields) {
      if (typeof f !== 'string' || !isFacetField(f)) throw new InvalidQueryError(`unknown facet ${JSON.stringify(f)}; known: ${FIXED_FACETS.join(', ')}, meta.<name>`);
    }
    const out = {} as Record<FacetField, Record<string, number>>;
    for (const f of fields) out[f] = {};
    const expr = buildFilter(filter);
    if (fields.length === 0 || expr === MATCH_NOTHING) return out;
    const response = await this.guard(() =>
      this.index.search<Record<string, unknown>>(undefined, {
        limit: 0,
        facets: [...new Set(fields.map(facetAttribute))],
        ...(expr ? { filter: expr } : {}),
      }),
    );
    for (const f of fields) {
      const counts = response.facetDistribution?.[facetAttribute(f)] ?? {};
      if (!f.startsWith('meta.')) {
        out[f] = { ...counts };
        continue;
      }
      // One attribute holds every metadata facet: the values of this one carry its name before the separator.
      const prefix = metaValue(f.slice(5), '');
      out[f] = Object.fromEntries(Object.entries(counts).filter(([k]) => k.startsWith(prefix)).map(([k, n]) => [k.slice(prefix.length), n]));
    }
    return out;
  }

  async scan(opts: { filter?: ItemFilter; limit: number; after?: string; vectors?: boolean }): Promise<ScanPage> {
    const schema = await this.currentSchema();
    const { limit } = checkPage({ limit: opts.limit });
    // The cursor is an offset into the documents route, which lists in Meilisearch's own stable order (and has no maxTotalHits).
    const offset = opts.after === undefined ? 0 : Number(opts.after);
    if (!Number.isSafeInteger(offset) || offset < 0) throw new InvalidQueryError(`after must be the "next" cursor of an earlier page, got ${JSON.stringify(opts.after)}`);
    const filter = buildFilter(opts.filter);
    if (filter === MATCH_NOTHING) return { items: [] };
    const page = await this.guard(() =>
      // Always a filter: the client then POSTs to documents/fetch, the one documents listing that takes filters and vectors alike.
      this.index.getDocuments<Record<string, unknown>>({ filter: filter ?? 'id EXISTS', offset, limit, ...(schema && opts.vectors !== false ? { retrieveVectors: true } : {}) }),
    );
    const items = page.results.map((doc): ScannedItem => {
      const embeddings = (doc._vectors as Record<string, { embeddings?: number[][] } | null> | undefined)?.[this.embedder ?? '']?.embeddings ?? [];
      const boxes = (doc.regions as Box[] | undefined) ?? [];
      const scanned: ScannedItem = { item: fromDocument(doc), regions: [] };
      if (doc.vectorless !== true && embeddings[0]) {
        scanned.vector = Float32Array.from(embeddings[0]);
        boxes.forEach((box, i) => {
          const v = embeddings[i + 1];
          if (v) scanned.regions.push({ box: { x: box.x, y: box.y, w: box.w, h: box.h }, vector: Float32Array.from(v) });
        });
      }
      return scanned;
    });
    return offset + page.results.length < page.total ? { items, next: String(offset + page.results.length) } : { items };
  }

  async stats(): Promise<StoreStats> {
    const schema = await this.currentSchema();
    const stats = await this.guard(() => this.index.getStats());
    return {
      ...(schema ? { modelId: schema.modelId, dimensions: schema.dimensions } : {}),
      items: stats.numberOfDocuments,
      // Both counted by Meilisearch 1.13+: every vector of every document, and the documents with at least one.
      vectors: stats.numberOfEmbeddings ?? 0,
      itemsWithoutVectors: stats.numberOfDocuments - (stats.numberOfEmbeddedDocuments ?? stats.numberOfDocuments),
    };
  }

  async close(): Promise<void> {
    // The client keeps no connection of its own (it uses fetch); closing only forbids further use.
    this.closed = true;
    this.schema = undefined;
  }

  private opened(): void {
    if (this.closed) throw new StoreError('the Meilisearch store is closed');
    if (!this.isOpen) throw new StoreError('open() the Meilisearch store before using it');
  }

  /** Runs a call to Meilisearch and turns its failures into store errors that say what to do. */
  private async guard<T>(fn: () => Promise<T>, queryLength?: number): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      const code = apiErrorBody(err)?.code;
      if ((code === 'invalid_vector_dimensions' || code === 'invalid_search_vector') && queryLength !== undefined && this.schema) {
        const wrong = new InvalidQueryError(
          `the query vector has ${queryLength} dimensions; the index "${this.indexName}" holds vectors of ` +
            `${this.schema.modelId} with ${this.schema.dimensions} (Meilisearch: ${apiErrorBody(err)?.message})`,
        );
        Object.defineProperty(wrong, 'cause', { value: err, enumerable: false });
        throw wrong;
      }
      throw toStoreError(err, { url: this.url, index: this.indexName });
    }
  }
}
