import type { Router } from 'express';
import { validate } from '../middleware/validate.ts';
import { toItemFilter } from '../schemas.ts';
import type { RouteContext } from './context.ts';

/** GET /search: text → image, optionally hybrid with metadata keywords. */
export function searchRoutes(router: Router, ctx: RouteContext): void {
  const check = validate({ query: ctx.schemas.textSearch });
  router.get('/search', ...ctx.guarded, check, async (_req, res) => {
    const { q, semanticRatio, limit, offset, minScore, ...filter } = check.input(res).query;
    res.json(await ctx.service.text(q, { filter: toItemFilter(filter), limit, offset, minScore, semanticRatio }));
  });
}
