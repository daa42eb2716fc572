import path from 'node:path';
import type { Router } from 'express';
import { z } from 'zod';
import { shapeItem } from '../hits.ts';
import { MapBusyError, MAP_SCALE, MapJobs, MapTooLargeError } from '../map/map-jobs.ts';
import { validate } from '../middleware/validate.ts';
import { outputSchema, parameters } from '../openapi-json.ts';
import { notFound, Problem } from '../problems.ts';
import { mapItemsSchema, mapMatchesSchema, mapPendingSchema, mapSchema, type MapBody, type MapItemsBody, type MapMatchesBody, type MapPendingBody } from '../response-schemas.ts';
import { filterObject, itemId, toItemFilter } from '../schemas.ts';
import type { VectorStore } from '../../store/index.ts';
import type { RouteContext } from './context.ts';

/** Items one GET /map/items names: the points in view when the map is zoomed in. */
export const MAX_MAP_ITEMS_PER_REQUEST = 200;

const mapQuery = z.strictObject({
  collection: z.string().min(1).max(2000).optional().describe('A collection label: its map; the whole index without it.'),
});

const mapMatchesQuery = filterObject.extend({
  map: z.string().min(1).max(2000).optional().describe('The collection whose map it is (its `collection`); the whole index\'s map without it.'),
});

const mapItemsQuery = z.strictObject({
  ids: z
    .union([itemId, z.array(itemId).max(MAX_MAP_ITEMS_PER_REQUEST, `at most ${MAX_MAP_ITEMS_PER_REQUEST} ids`)])
    .transform((v) => (Array.isArray(v) ? v : [v]))
    .describe(`Item ids (repeat the parameter), at most ${MAX_MAP_ITEMS_PER_REQUEST}.`),
});

/**
 * GET /map: a 2-D layout of a collection's images (similar ones near each other), computed in the
 * background (202 with the progress until it is ready) and kept under dataDir/maps; GET /map/items:
 * thumbnails and labels of the points in view.
 */
export function mapRoutes(router: Router, ctx: RouteContext, store: VectorStore): { close: () => Promise<void> } {
  // The store itself, not the service's bounded calls: reading a collection's vectors takes longer than one query may.
  const jobs = new MapJobs(store, { dir: path.join(ctx.config.dataDir, 'maps', ctx.config.store.index) });
  const check = validate({ query: mapQuery });
  router.get('/map', ...ctx.guarded, check, async (_req, res) => {
    const collection = check.input(res).query.collection ?? null;
    let state;
    try {
      state = await jobs.state(collection);
    } catch (err) {
      if (err instanceof MapBusyError) throw new Problem('store-unavailable', err.message, { headers: { 'Retry-After': '60' } });
      throw err;
    }
    if (state.status === 'failed') {
      if (/no vectors/.test(state.error)) throw notFound(state.error);
      throw new Problem('invalid-query', `the map cannot be computed: ${state.error}`);
    }
    if (state.status === 'computing') {
      const body: MapPendingBody = { status: 'computing', job: state.job };
      res.status(202).set('Retry-After', '5').set('Cache-Control', 'no-store').json(body);
      return;
    }
    const { map, stale, job } = state;
    const body: MapBody = { status: 'ready', collection: map.collection, modelId: map.modelId, computedAt: map.computedAt, items: map.items, stale, scale: MAP_SCALE, ids: map.ids, xy: map.xy, ...(job ? { job } : {}) };
    res.set('Cache-Control', stale ? 'no-store' : 'public, max-age=60').json(body);
  });

  const matches = validate({ query: mapMatchesQuery });
  router.get('/map/matches', ...ctx.guarded, matches, async (_req, res) => {
    const { map, ...filter } = matches.input(res).query;
    const found = await jobs.matches(map ?? null, toItemFilter(filter) ?? {});
    if (!found) throw notFound(`no map of ${map === undefined ? 'the whole index' : JSON.stringify(map)} yet: GET /map first`);
    const body: MapMatchesBody = found;
    res.set('Cache-Control', 'no-store').json(body);
  });

  const items = validate({ query: mapItemsQuery });
  router.get('/map/items', ...ctx.guarded, items, async (_req, res) => {
    const ids = [...new Set(items.input(res).query.ids)];
    const found = await ctx.service.call('get', (store) => Promise.all(ids.map((id) => store.get(id))));
    const body: MapItemsBody = { items: found.flatMap((item) => (item ? [shapeItem(item)] : [])) };
    res.set('Cache-Control', 'public, max-age=60').json(body);
  });

  return { close: () => jobs.close() };
}

/** The map routes, for the OpenAPI document. */
export function mapPaths(errorStatuses: (...statuses: number[]) => Record<string, unknown>): Record<string, unknown> {
  return {
    '/map': {
      get: {
        summary: 'A map of a collection\'s images',
        description:
          'A 2-D layout (UMAP over the image vectors) where similar images lie near each other: item ids and integer x, y positions. Computed in the background the first time, ' +
          'and again when the collection changes (the old map is served meanwhile, marked stale): 202 with the progress until then. Needs no model loaded.',
        operationId: 'collectionMap',
        parameters: parameters(mapQuery, 'query'),
        responses: {
          200: { description: 'The map.', content: { 'application/json': { schema: outputSchema(mapSchema) } } },
          202: { description: 'Being computed: ask again after Retry-After seconds.', content: { 'application/json': { schema: outputSchema(mapPendingSchema) } } },
          ...errorStatuses(400, 404, 503, 504),
        },
      },
    },
    '/map/matches': {
      get: {
        summary: 'The points of a map that pass filters',
        description: 'Which items of a stored map the filters select (as positions in its ids): what a map highlights for a filter.',
        operationId: 'mapMatches',
        parameters: parameters(mapMatchesQuery, 'query'),
        responses: { 200: { description: 'The positions.', content: { 'application/json': { schema: outputSchema(mapMatchesSchema) } } }, ...errorStatuses(400, 404, 503, 504) },
      },
    },
    '/map/items': {
      get: {
        summary: 'The points of a map in view',
        description: 'Thumbnails, labels and links of the items named: what a map shows once zoomed in.',
        operationId: 'mapItems',
        parameters: parameters(mapItemsQuery, 'query'),
        responses: { 200: { description: 'The items found (unknown ids are left out).', content: { 'application/json': { schema: outputSchema(mapItemsSchema) } } }, ...errorStatuses(400, 503, 504) },
      },
    },
  };
}
