import type { Facets, FacetField, Filters, Hit, ItemDetails, Problem, RegionQuery, SearchPage } from './types.ts';

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
}

/** Reprints answer like image search, with the matched regions on both sides. */
export interface ReprintsPage extends SearchPage {
  hits: Array<Hit & { region?: Hit['region']; queryRegion?: Hit['region']; inliers?: number }>;
}

const FILTER_KEYS = ['manifest', 'collection', 'rights', 'labels', 'source'] as const;

/** Filters and paging as query parameters: repeated keys for several values, as the API reads them. */
export function searchParams(opts: Partial<PageOptions> = {}, extra: Record<string, string | undefined> = {}): URLSearchParams {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(extra)) if (value !== undefined) params.append(key, value);
  const f = opts.filters ?? {};
  for (const key of FILTER_KEYS) for (const v of f[key] ?? []) params.append(key, v);
  if (f.dateFrom) params.set('dateFrom', f.dateFrom);
  if (f.dateTo) params.set('dateTo', f.dateTo);
  if (opts.limit !== undefined) params.set('limit', String(opts.limit));
  if (opts.offset) params.set('offset', String(opts.offset));
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

  /** GET /search: text → image. */
  text(q: string, opts: PageOptions, signal?: AbortSignal): Promise<SearchPage> {
    return this.request(this.url('search', searchParams(opts, { q })), { signal });
  }

  /** POST /search/image with a box on an indexed canvas. */
  region(query: RegionQuery, opts: PageOptions, signal?: AbortSignal): Promise<SearchPage> {
    return this.postJson('search/image', searchParams(opts), regionBody(query), signal);
  }

  /** POST /search/examples: relevance feedback with item ids marked + and −. */
  examples(positive: string[], negative: string[], opts: PageOptions, signal?: AbortSignal): Promise<SearchPage> {
    const { filters, limit, offset } = opts;
    const filter = filters && Object.keys(filters).length ? filters : undefined;
    return this.postJson('search/examples', undefined, { positive, negative, limit, offset: offset ?? 0, ...(filter ? { filter } : {}) }, signal);
  }

  /** GET /items/:id/similar. */
  similar(id: string, opts: PageOptions, signal?: AbortSignal): Promise<SearchPage> {
    return this.request(this.url(`items/${encodeURIComponent(id)}/similar`, searchParams(opts)), { signal });
  }

  /** POST /reprints (same inputs as image search); undefined when the server has no reprint detection (404). */
  async reprints(query: RegionQuery, opts: PageOptions, signal?: AbortSignal): Promise<ReprintsPage | undefined> {
    try {
      return await this.postJson<ReprintsPage>('reprints', searchParams(opts), regionBody(query), signal);
    } catch (err) {
      if (err instanceof RepriseApiError && err.status === 404) return undefined;
      throw err;
    }
  }

  /** GET /items/:id. */
  item(id: string, signal?: AbortSignal): Promise<ItemDetails> {
    return this.request(this.url(`items/${encodeURIComponent(id)}`), { signal });
  }

  /** GET /facets. */
  async facets(fields: FacetField[], filters: Filters | undefined, size: number, signal?: AbortSignal): Promise<Facets> {
    const params = searchParams({ filters }, {});
    for (const f of fields) params.append('fields', f);
    params.set('size', String(size));
    const body = await this.request<{ facets: Facets }>(this.url('facets', params), { signal });
    return body.facets;
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
