import type { RequestHandler } from 'express';
import type { RepriseConfig } from '../../config/index.ts';
import type { Metrics } from '../metrics.ts';
import type { Schemas } from '../schemas.ts';
import type { SearchService } from '../search-service.ts';

/** What every route file gets from the router: one per router, nothing global. */
export interface RouteContext {
  service: SearchService;
  schemas: Schemas;
  config: RepriseConfig;
  metrics: Metrics;
  /** CORS and the rate limit: in front of every search route. */
  guarded: RequestHandler[];
  /** CORS only: health, metrics and the API description, which monitoring polls. */
  open: RequestHandler[];
}
