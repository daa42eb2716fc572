import type { Request, Router } from 'express';
import { z } from 'zod';
import { regionOfItem } from '../../harvester/index.ts';
import { exportEmbeddingPage, NoEmbeddingsError } from '../../store/index.ts';
import { validate } from '../middleware/validate.ts';
import { notFound } from '../problems.ts';
import { filterObject, toItemFilter } from '../schemas.ts';
import type { RouteContext } from './context.ts';

/** Items per page of embeddings (each gives one annotation for its image, one per region). */
export const MAX_EMBEDDING_PAGE = 1000;

export const embeddingsQuery = filterObject.extend({
  limit: z.coerce
    .number({ message: 'expected a whole number' })
    .int('expected a whole number')
    .min(1, 'must be at least 1')
    .max(MAX_EMBEDDING_PAGE, `must be at most ${MAX_EMBEDDING_PAGE}`)
    .default(100)
    .describe(`Items per page, 1 to ${MAX_EMBEDDING_PAGE}: each gives an annotation for its whole image and one per region.`),
  after: z
    .string()
    .regex(/^\d{1,15}$/, 'give the cursor from the `next` link of the page before')
    .optional()
    .describe('Where the page starts: taken from the `next` link of the page before.'),
});

/** Where this router is reachable: api.publicUrl when configured, else what the request reached. */
function routerBase(req: Request, ctx: RouteContext): string {
  const publicUrl = ctx.config.api.publicUrl;
  return publicUrl ? publicUrl.replace(/\/+$/, '') : `${req.protocol}://${req.get('host')}${req.baseUrl}`;
}

/**
 * GET /embeddings: the vectors of the items the filters select (a manifest, a collection, …) as
 * pages of IIIF embedding annotations, so that another portal indexes them without computing them
 * again (`reprise embeddings import`). Off when api.publishEmbeddings is false.
 */
export function embeddingRoutes(router: Router, ctx: RouteContext): void {
  if (!ctx.config.api.publishEmbeddings) return;
  const check = validate({ query: embeddingsQuery });
  router.get('/embeddings', ...ctx.guarded, check, async (req, res) => {
    const { limit, after, ...filter } = check.input(res).query;
    const base = `${routerBase(req, ctx)}/embeddings`;
    // The page's id repeats its filters, so that `next` continues the same selection.
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(filter)) for (const v of Array.isArray(value) ? value : [value]) if (v !== undefined) params.append(key, String(v));
    params.set('limit', String(limit));
    const pageId = (cursor?: string) => {
      const p = new URLSearchParams(params);
      if (cursor !== undefined) p.set('after', cursor);
      return `${base}?${p}`;
    };
    const page = await ctx.service
      .call('embeddings', (store) =>
        exportEmbeddingPage(store, {
          filter: toItemFilter(filter),
          limit,
          ...(after !== undefined ? { after } : {}),
          pageId,
          annotationId: (itemId, ord) => `${base}/${itemId}/${ord === 0 ? 'image' : `region/${ord}`}`,
          // A region item's vector is its region's, not its canvas's.
          regionOf: (item) => regionOfItem(item)?.box,
        }),
      )
      .catch((err: unknown) => {
        throw err instanceof NoEmbeddingsError ? notFound(err.message) : err;
      });
    res.type('application/ld+json;profile="http://iiif.io/api/extension/embeddings/1/context.json"');
    res.set('Cache-Control', 'public, max-age=60');
    res.send(JSON.stringify(page));
  });
}
