import express, { type NextFunction, type Request, type Response } from 'express';
import type { SearchHit } from '../../store/types.ts';
import { encoderTimeout, storeTimeout, withTimeout } from '../middleware/timeouts.ts';
import { validate } from '../middleware/validate.ts';
import { modelUnavailable, notFound } from '../problems.ts';
import type { SearchDeps } from '../types.ts';
import { manifestIdFromKey } from './manifest-key.ts';
import { searchResponseV1, searchResponseV2, type ContentSearchResult } from './responses.ts';
import { contentSearchParams, contentSearchQuery, DEFAULT_CONTENT_SEARCH_LIMIT } from './schemas.ts';
import { CONTENT_SEARCH_PATH, PRESENTATION2_CONTEXT, SEARCH2_CONTEXT } from './services.ts';

/** Parameters the Content Search specs define that a visual search cannot honour (its annotations have no creator or creation date). */
const UNIMPLEMENTED = ['date', 'user'] as const;
/** `motivation` values that select this service's annotations (1.0 §3.2.1, 2.0 §4.1.1). */
const OUR_MOTIVATIONS = new Set(['highlighting', 'oa:highlighting', 'non-painting']);

/** The public URL of this router: api.publicUrl (where createSearchRouter is reachable) when configured, else what the request reached. */
function routerBase(req: Request, deps: SearchDeps): string {
  const publicUrl = deps.config.api.publicUrl;
  if (publicUrl) return publicUrl.replace(/\/+$/, '') + CONTENT_SEARCH_PATH;
  return `${req.protocol}://${req.get('host')}${req.baseUrl}`;
}

/** IIIF APIs answer plain JSON unless JSON-LD is asked for by the Accept header. */
function sendJson(req: Request, res: Response, body: unknown, version: 1 | 2): void {
  const ld = req.accepts(['application/json', 'application/ld+json']) === 'application/ld+json';
  res.type(ld ? `application/ld+json;profile="${version === 1 ? PRESENTATION2_CONTEXT : SEARCH2_CONTEXT}"` : 'application/json');
  res.set('Cache-Control', 'public, max-age=60');
  res.send(JSON.stringify(body));
}

/**
 * IIIF Content Search for visual search: "where in this manifest are images like this description?"
 * One service per manifest, in both versions (mounted at /iiif/search by createSearchRouter):
 *
 *   GET /iiif/search/v1/{manifestKey}?q=…   Content Search 1.0: sc:AnnotationList (Mirador, Universal Viewer)
 *   GET /iiif/search/v2/{manifestKey}?q=…   Content Search 2.0: AnnotationPage
 *
 * `q` is embedded by the text encoder and matched against the manifest's canvases (and their
 * regions, which become `xywh` targets); `limit` (default 20, at most api.maxLimit) bounds the
 * hits. contentSearchServiceFor() gives the service blocks to add to a manifest. Errors go to the
 * router's problem+json handler.
 */
export function contentSearchRouter(deps: SearchDeps): express.Router {
  const router = express.Router();
  const { api } = deps.config;
  const input = validate({ params: contentSearchParams, query: contentSearchQuery(api) });

  const handle = (version: 1 | 2) => async (req: Request, res: Response, next: NextFunction) => {
    try {
      const { params, query } = input.input(res);
      const manifestId = manifestIdFromKey(params.manifestKey);
      if (!manifestId) throw notFound(`"${params.manifestKey.slice(0, 80)}" is not a manifest key: use manifestKey(manifest id), the base64url of the id`);

      const facets = await withTimeout(deps.store.facets(['manifest'], { manifest: manifestId }), api.storeTimeoutMs, () =>
        storeTimeout(api.storeTimeoutMs, 'manifest lookup'),
      );
      if (!Object.keys(facets.manifest ?? {}).length) throw notFound(`no manifest ${JSON.stringify(manifestId)} in the index`);

      const encoders = deps.encoders;
      if (!encoders) throw modelUnavailable('Content Search (a text query matched against images)');

      let hits: SearchHit[] = [];
      if (!query.motivation || query.motivation.split(' ').some((m) => OUR_MOTIVATIONS.has(m))) {
        const [vector] = await withTimeout(encoders.text.embed([query.q]), api.encoderTimeoutMs, () => encoderTimeout(api.encoderTimeoutMs, 'query'));
        const limit = query.limit ?? Math.min(DEFAULT_CONTENT_SEARCH_LIMIT, api.maxLimit);
        const found = await withTimeout(deps.store.nearest(vector!, { filter: { manifest: manifestId }, limit }), api.storeTimeoutMs, () =>
          storeTimeout(api.storeTimeoutMs, 'nearest images'),
        );
        hits = found.hits;
      }

      // The id of the result set: the service URL with the parameters that shaped it, in one order.
      const canonical = new URLSearchParams({ q: query.q });
      if (query.motivation) canonical.set('motivation', query.motivation);
      if (query.limit !== undefined) canonical.set('limit', String(query.limit));
      const result: ContentSearchResult = {
        manifestId,
        query: query.q,
        searchUrl: `${routerBase(req, deps)}/v${version}/${params.manifestKey}?${canonical}`,
        hits,
        ignored: UNIMPLEMENTED.filter((name) => query[name] !== undefined && query[name] !== ''),
      };
      sendJson(req, res, version === 1 ? searchResponseV1(result) : searchResponseV2(result), version);
    } catch (err) {
      next(err);
    }
  };

  router.get('/v1/:manifestKey', input, handle(1));
  router.get('/v2/:manifestKey', input, handle(2));
  return router;
}
