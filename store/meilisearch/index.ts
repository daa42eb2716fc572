import { Meilisearch, type Index, type SearchParams } from 'meilisearch';
import type { StoreConfig } from '../../config/schema.ts';
import type {
  FacetField,
  ItemFields,
  ItemFilter,
  Page,
  SearchResult,
  StoreItem,
  StoreSchema,
  StoreStats,
  VectorStore,
} from '../types.ts';
import { InvalidQueryError, StoreError } from '../errors.ts';
import { apiErrorBody, toStoreError } from './errors.ts';
import { TaskWaiter } from './tasks.ts';
import { checkVersion, embedderName, ensureIndex } from './settings.ts';
import { checkItem, fromDocument, isValidDocumentId, toDocument, toFieldsDocument } from './documents.ts';
import {
  FACET_ATTRIBUTE,
  MATCH_NOTHING,
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
  private schema: StoreSchema | undefined;
  private embedder = '';
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

  async open(schema: StoreSchema): Promise<void> {
    if (this.closed) throw new StoreError('the Meilisearch store is closed');
    if (!schema.modelId || !Number.isInteger(schema.dimensions) || schema.dimensions < 1) {
      throw new StoreError(`a store needs a model id and a positive number of dimensions, got ${JSON.stringify(schema)}`);
    }
    await this.guard(async () => {
      await checkVersion(this.client, this.url);
      await ensureIndex(this.client, this.tasks, this.indexName, schema);
    });
    this.schema = { modelId: schema.modelId, dimensions: schema.dimensions };
    this.embedder = embedderName(schema.modelId);
  }

  async upsert(items: StoreItem[]): Promise<void> {
    const { dimensions } = this.opened();
    if (items.length === 0) return;
    for (const item of items) checkItem(item, dimensions);
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
    this.opened();
    // The last version of an item wins, as it would in a sequence of calls.
    const byId = new Map<string, ItemFields>();
    for (const item of items) if (typeof item?.id === 'string' && isValidDocumentId(item.id)) byId.set(item.id, item);
    if (byId.size === 0) return;
    await this.guard(async () => {
      // A partial update of an id that is not indexed would create a document without vectors,
      // which Meilisearch refuses for the whole batch: only items already there are sent.
      const ids = [...byId.keys()];
      const existing = new Set<string>();
      for (let i = 0; i < ids.length; i += this.batchSize) {
        const chunk = ids.slice(i, i + this.batchSize);
        const found = await this.index.getDocuments<Record<string, unknown>>({ filter: anyOf('id', chunk), fields: ['id'], limit: chunk.length });
        for (const doc of found.results) existing.add(String(doc.id));
      }
      const docs = ids.filter((id) => existing.has(id)).map((id) => toFieldsDocument(byId.get(id)!));
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
    this.opened();
    const valid = [...new Set(ids.filter((id) => typeof id === 'string' && isValidDocumentId(id)))];
    const found = new Map<string, Float32Array>();
    if (valid.length) {
      await this.guard(async () => {
        for (let i = 0; i < valid.length; i += this.batchSize) {
          const chunk = valid.slice(i, i + this.batchSize);
          const page = await this.index.getDocuments<Record<string, unknown>>({ filter: anyOf('id', chunk), fields: ['id', '_vectors'], retrieveVectors: true, limit: chunk.length });
          for (const doc of page.results) {
            const whole = (doc._vectors as Record<string, { embeddings?: number[][] }> | undefined)?.[this.embedder]?.embeddings?.[0];
            if (whole) found.set(String(doc.id), Float32Array.from(whole));
          }
        }
      });
    }
    return ids.map((id) => found.get(id));
  }

  async nearest(vector: Float32Array, opts: Page & { filter?: ItemFilter }): Promise<SearchResult> {
    this.opened();
    const page = checkPage(opts);
    const filter = buildFilter(opts.filter);
    if (filter === MATCH_NOTHING) return { hits: [], total: 0 };
    const params: SearchParams = {
      vector: checkVectorValues(vector),
      hybrid: { embedder: this.embedder, semanticRatio: 1 },
      ...page,
      ...(filter ? { filter } : {}),
    };
    return this.guard(() => runSearch(this.index, params, 'vector'), vector.length);
  }

  async similar(id: string, opts: Page & { filter?: ItemFilter }): Promise<SearchResult> {
    this.opened();
    const page = checkPage(opts);
    checkSimilarId(id);
    const filter = buildFilter(opts.filter);
    if (filter === MATCH_NOTHING) {
      if ((await this.get(id)) === undefined) throw new InvalidQueryError(`no item has the id ${JSON.stringify(id)}`);
      return { hits: [], total: 0 };
    }
    return this.guard(async () => {
      try {
        const response = await this.index.searchSimilarDocuments<Record<string, unknown>>({
          id,
          embedder: this.embedder,
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
    // A blank query would be Meilisearch's "placeholder search", which returns every item.
    if (query.trim() === '') return { hits: [], total: 0 };
    const filter = buildFilter(opts.filter);
    if (filter === MATCH_NOTHING) return { hits: [], total: 0 };
    return this.guard(() => runSearch(this.index, { q: query, ...page, ...(filter ? { filter } : {}) }, 'ranking'));
  }

  async hybrid(
    query: string,
    vector: Float32Array,
    opts: Page & { filter?: ItemFilter; semanticRatio: number },
  ): Promise<SearchResult> {
    this.opened();
    const page = checkPage(opts);
    const ratio = opts.semanticRatio;
    if (typeof ratio !== 'number' || !(ratio >= 0 && ratio <= 1)) {
      throw new InvalidQueryError(`semanticRatio must be between 0 and 1, got ${ratio}`);
    }
    const filter = buildFilter(opts.filter);
    if (filter === MATCH_NOTHING) return { hits: [], total: 0 };
    const params: SearchParams = {
      q: typeof query === 'string' ? query : '',
      vector: checkVectorValues(vector),
      hybrid: { embedder: this.embedder, semanticRatio: ratio },
      ...page,
      ...(filter ? { filter } : {}),
    };
    return this.guard(() => runSearch(this.index, params, 'ranking'), vector.length);
  }

  async facets(fields: FacetField[], filter?: ItemFilter): Promise<Record<FacetField, Record<string, number>>> {
    this.opened();
    for (const f of fields) {
      if (!(f in FACET_ATTRIBUTE)) throw new InvalidQueryError(`unknown facet ${JSON.stringify(f)}; known: ${Object.keys(FACET_ATTRIBUTE).join(', ')}`);
    }
    const out = {} as Record<FacetField, Record<string, number>>;
    for (const f of fields) out[f] = {};
    const expr = buildFilter(filter);
    if (fields.length === 0 || expr === MATCH_NOTHING) return out;
    const response = await this.guard(() =>
      this.index.search<Record<string, unknown>>(undefined, {
        limit: 0,
        facets: fields.map((f) => FACET_ATTRIBUTE[f]),
        ...(expr ? { filter: expr } : {}),
      }),
    );
    for (const f of fields) out[f] = { ...(response.facetDistribution?.[FACET_ATTRIBUTE[f]] ?? {}) };
    return out;
  }

  async stats(): Promise<StoreStats> {
    const schema = this.opened();
    const stats = await this.guard(() => this.index.getStats());
    return {
      modelId: schema.modelId,
      dimensions: schema.dimensions,
      items: stats.numberOfDocuments,
      // Counts every vector of every document (1.13+); every item has at least its whole-image one.
      vectors: stats.numberOfEmbeddings ?? stats.numberOfDocuments,
    };
  }

  async close(): Promise<void> {
    // The client keeps no connection of its own (it uses fetch); closing only forbids further use.
    this.closed = true;
    this.schema = undefined;
  }

  private opened(): StoreSchema {
    if (this.closed) throw new StoreError('the Meilisearch store is closed');
    if (!this.schema) throw new StoreError('open() the Meilisearch store before using it');
    return this.schema;
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
