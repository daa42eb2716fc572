import type { Router } from 'express';
import { jsonBody } from '../middleware/body.ts';
import { validate } from '../middleware/validate.ts';
import { toItemFilter } from '../schemas.ts';
import type { RouteContext } from './context.ts';

/** POST /search/examples: several positive and negative examples at once (relevance feedback). */
export function examplesRoutes(router: Router, ctx: RouteContext): void {
  const check = validate({ body: ctx.schemas.examples });
  router.post('/search/examples', ...ctx.guarded, jsonBody('the examples'), check, async (_req, res) => {
    const { positive, negative, negativeWeight, filter, limit, offset, minScore } = check.input(res).body;
    res.json(await ctx.service.examples({ positive, negative, negativeWeight }, { filter: filter ? toItemFilter(filter) : undefined, limit, offset, minScore }));
  });
}
