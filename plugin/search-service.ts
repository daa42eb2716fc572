/**
 * What the routes do, without HTTP: every search, lookup and check of the API. Store and encoder
 * calls go through two wrappers that time them (metrics) and bound them (api.storeTimeoutMs,
 * api.encoderTimeoutMs), so no request waits longer than configured.
 */
import { textTower, type Encoders } from '../models/index.ts';
import type { FacetField, ItemFilter, SearchHit, SearchResult, VectorStore } from '../store/index.ts';
import { canvasBox } from './canvas-lookup.ts';
import { CancelledOutError, feedbackQuery } from './feedback.ts';
import { shapeHit, shapeItemDetails, type ShapedItemDetails } from './hits.ts';
import { itemVectors } from './item-vectors.ts';
import type { Metrics, Outcome } from './metrics.ts';
import { encoderTimeout, storeTimeout, withTimeout } from './middleware/timeouts.ts';
import { invalidParams, MODEL_HINT, modelUnavailable, noTextTower, notEmbedded, notFound, Problem } from './problems.ts';
import type { QueryImage, QueryImages } from './query-image.ts';
import type { FacetsBody, HealthBody, SearchPageBody, StatsBody } from './response-schemas.ts';
import { rightsName } from '../harvester/index.ts';
import { MAX_WINDOW } from './schemas.ts';
import type { SearchDeps } from './types.ts';

export interface SearchOptions {
  filter?: ItemFilter;
  limit: number;
  offset: number;
  minScore?: number;
}

/** The API's page of hits (response-schemas.ts): total counts the hits above minScore when one is given. */
export type SearchPage = SearchPageBody;

export type ImageSource =
  | { kind: 'upload'; bytes: Buffer; name?: string }
  | { kind: 'url'; url: string }
  | { kind: 'iiif'; url: string }
  | { kind: 'canvas'; canvas: string; xywh: string; manifest?: string };

/** An example for relevance feedback: an indexed item or a vector. */
export type Example = string | number[];

export type Health = HealthBody;
export type Stats = StatsBody;

/** A store search asked for one window of its ranking. */
type RunPage = (page: { limit: number; offset: number }) => Promise<SearchResult>;

async function bounded<T>(work: () => Promise<T>, ms: number, onTimeout: () => Error, observe: (outcome: Outcome, seconds: number) => void): Promise<T> {
  const start = performance.now();
  let outcome: Outcome = 'ok';
  try {
    return await withTimeout(work(), ms, () => {
      outcome = 'timeout';
      return onTimeout();
    });
  } catch (err) {
    if (outcome === 'ok') outcome = 'error';
    throw err;
  } finally {
    observe(outcome, (performance.now() - start) / 1000);
  }
}

export class SearchService {
  constructor(
    private readonly deps: SearchDeps,
    private readonly metrics: Metrics,
    private readonly images: QueryImages,
  ) {}

  get hasModel(): boolean {
    return this.deps.encoders !== undefined;
  }

  private get api() {
    return this.deps.config.api;
  }

  /** A store call, timed and bounded. */
  readonly call = <T>(operation: string, fn: (store: VectorStore) => Promise<T>): Promise<T> =>
    bounded(() => fn(this.deps.store), this.api.storeTimeoutMs, () => storeTimeout(this.api.storeTimeoutMs, operation), (outcome, seconds) =>
      this.metrics.observeStore(operation, outcome, seconds),
    );

  /** An encoder call, timed and bounded; a 503 saying how to get a model when none is loaded. */
  private encode<T>(tower: 'text' | 'image', what: string, fn: (encoders: Encoders) => Promise<T>): Promise<T> {
    const encoders = this.deps.encoders;
    if (!encoders) throw modelUnavailable(tower === 'text' ? 'Text search' : 'Image search');
    return bounded(() => fn(encoders), this.api.encoderTimeoutMs, () => encoderTimeout(this.api.encoderTimeoutMs, what), (outcome, seconds) =>
      this.metrics.observeEncoder(tower, outcome, seconds),
    );
  }

  /**
   * A page of a ranking, with a total that agrees with what a client can page through. Hits rank
   * best first, so those scoring at least minScore are a prefix of the ranking: the page is the
   * store's page cut at minScore, and the total is where the prefix ends — read off this page when
   * it ends here, else counted over the paging window (one more store call, MAX_WINDOW hits).
   * Without minScore the store's count stands, except in hybrid search, where it is at least every
   * item the filters select (each has a semantic score), whatever the page size.
   */
  private async page(run: RunPage, opts: SearchOptions, scoreKind: SearchPage['scoreKind'], hybrid = false): Promise<SearchPage> {
    const result = await run(opts);
    const shape = (hits: SearchHit[], total: number | undefined): SearchPage => ({
      hits: hits.map(shapeHit),
      ...(total !== undefined ? { total } : {}),
      limit: opts.limit,
      offset: opts.offset,
      scoreKind,
    });
    const min = opts.minScore;
    if (min === undefined) {
      if (!hybrid) return shape(result.hits, result.total);
      return shape(result.hits, Math.max(result.total ?? 0, await this.filteredCount(opts.filter)));
    }
    const passing = result.hits.filter((h) => h.score >= min);
    const endsHere = passing.length > 0 || opts.offset === 0;
    if (endsHere && (passing.length < result.hits.length || result.hits.length < opts.limit)) return shape(passing, opts.offset + passing.length);
    const window = await run({ limit: MAX_WINDOW, offset: 0 });
    return shape(passing, window.hits.filter((h) => h.score >= min).length);
  }

  /** Items the filters select, as browsing counts them. */
  private async filteredCount(filter: ItemFilter | undefined): Promise<number> {
    const result = await this.call('keyword', (s) => s.keyword('', { limit: 1, offset: 0, ...(filter ? { filter } : {}) }));
    return result.total ?? 0;
  }

  private storePage(opts: SearchOptions, page: { limit: number; offset: number } = opts) {
    return { limit: page.limit, offset: page.offset, ...(opts.filter ? { filter: opts.filter } : {}) };
  }

  /**
   * Text → image. Without semanticRatio, the text embedding's nearest images (cosine scores); with
   * it, the store's hybrid search over metadata keywords and the embedding (ranking scores), where
   * 0 is keywords alone and needs no model.
   */
  async text(q: string, opts: SearchOptions & { semanticRatio?: number }): Promise<SearchPage> {
    if (opts.semanticRatio === 0) return this.page((p) => this.call('keyword', (s) => s.keyword(q, this.storePage(opts, p))), opts, 'ranking');
    const encoders = this.deps.encoders;
    if (encoders && !encoders.text) throw noTextTower(encoders.config.modelId);
    const [vector] = await this.encode('text', 'query text', (e) => textTower(e).embed([q]));
    if (opts.semanticRatio === undefined) return this.page((p) => this.call('nearest', (s) => s.nearest(vector!, this.storePage(opts, p))), opts, 'cosine');
    const ratio = opts.semanticRatio;
    return this.page((p) => this.call('hybrid', (s) => s.hybrid(q, vector!, { ...this.storePage(opts, p), semanticRatio: ratio })), opts, 'ranking', true);
  }

  /** Image → image, from any source of query pixels. */
  async image(source: ImageSource, opts: SearchOptions): Promise<SearchPage> {
    if (!this.deps.encoders) throw modelUnavailable('Image search');
    const query = await this.queryImage(source);
    const [vector] = await this.encode('image', 'query image', (e) => e.image.embed([query.image], [query.region]));
    return this.page((p) => this.call('nearest', (s) => s.nearest(vector!, this.storePage(opts, p))), opts, 'cosine');
  }

  private async queryImage(source: ImageSource): Promise<QueryImage> {
    switch (source.kind) {
      case 'upload':
        return this.images.fromUpload(source.bytes, source.name);
      case 'url':
        return this.images.fromUrl(source.url);
      case 'iiif':
        return this.images.fromImageApi(source.url);
      case 'canvas': {
        const { record, box } = await canvasBox(this.call, source);
        return this.images.fromCanvasBox(record, box);
      }
    }
  }

  /** Items in index order, under the filters: browsing, which needs no model. */
  async browse(opts: SearchOptions): Promise<SearchPage> {
    return this.page((p) => this.call('keyword', (s) => s.keyword('', this.storePage(opts, p))), opts, 'ranking');
  }

  /** Nearest neighbours of an indexed item; needs no model, but an item a harvest with a model embedded. */
  async similar(id: string, opts: SearchOptions): Promise<SearchPage> {
    if (!(await this.call('get', (s) => s.get(id)))) throw notFound(`no item with the id ${JSON.stringify(id)} in the index`);
    const run: RunPage = (p) => this.call('similar', (s) => s.similar(id, this.storePage(opts, p)));
    const first = await run(opts);
    // No neighbours at all may mean no vector to start from: say so rather than answer an empty page.
    if (first.hits.length === 0 && opts.offset === 0) {
      const [vector] = await this.call('vectors', (s) => s.vectors([id]));
      if (!vector) throw notEmbedded([id], 'Similar-item search');
    }
    return this.page((p) => (p === opts ? Promise.resolve(first) : run(p)), opts, 'cosine');
  }

  /**
   * Several examples at once (relevance feedback). The examples themselves are left out of the
   * hits. One positive id alone is the similar-items search, which needs no model.
   */
  async examples(input: { positive: Example[]; negative: Example[]; negativeWeight: number }, opts: SearchOptions): Promise<SearchPage> {
    const ids = new Set([...input.positive, ...input.negative].filter((e): e is string => typeof e === 'string'));
    if (input.positive.length === 1 && typeof input.positive[0] === 'string' && input.negative.length === 0) {
      return this.similar(input.positive[0], opts);
    }
    const { dimensions } = await this.call('stats', (s) => s.stats());
    if (dimensions === undefined) {
      // No model has embedded anything yet: an id example has no vector (said per id), and a vector has nothing to meet.
      const named = [...ids];
      if (named.length) await itemVectors(this.call, named);
      return this.page(async () => ({ hits: [], total: 0 }), opts, 'cosine');
    }
    const [positive, negative] = await Promise.all([
      this.exampleVectors(input.positive, 'positive', dimensions),
      this.exampleVectors(input.negative, 'negative', dimensions),
    ]);
    let query: Float32Array;
    try {
      query = feedbackQuery(positive, negative, input.negativeWeight);
    } catch (err) {
      if (err instanceof CancelledOutError) {
        throw new Problem('examples-cancel-out', 'the positive and negative examples cancel each other out; give other examples or a smaller negativeWeight');
      }
      throw err;
    }
    // The examples are left out of the ranking before it is paged, so each window is read from the top with that many more.
    const run: RunPage = async (p) => {
      const window = Math.min(MAX_WINDOW, p.offset + p.limit + ids.size);
      const result = await this.call('nearest', (s) => s.nearest(query, this.storePage(opts, { limit: window, offset: 0 })));
      return { ...result, hits: result.hits.filter((h) => !ids.has(h.id)).slice(p.offset, p.offset + p.limit) };
    };
    return this.page(run, opts, 'cosine');
  }

  private async exampleVectors(examples: Example[], name: 'positive' | 'negative', dimensions: number): Promise<Float32Array[]> {
    const errors = examples.flatMap((e, i) => {
      if (typeof e === 'string') return [];
      if (e.length !== dimensions) return [{ name: `${name}[${i}]`, in: 'body' as const, reason: `the index holds vectors of ${dimensions} dimensions, this one has ${e.length}` }];
      if (!e.some((x) => x !== 0)) return [{ name: `${name}[${i}]`, in: 'body' as const, reason: 'a vector of zeros has no direction' }];
      return [];
    });
    if (errors.length) throw invalidParams(errors);
    const ids = examples.filter((e): e is string => typeof e === 'string');
    const byId = new Map<string, Float32Array>();
    if (ids.length) {
      const vectors = await itemVectors(this.call, ids);
      ids.forEach((id, i) => byId.set(id, vectors[i]!));
    }
    return examples.map((e) => (typeof e === 'string' ? byId.get(e)! : Float32Array.from(e)));
  }

  async item(id: string): Promise<ShapedItemDetails> {
    const item = await this.call('get', (s) => s.get(id));
    if (!item) throw notFound(`no item with the id ${JSON.stringify(id)} in the index`);
    return shapeItemDetails(item);
  }

  /** Counts per value of each field, most frequent first, at most `size` values a field. */
  async facets(fields: FacetField[], filter: ItemFilter | undefined, size: number): Promise<FacetsBody['facets']> {
    const counts = await this.call('facets', (s) => s.facets(fields, filter));
    const out: FacetsBody['facets'] = {};
    for (const field of fields) {
      // Dates read best in their own order (a histogram); everything else most frequent first.
      const chronological = field === 'decade' || field === 'year';
      const entries = Object.entries(counts[field] ?? {}).sort((a, b) => (chronological ? a[0].localeCompare(b[0]) : b[1] - a[1] || a[0].localeCompare(b[0])));
      out[field] = {
        values: entries.slice(0, size).map(([value, count]) => {
          const label = field === 'rights' ? rightsName(value) : undefined;
          return label ? { value, count, label } : { value, count };
        }),
        more: entries.length > size,
      };
    }
    return out;
  }

  async stats(): Promise<Stats> {
    const s = await this.call('stats', (store) => store.stats());
    const encoders = this.deps.encoders;
    return {
      items: s.items,
      vectors: s.vectors,
      itemsWithoutVectors: s.itemsWithoutVectors,
      ...(s.modelId !== undefined ? { modelId: s.modelId } : {}),
      ...(s.dimensions !== undefined ? { dimensions: s.dimensions } : {}),
      model: encoders ? { loaded: true, modelId: encoders.config.modelId } : { loaded: false },
      ...(this.deps.harvest ? { harvest: { running: (await this.deps.harvest.status()).running } } : {}),
    };
  }

  /** Healthy when the store answers and a model for the index's vectors is loaded. */
  async health(): Promise<Health> {
    const encoders = this.deps.encoders;
    let store: Health['store'];
    try {
      const s = await this.call('stats', (st) => st.stats());
      store = {
        reachable: true,
        items: s.items,
        vectors: s.vectors,
        itemsWithoutVectors: s.itemsWithoutVectors,
        ...(s.modelId !== undefined ? { modelId: s.modelId, dimensions: s.dimensions } : {}),
      };
    } catch (err) {
      store = { reachable: false, error: err instanceof Problem ? err.detail : String((err as Error)?.message ?? err) };
    }
    const model: Health['model'] = encoders
      ? {
          loaded: true,
          modelId: encoders.config.modelId,
          ...(store.modelId !== undefined ? { matchesIndex: store.modelId === encoders.config.modelId && store.dimensions === encoders.config.projectionDim } : {}),
        }
      : { loaded: false, hint: MODEL_HINT };
    const ok = store.reachable && model.loaded && model.matchesIndex !== false;
    return { status: ok ? 'ok' : 'unavailable', store, model };
  }
}
