import type { Router } from 'express';
import { z } from 'zod';
import type { ApiConfig } from '../../config/index.ts';
import { DEFAULT_MIN_INLIERS, DEFAULT_VIEWS, type ReprintService } from '../../reprints/index.ts';
import { imageOrJsonBody } from '../middleware/body.ts';
import { validate } from '../middleware/validate.ts';
import { imageRequestBody, outputSchema, parameters } from '../openapi-json.ts';
import { QueryImages } from '../query-image.ts';
import { ReprintSearch, type ReprintSource } from '../reprint-search.ts';
import { reprintGroupsPageSchema, reprintPageSchema, reprintPrintingsPageSchema } from '../response-schemas.ts';
import { itemId, type Schemas } from '../schemas.ts';
import type { RouteContext } from './context.ts';
import { UPLOAD_FIELD } from './image-search.ts';

const MAX_REPRINT_HITS = 100;

const reprintOptions = z.strictObject({
  limit: z.coerce
    .number({ message: 'expected a whole number' })
    .int('expected a whole number')
    .min(1, 'must be at least 1')
    .max(MAX_REPRINT_HITS, `must be at most ${MAX_REPRINT_HITS}`)
    .default(20)
    .describe(`Hits at most, 1 to ${MAX_REPRINT_HITS}.`),
  minInliers: z.coerce
    .number({ message: 'expected a whole number' })
    .int('expected a whole number')
    .min(4, 'must be at least 4')
    .max(10_000, 'must be at most 10000')
    .default(DEFAULT_MIN_INLIERS)
    .describe(`Geometrically consistent keypoint matches a reprint needs (default ${DEFAULT_MIN_INLIERS}, calibrated so that different photographs stay below it).`),
});

const MAX_PAGE = 100;

/** Paging of the groups and of an item's other printings. */
const groupPaging = z.strictObject({
  limit: z.coerce
    .number({ message: 'expected a whole number' })
    .int('expected a whole number')
    .min(1, 'must be at least 1')
    .max(MAX_PAGE, `must be at most ${MAX_PAGE}`)
    .default(20)
    .describe(`At most this many, 1 to ${MAX_PAGE}.`),
  offset: z.coerce
    .number({ message: 'expected a whole number' })
    .int('expected a whole number')
    .min(0, 'must be at least 0')
    .max(1_000_000, 'must be at most 1000000')
    .default(0)
    .describe('How many to skip.'),
});

const reprintBody = (schemas: Schemas) => z.union([z.strictObject({ item: itemId.describe('An indexed item: its reprints elsewhere.') }), schemas.imageSource]);

/**
 * POST /reprints: the same photograph elsewhere, from an upload, a URL, an Image API region, a box on a canvas, or an indexed item;
 * the groups, and an item's other printings. Answered from `reprints` (SearchDeps.reprints), which the router's creator opens and closes.
 */
export function reprintRoutes(router: Router, ctx: RouteContext, reprints: ReprintService | undefined): { close: () => Promise<void> } {
  const query = validate({ query: reprintOptions });
  const body = validate({ body: reprintBody(ctx.schemas) });
  const images = new QueryImages({
    http: ctx.config.harvest.http,
    maxBytes: ctx.config.api.maxUploadBytes,
    maxPixels: ctx.config.api.maxImagePixels,
    // A page is searched for the photographs printed on it: kept at up to 2,400 px, not the embedding size.
    longSide: Math.max(ctx.config.harvest.imageSize, DEFAULT_VIEWS.maxDecodeSide),
  });
  const search = new ReprintSearch(reprints, ctx.service.call, images);
  router.post(
    '/reprints',
    ...ctx.guarded,
    query,
    imageOrJsonBody({ field: UPLOAD_FIELD, maxBytes: ctx.config.api.maxUploadBytes }),
    (req, res, next) => (req.file ? next() : body(req, res, next)),
    async (req, res) => {
      const options = query.input(res).query;
      let source: ReprintSource;
      if (req.file) source = { kind: 'upload', bytes: req.file.buffer };
      else {
        const b = body.input(res).body;
        source =
          'item' in b
            ? { kind: 'item', id: b.item }
            : b.url !== undefined
              ? { kind: 'url', url: b.url }
              : b.iiif !== undefined
                ? { kind: 'iiif', url: b.iiif }
                : { kind: 'canvas', canvas: b.canvas!, xywh: b.xywh!, ...(b.manifest !== undefined ? { manifest: b.manifest } : {}) };
      }
      res.json(await search.find(source, options));
    },
  );
  const groups = validate({ query: groupPaging });
  router.get('/reprints/groups', ...ctx.guarded, groups, async (_req, res) => {
    res.json(await search.groups(groups.input(res).query));
  });
  const printings = validate({ params: ctx.schemas.itemParams, query: groupPaging });
  router.get('/items/:id/reprints', ...ctx.guarded, printings, async (_req, res) => {
    const { params, query } = printings.input(res);
    res.json(await search.printings(params.id, query));
  });
  return {
    close: async () => {
      await images.close();
    },
  };
}

/** The route's OpenAPI path item, for plugin/openapi.ts. */
export function reprintPaths(schemas: Schemas, api: ApiConfig, errorStatuses: (...statuses: number[]) => Record<string, unknown>): Record<string, unknown> {
  return {
    '/reprints': {
      post: {
        summary: 'Find reprints of a photograph',
        description:
          'Items that contain the same photograph as the query despite crops, re-toning, blur, halftone screens and rotation, ranked by geometrically consistent keypoint matches, ' +
          'with the matched region in both images and the transform between them. The query is an upload (multipart field "image"), or a JSON body with "item" (an indexed item), ' +
          '"url", "iiif", or "canvas" and "xywh" (a box on an indexed canvas: finds the photograph inside a page). Needs no model; needs the local-features binding (docs/reprints.md).',
        operationId: 'findReprints',
        parameters: parameters(reprintOptions, 'query'),
        requestBody: imageRequestBody(api, reprintBody(schemas)),
        responses: {
          200: { description: 'Reprints, most matches first.', content: { 'application/json': { schema: outputSchema(reprintPageSchema) } } },
          ...errorStatuses(400, 404, 413, 415, 422, 502, 503, 504),
        },
      },
    },
    '/reprints/groups': {
      get: {
        summary: 'Groups of reprints across the collections',
        description:
          'Every group of canvases that print the same photograph, largest first, with where it is on each canvas: what the comparison after each harvest found ' +
          '(reprise reprints --all lists the same). Paged by limit and offset.',
        operationId: 'reprintGroups',
        parameters: parameters(groupPaging, 'query'),
        responses: {
          200: { description: 'Groups, largest first.', content: { 'application/json': { schema: outputSchema(reprintGroupsPageSchema) } } },
          ...errorStatuses(400, 503),
        },
      },
    },
    '/items/{id}/reprints': {
      get: {
        summary: 'Other printings of an item',
        description:
          "The canvases that print the same photograph as the item (its reprint group), those verified against the item first, with the photograph's place on each. " +
          'Empty until the comparison after a harvest has paired the item with something. Paged by limit and offset.',
        operationId: 'itemReprints',
        parameters: [...parameters(schemas.itemParams, 'path'), ...parameters(groupPaging, 'query')],
        responses: {
          200: { description: 'Other printings, most certain first.', content: { 'application/json': { schema: outputSchema(reprintPrintingsPageSchema) } } },
          ...errorStatuses(400, 404, 503),
        },
      },
    },
  };
}
