import type { Router } from 'express';
import type { RouteContext } from './context.ts';

/** GET /health: 200 when the store answers and the model is loaded, else 503 saying which is missing. */
export function healthRoutes(router: Router, ctx: RouteContext): void {
  router.get('/health', ...ctx.open, async (_req, res) => {
    const health = await ctx.service.health();
    res.status(health.status === 'ok' ? 200 : 503).set('Cache-Control', 'no-store').json(health);
  });
}
