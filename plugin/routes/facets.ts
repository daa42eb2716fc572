import type { Router } from 'express';
import { validate } from '../middleware/validate.ts';
import { defaultFacetFields, toItemFilter } from '../schemas.ts';
import type { RouteContext } from './context.ts';

/** GET /facets: counts per value of the filterable fields, under the same filters as search. */
export function facetRoutes(router: Router, ctx: RouteContext): void {
  const check = validate({ query: ctx.schemas.facets });
  router.get('/facets', ...ctx.guarded, check, async (_req, res) => {
    const { fields, size, ...filter } = check.input(res).query;
    res.json({ facets: await ctx.service.facets(fields ?? defaultFacetFields(ctx.config.facets.metadata), toItemFilter(filter), size) });
  });
}
