/**
 * The OpenAPI 3.1 description of the router. Parameters and request bodies are generated from the
 * zod schemas that validate them; responses from plugin/response-schemas.ts, the types hits.ts and
 * the services build and the widget reads (a test checks real responses against them).
 */
import { z } from 'zod';
import type { ApiConfig } from '../config/index.ts';
import { ADMIN_PROBLEM_TYPES, startHarvestBody } from './admin/index.ts';
import { contentSearchParams, contentSearchQuery, serviceBlocksQuery } from './content-search/index.ts';
import { PROBLEM_TYPES, problemTypeUri, type ProblemKind } from './problems.ts';
import { imageRequestBody, inputSchema, outputSchema, parameters } from './openapi-json.ts';
import type { Schemas } from './schemas.ts';
import { embeddingImportSchema, embeddingPageSchema, facetsSchema, healthSchema, hitSchema, itemDetailsSchema, problemShape, searchPageSchema, statsSchema } from './response-schemas.ts';
import { importEmbeddingsBody } from './admin/embeddings-import.ts';
import { embeddingsQuery } from './routes/embeddings.ts';
import { mapPaths } from './routes/map.ts';
import { reprintPaths } from './routes/reprints.ts';

const problem = z
  .looseObject({
    ...problemShape,
    type: z.enum([...Object.keys(PROBLEM_TYPES), ...Object.keys(ADMIN_PROBLEM_TYPES)].map((k) => problemTypeUri(k as ProblemKind)) as [string, ...string[]]),
  })
  .describe('RFC 9457 problem details.');

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const jsonContent = (name: string) => ({ 'application/json': { schema: ref(name) } });

const ERROR_TEXT: Record<number, string> = {
  401: 'No admin token, or not the configured one.',
  409: 'A harvest is already running (admin routes), the item was harvested without a model and has no image vector yet, or imported embeddings come from another model.',
  400: 'Some parameters are not valid (see errors), or the query cannot be run.',
  404: 'Unknown item or canvas.',
  413: 'The upload or the fetched image is too large.',
  415: 'Not a JPEG, PNG, WebP or TIFF image, or the wrong content type.',
  422: 'The image cannot be used (too many pixels, damaged), the examples cancel out, or the embedding annotations cannot be read.',
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
          [400, 422, 503, 504],
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
          'The query is the normalised mean of the positive examples minus negativeWeight times the mean of the negative ones, renormalised. Examples are item ids or vectors; the examples are left out of the hits. Id examples are read from the index; no model is needed, but an item harvested without a model has no vector yet (409).',
          { operationId: 'searchExamples', requestBody: { required: true, content: { 'application/json': { schema: inputSchema(schemas.examples) } } } },
          [400, 404, 409, 413, 415, 422, 502, 503, 504],
        ),
      },
      '/items': {
        get: search(
          'Browse the items',
          'Every item the filters select, in index order (ranking score 1): browsing needs no model, and lists items harvested without one too.',
          { operationId: 'browseItems', parameters: parameters(schemas.searchOptions, 'query') },
          [400, 503, 504],
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
          'The nearest neighbours of an indexed item\'s image, the item itself left out. Needs no model loaded, but an item a harvest with a model embedded: one harvested without a model answers 409.',
          { operationId: 'similarItems', parameters: [...parameters(schemas.itemParams, 'path'), ...parameters(schemas.searchOptions, 'query')] },
          [400, 404, 409, 503, 504],
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
      ...mapPaths((...statuses) => errors(...statuses, ...rateLimited)),
      ...contentSearchPaths(api, rateLimited),
      ...(api.publishEmbeddings ? embeddingPaths(rateLimited) : {}),
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
        SearchPage: outputSchema(searchPageSchema),
        Hit: outputSchema(hitSchema),
        ItemDetails: outputSchema(itemDetailsSchema),
        Facets: outputSchema(facetsSchema),
        Stats: outputSchema(statsSchema),
        Health: outputSchema(healthSchema),
        Problem: outputSchema(problem),
        EmbeddingPage: outputSchema(embeddingPageSchema),
        EmbeddingImport: outputSchema(embeddingImportSchema),
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
        'Canvases (and regions) of the manifest that match the text, scoring at least api.contentSearch.minScore, best first, each targeting ' +
        'canvas#xywh=… (the region, else the whole canvas), as ' +
        (version === 1
          ? 'an sc:AnnotationList (Mirador, Universal Viewer) within an sc:Layer (total, first, last), linked by next/prev.'
          : 'an AnnotationPage partOf an AnnotationCollection (total, first, last), linked by next/prev.') +
        ' Without q, every canvas in canvas order. manifestKey is the base64url of the manifest id. Readable from the origins of api.contentSearch.corsOrigins (any by default).',
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
  const services = {
    get: {
      summary: 'IIIF Content Search service blocks for an indexed manifest',
      description: "The SearchService1 and SearchService2 blocks to add to the manifest's `service` list, so that viewers offer search within it.",
      operationId: 'contentSearchServices',
      parameters: parameters(serviceBlocksQuery, 'query'),
      responses: {
        200: {
          description: 'The manifest id as indexed, and the service blocks.',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                properties: { manifest: { type: 'string' }, service: { type: 'array', items: { type: 'object' }, minItems: 2, maxItems: 2 } },
                required: ['manifest', 'service'],
              },
            },
          },
        },
        ...errors(400, 404, 504, ...rateLimited),
      },
    },
  };
  return { '/iiif/search/v1/{manifestKey}': op(1), '/iiif/search/v2/{manifestKey}': op(2), '/iiif/search/services': services };
}

/** GET /embeddings (plugin/routes/embeddings.ts), unless api.publishEmbeddings is false. */
function embeddingPaths(rateLimited: number[]): Record<string, unknown> {
  return {
    '/embeddings': {
      get: {
        summary: 'The index\'s embeddings as IIIF annotations',
        description:
          'The vectors of the items the filters select (a manifest, a collection, a source, or everything), as an AnnotationPage of embedding annotations ' +
          '(motivation "embedding", EmbeddingVector bodies with the model\'s name and version, base64 float32 little-endian, canvas or xywh region targets), ' +
          'linked to the next page by `next`. Another portal imports them with POST /admin/embeddings/import or `reprise embeddings import`.',
        operationId: 'exportEmbeddings',
        parameters: parameters(embeddingsQuery, 'query'),
        responses: {
          200: { description: 'A page of embedding annotations.', content: { 'application/ld+json': { schema: ref('EmbeddingPage') } } },
          ...errors(400, 404, 503, 504, ...rateLimited),
        },
      },
    },
  };
}

/** Harvest control (plugin/admin), mounted at /admin; described only when api.adminToken enables it. */
function adminPaths(rateLimited: number[]): Record<string, unknown> {
  const security = [{ adminToken: [] }];
  return {
    '/admin/embeddings/import': {
      post: {
        summary: 'Import embeddings another portal published',
        description:
          'Indexes embedding annotations (a URL of a page, followed through `next`, or the page itself) without computing the vectors: each canvas\'s manifest is read for its metadata ' +
          '(items already indexed keep theirs). Vectors of another model than the index\'s, or than the one loaded for queries, are refused with 409 and nothing is imported.',
        operationId: 'importEmbeddings',
        security,
        requestBody: { required: true, content: { 'application/json': { schema: inputSchema(importEmbeddingsBody) } } },
        responses: {
          200: { description: 'What was imported and what was skipped, and why.', content: jsonContent('EmbeddingImport') },
          ...errors(400, 401, 409, 415, 422, 503, ...rateLimited),
        },
      },
    },
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
