/**
 * The OpenAPI 3.1 description of the router. Parameters and request bodies are generated from the
 * zod schemas that validate them; responses from the schemas below, which mirror hits.ts and the
 * service's results (a test checks real responses against them).
 */
import { z } from 'zod';
import type { ApiConfig } from '../config/schema.ts';
import { ADMIN_PROBLEM_TYPES, startHarvestBody } from './admin/index.ts';
import { contentSearchParams, contentSearchQuery } from './content-search/index.ts';
import { PROBLEM_TYPES, problemTypeUri, type ProblemKind } from './problems.ts';
import { imageRequestBody, inputSchema, outputSchema, parameters } from './openapi-json.ts';
import { FACET_FIELDS, type Schemas } from './schemas.ts';
import { reprintPaths } from './routes/reprints.ts';

const box = z.object({ x: z.number(), y: z.number(), w: z.number(), h: z.number() }).describe('A box in canvas coordinates: x, y from the top left, width, height.');

const itemShape = {
  id: z.string().describe('Item id: use it with /items/{id} and as an example.'),
  canvas: z.object({
    id: z.string(),
    label: z.string().optional(),
    index: z.number().int().optional().describe('0-based position in the manifest.'),
    width: z.number().optional(),
    height: z.number().optional(),
  }),
  manifest: z.object({ id: z.string(), url: z.string().describe('Where the manifest was fetched from.'), label: z.string().optional() }),
  thumbnail: z.string().optional().describe('A small image (≤ 400 px) from the image service, of the matching region when the hit is a region.'),
  rights: z.string().optional(),
  requiredStatement: z.object({ label: z.string(), value: z.string() }).optional().describe('Attribution to show with the image.'),
  homepage: z.string().optional().describe('The portal page of the object, when the manifest links one.'),
  date: z.string().optional(),
  collections: z.array(z.string()).describe('Collection labels from the root down.'),
  imageService: z.object({ id: z.string(), version: z.number().int(), level: z.number().int().optional() }).optional().describe('For deep-zoom viewers.'),
};

const hit = z.object({
  ...itemShape,
  score: z.number(),
  region: box.optional().describe('The part of the canvas that matched, when a region matched better than the whole image.'),
});

const searchPage = z.object({
  hits: z.array(hit),
  total: z.number().int().optional().describe('Matching items as the store counts them (estimated for vector search; before minScore).'),
  limit: z.number().int(),
  offset: z.number().int(),
  scoreKind: z.enum(['cosine', 'ranking']).describe('cosine: cosine similarity, −1…1; ranking: hybrid or keyword ranking score, 0…1.'),
});

const itemDetails = z.object({
  ...itemShape,
  summary: z.string().optional(),
  metadata: z.array(z.object({ label: z.string(), value: z.string() })),
  labels: z.array(z.string()),
  source: z.string().optional().describe('The harvest source the item came from.'),
  image: z.object({ url: z.string(), width: z.number().optional(), height: z.number().optional() }).optional(),
});

const facets = z.object({
  facets: z.record(
    z.enum(FACET_FIELDS),
    z.object({ values: z.array(z.object({ value: z.string(), count: z.number().int() })), more: z.boolean().describe('More values exist than were listed.') }),
  ),
});

const stats = z.object({
  items: z.number().int(),
  vectors: z.number().int().describe('Whole-image plus region vectors.'),
  modelId: z.string().describe('The model that made the index.'),
  dimensions: z.number().int(),
  model: z.object({ loaded: z.boolean(), modelId: z.string().optional() }).describe('The model loaded for queries.'),
});

const health = z.object({
  status: z.enum(['ok', 'unavailable']),
  store: z.object({
    reachable: z.boolean(),
    items: z.number().int().optional(),
    vectors: z.number().int().optional(),
    modelId: z.string().optional(),
    dimensions: z.number().int().optional(),
    error: z.string().optional(),
  }),
  model: z.object({
    loaded: z.boolean(),
    modelId: z.string().optional(),
    matchesIndex: z.boolean().optional().describe('The loaded model made the index: its queries land in the same space.'),
    hint: z.string().optional().describe('How to get a model, when none is loaded.'),
  }),
});

const problem = z
  .looseObject({
    type: z.enum([...Object.keys(PROBLEM_TYPES), ...Object.keys(ADMIN_PROBLEM_TYPES)].map((k) => problemTypeUri(k as ProblemKind)) as [string, ...string[]]),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().describe('What went wrong and what to do about it, for a person.'),
    instance: z.string().optional(),
    errors: z.array(z.object({ name: z.string(), in: z.enum(['query', 'path', 'body', 'header']), reason: z.string() })).optional().describe('The parameters that are not valid.'),
    retryAfterSeconds: z.number().int().optional(),
  })
  .describe('RFC 9457 problem details.');

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const jsonContent = (name: string) => ({ 'application/json': { schema: ref(name) } });

const ERROR_TEXT: Record<number, string> = {
  401: 'No admin token, or not the configured one.',
  409: 'A harvest is already running.',
  400: 'Some parameters are not valid (see errors), or the query cannot be run.',
  404: 'Unknown item or canvas.',
  413: 'The upload or the fetched image is too large.',
  415: 'Not a JPEG, PNG, WebP or TIFF image, or the wrong content type.',
  422: 'The image cannot be used (too many pixels, damaged), or the examples cancel out.',
  429: 'Too many requests from this client: wait for Retry-After seconds.',
  502: 'The image URL could not be fetched.',
  503: 'No model loaded (text and image search), the index is unavailable, or the model is busy.',
  504: 'The index took longer than api.storeTimeoutMs.',
};

function errors(...statuses: number[]): Record<string, unknown> {
  return Object.fromEntries(
    [...new Set([...statuses, 500])].map((s) => [String(s), { description: ERROR_TEXT[s] ?? 'Internal error.', content: { 'application/problem+json': { schema: ref('Problem') } } }]),
  );
}

export function openApiDocument(schemas: Schemas, api: ApiConfig): Record<string, unknown> {
  const rateLimited = api.rateLimitPerMinute > 0 ? [429] : [];
  const search = (summary: string, description: string, extra: Record<string, unknown>, errorStatuses: number[]) => ({
    summary,
    description,
    ...extra,
    responses: { 200: { description: 'A page of hits, best first.', content: jsonContent('SearchPage') }, ...errors(...errorStatuses, ...rateLimited) },
  });

  return {
    openapi: '3.1.0',
    info: {
      title: 'Reprise visual search API',
      version: '0.1.0',
      description:
        'Visual search over harvested IIIF collections: by text, by image, by region, by example. ' +
        'Errors are RFC 9457 problems (`application/problem+json`) whose `type` is one of the Problem schema\'s values. ' +
        `Limits: ${api.maxLimit} hits per page, queries of ${api.maxQueryLength} characters, uploads of ${api.maxUploadBytes} bytes and ${api.maxImagePixels} pixels` +
        (api.rateLimitPerMinute > 0 ? `, ${api.rateLimitPerMinute} requests a minute per client.` : '.'),
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    paths: {
      '/search': {
        get: search(
          'Search images by text',
          'The text is embedded with the model and the nearest images are returned (cosine scores). With semanticRatio, metadata keywords are mixed in (ranking scores); semanticRatio=0 is a keyword search and works without a model.',
          { operationId: 'searchText', parameters: parameters(schemas.textSearch, 'query') },
          [400, 503, 504],
        ),
      },
      '/search/image': {
        post: search(
          'Search images by image',
          'Upload an image (multipart field "image"), or name one in a JSON body: "url" (fetched by the server; private addresses refused), "iiif" (an Image API request: its region is fetched at 640 px), or "canvas" and "xywh" (a box drawn on an indexed canvas, in canvas coordinates). Search options go in the query string.',
          {
            operationId: 'searchImage',
            parameters: parameters(schemas.searchOptions, 'query'),
            requestBody: imageRequestBody(api, schemas.imageSource),
          },
          [400, 404, 413, 415, 422, 502, 503, 504],
        ),
      },
      '/search/examples': {
        post: search(
          'Search by several examples (relevance feedback)',
          'The query is the normalised mean of the positive examples minus negativeWeight times the mean of the negative ones, renormalised. Examples are item ids or vectors; the examples are left out of the hits. Id examples are read from the index; no model is needed.',
          { operationId: 'searchExamples', requestBody: { required: true, content: { 'application/json': { schema: inputSchema(schemas.examples) } } } },
          [400, 404, 413, 415, 422, 502, 503, 504],
        ),
      },
      '/items/{id}': {
        get: {
          summary: 'An item',
          operationId: 'getItem',
          parameters: parameters(schemas.itemParams, 'path'),
          responses: { 200: { description: 'The item, with its metadata.', content: jsonContent('ItemDetails') }, ...errors(400, 404, 503, 504, ...rateLimited) },
        },
      },
      '/items/{id}/similar': {
        get: search(
          'Items similar to an item',
          'The nearest neighbours of an indexed item\'s image, the item itself left out. Needs no model.',
          { operationId: 'similarItems', parameters: [...parameters(schemas.itemParams, 'path'), ...parameters(schemas.searchOptions, 'query')] },
          [400, 404, 503, 504],
        ),
      },
      '/facets': {
        get: {
          summary: 'Facet counts',
          description: 'How many items have each value of the filterable fields, under the given filters.',
          operationId: 'facets',
          parameters: parameters(schemas.facets, 'query'),
          responses: { 200: { description: 'Counts per field, most frequent first.', content: jsonContent('Facets') }, ...errors(400, 503, 504, ...rateLimited) },
        },
      },
      '/stats': {
        get: {
          summary: 'Index statistics',
          operationId: 'stats',
          responses: { 200: { description: 'What the index holds.', content: jsonContent('Stats') }, ...errors(400, 503, 504, ...rateLimited) },
        },
      },
      '/health': {
        get: {
          summary: 'Health',
          description: 'Not rate-limited. 200 when the index answers and a model for its vectors is loaded.',
          operationId: 'health',
          responses: {
            200: { description: 'Ready.', content: jsonContent('Health') },
            503: { description: 'Not ready: the details say whether the index or the model is missing.', content: jsonContent('Health') },
          },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics',
          description: 'Request counts and latency per route and status, encoder and store time. Not rate-limited.',
          operationId: 'metrics',
          responses: { 200: { description: 'Prometheus text format 0.0.4.', content: { 'text/plain': { schema: { type: 'string' } } } } },
        },
      },
      ...reprintPaths(schemas, api, (...statuses) => errors(...statuses, ...rateLimited)),
      ...contentSearchPaths(api, rateLimited),
      ...(api.adminToken ? adminPaths(rateLimited) : {}),
      '/openapi.json': {
        get: {
          summary: 'This document',
          operationId: 'openapi',
          responses: { 200: { description: 'OpenAPI 3.1.', content: { 'application/json': { schema: { type: 'object' } } } } },
        },
      },
    },
    components: {
      ...(api.adminToken ? { securitySchemes: { adminToken: { type: 'http', scheme: 'bearer', description: 'api.adminToken' } } } : {}),
      schemas: {
        SearchPage: outputSchema(searchPage),
        Hit: outputSchema(hit),
        ItemDetails: outputSchema(itemDetails),
        Facets: outputSchema(facets),
        Stats: outputSchema(stats),
        Health: outputSchema(health),
        Problem: outputSchema(problem),
      },
    },
  };
}

/** IIIF Content Search 1.0 and 2.0 (plugin/content-search), mounted at /iiif/search. */
function contentSearchPaths(api: ApiConfig, rateLimited: number[]): Record<string, unknown> {
  const params = [...parameters(contentSearchParams, 'path'), ...parameters(contentSearchQuery(api), 'query')];
  const op = (version: 1 | 2) => ({
    get: {
      summary: `IIIF Content Search ${version === 1 ? '1.0' : '2.0'} for one manifest`,
      description:
        'Canvases (and regions, as xywh targets) of the manifest that match the text, as ' +
        (version === 1 ? 'a sc:AnnotationList (Mirador, Universal Viewer).' : 'an AnnotationPage.') +
        ' manifestKey is the base64url of the manifest id.',
      operationId: `contentSearchV${version}`,
      parameters: params,
      responses: {
        200: {
          description: version === 1 ? 'An sc:AnnotationList.' : 'An AnnotationPage.',
          content: { 'application/json': { schema: { type: 'object' } }, 'application/ld+json': { schema: { type: 'object' } } },
        },
        ...errors(400, 404, 503, 504, ...rateLimited),
      },
    },
  });
  return { '/iiif/search/v1/{manifestKey}': op(1), '/iiif/search/v2/{manifestKey}': op(2) };
}

/** Harvest control (plugin/admin), mounted at /admin; described only when api.adminToken enables it. */
function adminPaths(rateLimited: number[]): Record<string, unknown> {
  const security = [{ adminToken: [] }];
  return {
    '/admin/harvests': {
      get: {
        summary: 'Harvest status',
        operationId: 'harvestStatus',
        security,
        responses: { 200: { description: 'Whether a harvest runs, the last summary, journal counts.', content: { 'application/json': { schema: { type: 'object' } } } }, ...errors(401, 503, ...rateLimited) },
      },
      post: {
        summary: 'Start a harvest',
        operationId: 'startHarvest',
        security,
        requestBody: { required: true, content: { 'application/json': { schema: inputSchema(startHarvestBody) } } },
        responses: { 202: { description: 'Started; the Location header is the status URL.', content: { 'application/json': { schema: { type: 'object' } } } }, ...errors(400, 401, 409, 415, 503, ...rateLimited) },
      },
    },
  };
}
