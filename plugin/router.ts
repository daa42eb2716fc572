import express, { type Request, type Router } from 'express';
import { adminRouter } from './admin/index.ts';
import { contentSearchRouter } from './content-search/index.ts';
import { Metrics } from './metrics.ts';
import { corsAllowlist } from './middleware/cors.ts';
import { problemJson } from './middleware/problem-json.ts';
import { rateLimit, type RateLimitOptions } from './middleware/rate-limit.ts';
import { metricsPrefix, requestMetrics } from './middleware/request-metrics.ts';
import { QueryImages } from './query-image.ts';
import { embeddingRoutes } from './routes/embeddings.ts';
import { examplesRoutes } from './routes/examples.ts';
import { facetRoutes } from './routes/facets.ts';
import { healthRoutes } from './routes/health.ts';
import { imageSearchRoutes, UPLOAD_FIELD } from './routes/image-search.ts';
import { itemRoutes } from './routes/items.ts';
import { mapRoutes } from './routes/map.ts';
import { metricsRoutes } from './routes/metrics.ts';
import { openApiRoutes } from './routes/openapi.ts';
import { reprintRoutes } from './routes/reprints.ts';
import { searchRoutes } from './routes/search.ts';
import { statsRoutes } from './routes/stats.ts';
import type { RouteContext } from './routes/context.ts';
import { createSchemas } from './schemas.ts';
import { SearchService } from './search-service.ts';
import type { SearchDeps } from './types.ts';

export const CONTENT_SEARCH_MOUNT = '/iiif/search';
export const ADMIN_MOUNT = '/admin';

export interface SearchRouterOptions {
  /** Told about unexpected errors (answered as 500 without details). Default: one line on stderr. */
  onError?: (err: unknown, req: Request) => void;
  /** Overrides of the rate limiter built from api.rateLimitPerMinute (a clock for tests, a client key behind a proxy). */
  rateLimit?: Partial<RateLimitOptions>;
  /** Labels added to every metric, to tell routers apart on one /metrics scrape. */
  metricsLabels?: Record<string, string>;
}

/** A router with resources of its own (an HTTP client for image URLs): close() releases them. */
export type SearchRouter = Router & { close(): Promise<void>; readonly metrics: Metrics };

const defaultOnError = (err: unknown, req: Request) => {
  const e = err as Error;
  console.error(`reprise: ${req.method} ${req.originalUrl.split('?')[0]} failed: ${e?.name ?? 'Error'}: ${e?.message ?? String(err)}`);
};

/**
 * The search API a portal mounts under a path of its own: `app.use('/api', createSearchRouter(deps))`.
 * Everything it keeps (caches, metrics, rate-limit buckets, HTTP connections) belongs to this
 * router, so several routers over several stores can live in one app.
 */
export function createSearchRouter(deps: SearchDeps, options: SearchRouterOptions = {}): SearchRouter {
  const { config } = deps;
  const { api } = config;
  const router = express.Router();
  const metrics = new Metrics(options.metricsLabels);
  const images = new QueryImages({
    http: config.harvest.http,
    maxBytes: api.maxUploadBytes,
    maxPixels: api.maxImagePixels,
    longSide: config.harvest.imageSize,
  });
  const service = new SearchService(deps, metrics, images);
  const cors = corsAllowlist(api.corsOrigins);
  const limiter = rateLimit({ perMinute: api.rateLimitPerMinute, ...options.rateLimit });
  const ctx: RouteContext = { service, schemas: createSchemas(api), config, metrics, guarded: [cors, limiter], open: [cors] };

  router.use(requestMetrics(metrics));

  healthRoutes(router, ctx);
  metricsRoutes(router, ctx);
  openApiRoutes(router, ctx);
  searchRoutes(router, ctx);
  imageSearchRoutes(router, ctx);
  examplesRoutes(router, ctx);
  itemRoutes(router, ctx);
  facetRoutes(router, ctx);
  statsRoutes(router, ctx);
  embeddingRoutes(router, ctx);
  const maps = mapRoutes(router, ctx, deps.store);
  const reprints = reprintRoutes(router, ctx, deps.reprints);

  // CORS preflights for this router's own paths only: a router mounted at "/" must not answer the portal's.
  router.options(['/health', '/metrics', '/openapi.json', '/search', '/search/image', '/search/examples', '/items/:id', '/items/:id/similar', '/facets', '/stats', '/reprints', '/embeddings', '/map', '/map/items', '/map/matches'], cors);

  // IIIF Content Search and the admin routes (plugin/content-search, plugin/admin) share the rate limit and the error format.
  // Content Search is public and read-only, and the viewers that call it run on any portal's pages: its own CORS list, any origin by default.
  router.use(CONTENT_SEARCH_MOUNT, metricsPrefix(CONTENT_SEARCH_MOUNT), corsAllowlist(api.contentSearch.corsOrigins), limiter, contentSearchRouter(deps));
  router.use(ADMIN_MOUNT, metricsPrefix(ADMIN_MOUNT), limiter, adminRouter(deps));

  router.use(problemJson({ onError: options.onError ?? defaultOnError, uploadField: UPLOAD_FIELD }));

  return Object.assign(router, {
    metrics,
    close: () => Promise.all([images.close(), reprints.close(), maps.close()]).then(() => {}),
  });
}
