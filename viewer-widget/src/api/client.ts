import type { FacetNames, Facets, FacetField, Filters, ItemDetails, OwnImage, PrintingsPage, Problem, RegionQuery, ReprintsPage, SearchPage } from './types.ts';
import type { MapBody, MapItemsBody, MapMatchesBody, MapPendingBody, StatsBody } from '../../../plugin/response-schemas.ts';

export type Stats = StatsBody;
export type CollectionMap = MapBody;
export type MapPending = MapPendingBody;

/** A failed API call, carrying the problem the server answered (or one the client made up for network failures). */
export class RepriseApiError extends Error {
  override name = 'RepriseApiError';
  constructor(readonly problem: Problem) {
    super(problem.detail || problem.title);
  }
  get status(): number {
    return this.problem.status;
  }
}

export interface PageOptions {
  filters?: Filters;
  limit: number;
  offset?: number;
  /** Leave out hits scoring below this (the API's minScore): the total then counts those above it. */
  minScore?: number;
}

export type { OwnImage };

/** Items per request when looking a canvas up, and the page every server allows (the API's default maxLimit and limit). */
const CANVAS_LOOKUP_PAGE = 100;
const SMALL_PAGE = 20;
/** How deep the API pages (offset + limit). */
const MAX_PAGED = 1000;

const FILTER_KEYS = ['manifest', 'collection', 'rights', 'labels', 'source'] as const;

/** Filters and paging as query parameters: repeated keys for several values, as the API reads them. */
export function searchParams(opts: Partial<PageOptions> = {}, extra: Record<string, string | undefined> = {}): URLSearchParams {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(extra)) if (value !== undefined) params.append(key, value);
  const f = opts.filters ?? {};
  for (const key of FILTER_KEYS) for (const v of f[key] ?? []) params.append(key, v);
  // Metadata facets (meta.creator: […]) as the API's name:value pairs.
  for (const [key, values] of Object.entries(f)) if (key.startsWith('meta.') && Array.isArray(values)) for (const v of values) params.append('meta', `${key.slice(5)}:${v}`);
  // Decades and years chosen in the date facets: the range from the first to the last.
  const years = [...(f.decade ?? []).flatMap((d) => [d.slice(0, 4), `${d.slice(0, 3)}9`]), ...(f.year ?? [])].sort();
  const dateFrom = f.dateFrom ?? years[0];
  const dateTo = f.dateTo ?? years[years.length - 1];
  if (dateFrom) params.set('dateFrom', dateFrom);
  if (dateTo) params.set('dateTo', dateTo);
  if (opts.limit !== undefined) params.set('limit', String(opts.limit));
  if (opts.offset) params.set('offset', String(opts.offset));
  if (opts.minScore !== undefined) params.set('minScore', String(opts.minScore));
  return params;
}

/**
 * The search API seen from a browser: one method per route, every call cancellable with an
 * AbortSignal, every failure a RepriseApiError with the server's problem. `fetch` is looked up
 * when a call is made, so a page (or a test) may wrap it.
 */
export class RepriseClient {
  readonly base: string;

  /** `api` is where the router is mounted, absolute or relative to the page ("/api"). */
  constructor(api: string) {
    const base = new URL(api || '/api', document.baseURI).href;
    this.base = base.endsWith('/') ? base : `${base}/`;
  }

  private url(path: string, params?: URLSearchParams): string {
    const query = params?.toString();
    return new URL(path, this.base).href + (query ? `?${query}` : '');
  }

  private async request<T>(url: string, init: RequestInit & { signal?: AbortSignal }): Promise<T> {
    let res: Response;
    try {
      res = await globalThis.fetch(url, { ...init, headers: { Accept: 'application/json', ...(init.headers as Record<string, string> | undefined) } });
    } catch (err) {
      if ((err as Error)?.name === 'AbortError') throw err;
      throw new RepriseApiError({
        type: 'urn:reprise:problem:network',
        title: 'The search service cannot be reached',
        status: 0,
        detail: `${(err as Error)?.message ?? String(err)} (${new URL(url).origin})`,
      });
    }
    const text = await res.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    if (!res.ok) {
      const p = (body ?? {}) as Partial<Problem>;
      throw new RepriseApiError({
        type: typeof p.type === 'string' ? p.type : 'about:blank',
        title: typeof p.title === 'string' ? p.title : res.statusText || `HTTP ${res.status}`,
        status: res.status,
        detail: typeof p.detail === 'string' ? p.detail : `${init.method ?? 'GET'} ${new URL(url).pathname} answered ${res.status}`,
        ...(Array.isArray(p.errors) ? { errors: p.errors } : {}),
      });
    }
    if (body === undefined) {
      throw new RepriseApiError({ type: 'urn:reprise:problem:bad-response', title: 'Unexpected answer', status: res.status, detail: `${new URL(url).pathname} did not answer JSON` });
    }
    return body as T;
  }

  private postJson<T>(path: string, params: URLSearchParams | undefined, body: unknown, signal?: AbortSignal): Promise<T> {
    return this.request<T>(this.url(path, params), { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' }, signal });
  }

  /** GET /search: text → image; with semanticRatio, mixed with metadata keywords (0: keywords alone, no model needed). */
  text(q: string, opts: PageOptions & { semanticRatio?: number }, signal?: AbortSignal): Promise<SearchPage> {
    const ratio = opts.semanticRatio;
    return this.request(this.url('search', searchParams(opts, { q, semanticRatio: ratio === undefined ? undefined : String(ratio) })), { signal });
  }

  /** GET /items: the collection in index order, under the filters (no model needed). */
  browse(opts: PageOptions, signal?: AbortSignal): Promise<SearchPage> {
    return this.request(this.url('items', searchParams({ ...opts, minScore: undefined })), { signal });
  }

  /** POST /search/image with an image of the person's own. */
  image(image: OwnImage, opts: PageOptions, signal?: AbortSignal): Promise<SearchPage> {
    return this.postImage('search/image', searchParams(opts), image, signal);
  }

  /** POST /reprints with an image of the person's own. */
  reprintsOf(image: OwnImage, limit: number, signal?: AbortSignal): Promise<ReprintsPage> {
    return this.postImage('reprints', searchParams({ limit }), image, signal);
  }

  /** POST /reprints of an indexed item. */
  reprintsOfItem(id: string, limit: number, signal?: AbortSignal): Promise<ReprintsPage> {
    return this.postJson('reprints', searchParams({ limit }), { item: id }, signal);
  }

  /** GET /stats: what the index holds, whether a model is loaded and a harvest runs. */
  stats(signal?: AbortSignal): Promise<Stats> {
    return this.request(this.url('stats'), { signal });
  }

  private postImage<T>(path: string, params: URLSearchParams, image: OwnImage, signal?: AbortSignal): Promise<T> {
    if (image.kind === 'url') return this.postJson(path, params, { url: image.url }, signal);
    const form = new FormData();
    form.append('image', image.file, image.name ?? 'image');
    return this.request<T>(this.url(path, params), { method: 'POST', body: form, signal });
  }

  /** POST /search/image with a box on an indexed canvas. */
  region(query: RegionQuery, opts: PageOptions, signal?: AbortSignal): Promise<SearchPage> {
    return this.postJson('search/image', searchParams(opts), regionBody(query), signal);
  }

  /** POST /search/examples: relevance feedback with item ids marked + and −. */
  examples(positive: string[], negative: string[], opts: PageOptions, signal?: AbortSignal): Promise<SearchPage> {
    const { filters, limit, offset, minScore } = opts;
    const filter = filters && Object.keys(filters).length ? filters : undefined;
    return this.postJson('search/examples', undefined, { positive, negative, limit, offset: offset ?? 0, ...(filter ? { filter } : {}), ...(minScore !== undefined ? { minScore } : {}) }, signal);
  }

  /** GET /items/:id/similar. */
  similar(id: string, opts: PageOptions, signal?: AbortSignal): Promise<SearchPage> {
    return this.request(this.url(`items/${encodeURIComponent(id)}/similar`, searchParams(opts)), { signal });
  }

  /** POST /reprints (same inputs as image search); undefined when the server has no reprint detection (404). */
  async reprints(query: RegionQuery, opts: PageOptions, signal?: AbortSignal): Promise<ReprintsPage | undefined> {
    try {
      return await this.postJson<ReprintsPage>('reprints', searchParams({ limit: opts.limit }), regionBody(query), signal);
    } catch (err) {
      if (err instanceof RepriseApiError && err.status === 404) return undefined;
      throw err;
    }
  }

  /**
   * GET /items/:id/reprints: the other printings of the item's photograph (its reprint group, from
   * the comparison after a harvest), most certain first. Undefined when the server cannot say:
   * no reprint detection, or an item it has not compared (404), or none at the moment (503).
   */
  async printings(id: string, page: { limit: number; offset?: number }, signal?: AbortSignal): Promise<PrintingsPage | undefined> {
    const params = new URLSearchParams({ limit: String(page.limit) });
    if (page.offset) params.set('offset', String(page.offset));
    try {
      return await this.request<PrintingsPage>(this.url(`items/${encodeURIComponent(id)}/reprints`, params), { signal });
    } catch (err) {
      if (err instanceof RepriseApiError && (err.status === 404 || err.status === 503)) return undefined;
      throw err;
    }
  }

  /**
   * The item id of a canvas, looked up among its manifest's items (GET /items?manifest=…, as far
   * as the API pages: 1000 canvases); undefined when the canvas is not indexed.
   */
  async itemIdOfCanvas(canvas: string, manifest: string, signal?: AbortSignal): Promise<string | undefined> {
    let size = CANVAS_LOOKUP_PAGE;
    for (let offset = 0; offset + size <= MAX_PAGED; ) {
      let page: SearchPage;
      try {
        page = await this.browse({ filters: { manifest: [manifest] }, limit: size, offset }, signal);
      } catch (err) {
        // A server whose api.maxLimit is below the page size: ask for its default page instead.
        if (err instanceof RepriseApiError && err.status === 400 && size !== SMALL_PAGE) {
          size = SMALL_PAGE;
          continue;
        }
        throw err;
      }
      const hit = page.hits.find((h) => h.canvas.id === canvas);
      if (hit) return hit.id;
      if (page.hits.length < size) return undefined;
      offset += size;
    }
    return undefined;
  }

  /** GET /items/:id. */
  item(id: string, signal?: AbortSignal): Promise<ItemDetails> {
    return this.request(this.url(`items/${encodeURIComponent(id)}`), { signal });
  }

  /** GET /map: the collection's map, or the progress of its computation (the server answers 202 until it is ready). */
  map(collection: string | undefined, signal?: AbortSignal): Promise<CollectionMap | MapPending> {
    return this.request(this.url('map', collection === undefined ? undefined : new URLSearchParams({ collection })), { signal });
  }

  /** GET /map/matches: positions in a map of the items that pass the filters. */
  mapMatches(collection: string | undefined, filters: Filters, signal?: AbortSignal): Promise<MapMatchesBody> {
    return this.request(this.url('map/matches', searchParams({ filters }, { map: collection })), { signal });
  }

  /** GET /map/items: thumbnails and labels of the points in view. */
  mapItems(ids: string[], signal?: AbortSignal): Promise<MapItemsBody> {
    const params = new URLSearchParams();
    for (const id of ids) params.append('ids', id);
    return this.request(this.url('map/items', params), { signal });
  }

  /** GET /facets. */
  async facets(fields: FacetField[], filters: Filters | undefined, size: number, signal?: AbortSignal): Promise<Facets> {
    return (await this.facetsWithNames(fields, filters, size, signal)).facets;
  }

  /** GET /facets, with the display names the server's configuration gives its metadata facets (none when it gives none). */
  async facetsWithNames(fields: FacetField[], filters: Filters | undefined, size: number, signal?: AbortSignal): Promise<{ facets: Facets; names: FacetNames }> {
    const params = searchParams({ filters }, {});
    for (const f of fields) params.append('fields', f);
    params.set('size', String(size));
    const body = await this.request<{ facets: Facets; names?: FacetNames }>(this.url('facets', params), { signal });
    return { facets: body.facets, names: body.names ?? {} };
  }
}

function regionBody(query: RegionQuery): Record<string, string> {
  return { canvas: query.canvas, xywh: query.xywh, ...(query.manifest ? { manifest: query.manifest } : {}) };
}

/** The problem of any error, for display and for `reprise-error`. */
export function problemOf(err: unknown): Problem {
  if (err instanceof RepriseApiError) return err.problem;
  return { type: 'urn:reprise:problem:widget', title: 'Something went wrong', status: 0, detail: (err as Error)?.message ?? String(err) };
}
