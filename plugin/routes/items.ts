import type { Router } from 'express';
import { validate } from '../middleware/validate.ts';
import { toItemFilter } from '../schemas.ts';
import type { RouteContext } from './context.ts';

/** GET /items (browse), GET /items/:id and GET /items/:id/similar: the items, an item's details and its nearest neighbours. */
export function itemRoutes(router: Router, ctx: RouteContext): void {
  const browse = validate({ query: ctx.schemas.searchOptions });
  router.get('/items', ...ctx.guarded, browse, async (_req, res) => {
    const { limit, offset, minScore, ...filter } = browse.input(res).query;
    res.json(await ctx.service.browse({ filter: toItemFilter(filter), limit, offset, minScore }));
  });

  const item = validate({ params: ctx.schemas.itemParams });
  router.get('/items/:id', ...ctx.guarded, item, async (_req, res) => {
    res.json(await ctx.service.item(item.input(res).params.id));
  });

  const similar = validate({ params: ctx.schemas.itemParams, query: ctx.schemas.searchOptions });
  router.get('/items/:id/similar', ...ctx.guarded, similar, async (_req, res) => {
    const { params, query } = similar.input(res);
    const { limit, offset, minScore, ...filter } = query;
    res.json(await ctx.service.similar(params.id, { filter: toItemFilter(filter), limit, offset, minScore }));
  });
}
