import type { Router } from 'express';
import { validate } from '../middleware/validate.ts';
import type { RouteContext } from './context.ts';

/** GET /stats: what the index holds and which model made it. */
export function statsRoutes(router: Router, ctx: RouteContext): void {
  const check = validate({ query: ctx.schemas.none });
  router.get('/stats', ...ctx.guarded, check, async (_req, res) => {
    res.json(await ctx.service.stats());
  });
}
