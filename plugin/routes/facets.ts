import type { Router } from 'express';
import { validate } from '../middleware/validate.ts';
import { defaultFacetFields, toItemFilter } from '../schemas.ts';
import type { RouteContext } from './context.ts';

/** GET /facets: counts per value of the filterable fields, under the same filters as search, and the metadata facets' display names. */
export function facetRoutes(router: Router, ctx: RouteContext): void {
  const check = validate({ query: ctx.schemas.facets });
  router.get('/facets', ...ctx.guarded, check, async (_req, res) => {
    const { fields, size, ...filter } = check.input(res).query;
    const facets = await ctx.service.facets(fields ?? defaultFacetFields(ctx.config.facets.metadata), toItemFilter(filter), size);
    // The configured display names of the metadata facets answered, so a client shows them in its reader's language.
    const configured = ctx.config.facets.names;
    const names = Object.fromEntries(
      Object.keys(facets)
        .filter((field) => field.startsWith('meta.') && configured[field.slice(5)])
        .map((field) => [field, configured[field.slice(5)]!]),
    );
    res.json(Object.keys(names).length ? { facets, names } : { facets });
  });
}
