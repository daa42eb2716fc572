import express, { type NextFunction, type Request, type Response } from 'express';
import type { z } from 'zod';
import type { IndexedRecord } from '../../harvester/index.ts';
import { regionOfItem } from '../../harvester/index.ts';
import type { ItemFilter, SearchHit } from '../../store/index.ts';
import { encoderTimeout, storeTimeout, withTimeout } from '../middleware/timeouts.ts';
import { validate } from '../middleware/validate.ts';
import { invalidParams, modelUnavailable, noTextTower, notFound } from '../problems.ts';
import { toItemFilter } from '../schemas.ts';
import type { SearchDeps } from '../types.ts';
import { manifestIdFromKey } from './manifest-key.ts';
import { searchResponseV1, searchResponseV2, type ContentSearchHit, type ContentSearchResult, type ResultUrls } from './responses.ts';
import { contentSearchParams, contentSearchQuery, serviceBlocksQuery } from './schemas.ts';
import { CONTENT_SEARCH_PATH, contentSearchServiceFor, PRESENTATION2_CONTEXT, SEARCH2_CONTEXT } from './services.ts';

/** Parameters the Content Search specs define that a visual search cannot honour (its annotations have no creator or creation date). */
const UNIMPLEMENTED = ['date', 'user'] as const;
/** `motivation` values that select this service's annotations (1.0 §3.2.1, 2.0 §4.1.1): they are `describing` ones. */
const OUR_MOTIVATIONS = new Set(['describing', 'oa:describing', 'non-painting']);

/** The public URL where this router is mounted: api.publicUrl (where createSearchRouter is reachable) when configured, else what the request reached. */
function routerBase(req: Request, deps: SearchDeps): string {
  const publicUrl = deps.config.api.publicUrl;
  if (publicUrl) return publicUrl.replace(/\/+$/, '') + CONTENT_SEARCH_PATH;
  return `${req.protocol}://${req.get('host')}${req.baseUrl}`;
}

/** IIIF APIs answer plain JSON unless JSON-LD is asked for by the Accept header. */
function sendJson(req: Request, res: Response, body: unknown, profile?: string): void {
  const ld = profile !== undefined && req.accepts(['application/json', 'application/ld+json']) === 'application/ld+json';
  res.type(ld ? `application/ld+json;profile="${profile}"` : 'application/json');
  res.vary('Accept');
  res.set('Cache-Control', 'public, max-age=60');
  res.send(JSON.stringify(body));
}

/** The request's query string with the ignored parameters left out (both specs allow dropping them from the id), as sent otherwise. */
function queryWithout(req: Request, drop: readonly string[]): string {
  const raw = req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?') + 1) : '';
  const kept = raw.split('&').filter((pair) => {
    if (!pair) return false;
    const name = pair.split('=')[0]!.replace(/\+/g, ' ');
    try {
      return !drop.includes(decodeURIComponent(name));
    } catch {
      return true;
    }
  });
  return kept.length ? `?${kept.join('&')}` : '';
}

type ContentSearchQuery = z.output<ReturnType<typeof contentSearchQuery>>;

/** The filters a Content Search request gives (this service's own parameters), in the order result-set URLs list them. */
const FILTER_PARAMS = ['labels', 'meta', 'rights', 'dateFrom', 'dateTo'] as const;

/**
 * The request's filters, as the search API's parameters. A `meta` name that no metadata facet has
 * is refused (the search API would find nothing, silently), naming the facets there are.
 */
function filterParams(query: ContentSearchQuery, metadataFacets: ReadonlySet<string>): Partial<Record<(typeof FILTER_PARAMS)[number], string | string[]>> {
  const unknown = [...new Set((query.meta ?? []).map((pair) => pair.slice(0, pair.indexOf(':'))))].filter((name) => !metadataFacets.has(name));
  if (unknown.length) {
    const known = [...metadataFacets].sort().join(', ') || 'none: config facets.metadata names none';
    throw invalidParams([{ name: 'meta', in: 'query', reason: `no metadata facet named ${unknown.map((n) => JSON.stringify(n)).join(', ')}; the index has ${known}` }]);
  }
  const params: Partial<Record<(typeof FILTER_PARAMS)[number], string | string[]>> = {};
  for (const name of FILTER_PARAMS) if (query[name] !== undefined) params[name] = query[name];
  return params;
}

/** Canvas order, for a listing without a query: position in the manifest, then canvas id. */
function canvasOrder(a: SearchHit, b: SearchHit): number {
  const ia = (a.item.record as Partial<IndexedRecord> | undefined)?.index ?? Number.MAX_SAFE_INTEGER;
  const ib = (b.item.record as Partial<IndexedRecord> | undefined)?.index ?? Number.MAX_SAFE_INTEGER;
  return ia - ib || a.item.canvasId.localeCompare(b.item.canvasId);
}

/**
 * IIIF Content Search for visual search: "where in this manifest are images like this description?"
 * One service per manifest, in both versions (mounted at /iiif/search by createSearchRouter):
 *
 *   GET /iiif/search/v1/{manifestKey}?q=…   Content Search 1.0: sc:AnnotationList (Mirador, Universal Viewer)
 *   GET /iiif/search/v2/{manifestKey}?q=…   Content Search 2.0: AnnotationPage
 *   GET /iiif/search/services?manifest=…    the service blocks a portal adds to that manifest
 *
 * `q` is embedded by the text encoder and matched against the manifest's canvases and their
 * regions; every canvas or region scoring at least api.contentSearch.minScore is a hit (at most
 * api.contentSearch.maxHits), best first, each targeting canvas#xywh=… (the region, else the whole
 * canvas). Without `q`, every canvas is a hit, in canvas order. This service's own parameters
 * filter as the search API's do: `labels` (tags, the `labels` facet's values), `meta`
 * (name:value of a metadata facet), `rights`, `dateFrom` and `dateTo`; each hit's text names its
 * canvas's tags and metadata facet values. Hits come in pages of `limit`
 * (default api.contentSearch.pageSize) linked by next/prev/first/last. Errors go to the router's
 * problem+json handler.
 */
export function contentSearchRouter(deps: SearchDeps): express.Router {
  const router = express.Router();
  const { api } = deps.config;
  const settings = api.contentSearch;
  const input = validate({ params: contentSearchParams, query: contentSearchQuery(api) });
  const metadataFacets = new Set(Object.values(deps.config.facets.metadata));
  const lookup = validate({ query: serviceBlocksQuery });

  const storeCall = <T>(work: Promise<T>, what: string) => withTimeout(work, api.storeTimeoutMs, () => storeTimeout(api.storeTimeoutMs, what));

  /** The id the index knows a manifest by (the request may name it by the URL it was harvested from); undefined when it is not indexed. */
  async function indexedManifest(idOrUrl: string): Promise<string | undefined> {
    const facets = await storeCall(deps.store.facets(['manifest'], { manifest: idOrUrl }), 'manifest lookup');
    const ids = Object.keys(facets.manifest ?? {});
    return ids.includes(idOrUrl) ? idOrUrl : ids[0];
  }

  /** Every hit of the query, best first (or every canvas, in canvas order, without a query), at most maxHits. */
  async function allHits(filter: ItemFilter, q: string | undefined): Promise<SearchHit[]> {
    if (q === undefined) {
      // The keyword search without words lists every item the filter selects (a placeholder search).
      const listed = await storeCall(deps.store.keyword('', { filter, limit: settings.maxHits }), 'canvas listing');
      return [...listed.hits].sort(canvasOrder);
    }
    const encoders = deps.encoders;
    if (!encoders) throw modelUnavailable('Content Search (a text query matched against images)');
    if (!encoders.text) throw noTextTower(encoders.config.modelId);
    const [vector] = await withTimeout(encoders.text.embed([q]), api.encoderTimeoutMs, () => encoderTimeout(api.encoderTimeoutMs, 'query'));
    const found = await storeCall(deps.store.nearest(vector!, { filter, limit: settings.maxHits }), 'nearest images');
    return found.hits.filter((h) => h.score >= settings.minScore);
  }

  const handle = (version: 1 | 2) => async (req: Request, res: Response, next: NextFunction) => {
    try {
      const { params, query } = input.input(res);
      const key = params.manifestKey;
      const asked = manifestIdFromKey(key);
      if (!asked) throw notFound(`"${key.slice(0, 80)}" is not a manifest key: use manifestKey(manifest id), the base64url of the id`);
      const manifestId = await indexedManifest(asked);
      if (!manifestId) throw notFound(`no manifest ${JSON.stringify(asked)} in the index`);

      const filters = filterParams(query, metadataFacets);
      const filter = { ...toItemFilter(filters), manifest: manifestId };
      const selected = !query.motivation?.trim() || query.motivation.split(/\s+/).some((m) => OUR_MOTIVATIONS.has(m));
      const hits = selected ? await allHits(filter, query.q) : [];

      const size = query.limit ?? Math.min(settings.pageSize, api.maxLimit);
      const lastPage = Math.max(1, Math.ceil(hits.length / size));
      const page = query.page ?? 1;
      if (page > lastPage) {
        throw invalidParams([{ name: 'page', in: 'query', reason: `there ${lastPage === 1 ? 'is 1 page' : `are ${lastPage} pages`} of results: ask for page 1 to ${lastPage}` }]);
      }

      // The result set's URL: the service URL with the parameters that shaped it, in one order; its pages add `page`.
      const service = `${routerBase(req, deps)}/v${version}/${key}`;
      const shaping = new URLSearchParams();
      if (query.q !== undefined) shaping.set('q', query.q);
      if (query.motivation) shaping.set('motivation', query.motivation);
      for (const [name, values] of Object.entries(filters)) for (const value of [values].flat()) shaping.append(name, value);
      if (query.limit !== undefined) shaping.set('limit', String(query.limit));
      const withParams = (extra?: [string, string]) => {
        const p = new URLSearchParams(shaping);
        if (extra) p.set(...extra);
        const s = p.toString();
        return s ? `${service}?${s}` : service;
      };
      const urls: ResultUrls = {
        request: service + queryWithout(req, UNIMPLEMENTED),
        collection: withParams(),
        page: (n) => withParams(['page', String(n)]),
      };

      const start = (page - 1) * size;
      const pageHits: ContentSearchHit[] = hits.slice(start, start + size).map((h) => {
        // The region that matched, else the region a region item is (an annotated part of the canvas).
        const region = h.region ?? regionOfItem(h.item)?.box;
        return {
          item: h.item,
          ...(region ? { region } : {}),
          ...(query.q !== undefined ? { score: h.score } : {}),
        };
      });
      const first = hits[0]?.item.record as Partial<IndexedRecord> | undefined;
      const result: ContentSearchResult = {
        manifest: { id: manifestId, ...(first?.manifestLabel ? { label: first.manifestLabel } : {}) },
        query: query.q,
        hits: pageHits,
        total: hits.length,
        page,
        lastPage,
        startIndex: start,
        urls,
        ignored: UNIMPLEMENTED.filter((name) => query[name] !== undefined && query[name] !== ''),
      };
      if (version === 1) sendJson(req, res, searchResponseV1(result), PRESENTATION2_CONTEXT);
      else sendJson(req, res, searchResponseV2(result), SEARCH2_CONTEXT);
    } catch (err) {
      next(err);
    }
  };

  /** The service blocks for an indexed manifest, to add to its `service` list (docs/deploying.md). */
  const services = async (req: Request, res: Response, next: NextFunction) => {
    try {
      const asked = lookup.input(res).query.manifest;
      const manifestId = await indexedManifest(asked);
      if (!manifestId) throw notFound(`no manifest ${JSON.stringify(asked)} in the index: harvest it first, then add the service blocks to it`);
      const blocks = contentSearchServiceFor(manifestId, routerBase(req, deps), { mounted: true });
      sendJson(req, res, { manifest: manifestId, service: [blocks.v1, blocks.v2] });
    } catch (err) {
      next(err);
    }
  };

  router.get('/v1/:manifestKey', input, handle(1));
  router.get('/v2/:manifestKey', input, handle(2));
  router.get('/services', lookup, services);
  return router;
}
