import type { Router } from 'express';
import { METRICS_CONTENT_TYPE } from '../metrics.ts';
import type { RouteContext } from './context.ts';

/** GET /metrics: this router's Prometheus metrics. */
export function metricsRoutes(router: Router, ctx: RouteContext): void {
  router.get('/metrics', ...ctx.open, (_req, res) => {
    res.status(200).set('Content-Type', METRICS_CONTENT_TYPE).set('Cache-Control', 'no-store').send(ctx.metrics.render());
  });
}
