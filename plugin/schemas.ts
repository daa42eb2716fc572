/**
 * The parameters and bodies of every route, as zod schemas built from the configured limits.
 * Validation and the OpenAPI document both read them, so the two cannot disagree.
 */
import { z } from 'zod';
import type { ApiConfig } from '../config/index.ts';
import type { FacetField, ItemFilter } from '../store/index.ts';
import { isFacetField } from '../store/index.ts';
import { FACET_FIELD_NAMES } from './response-schemas.ts';

/** Stores page at most this deep (Meilisearch's maxTotalHits; the embedded store's limit). */
export const MAX_WINDOW = 1000;
export const MAX_EXAMPLES = 32;
export const FACET_FIELDS = FACET_FIELD_NAMES satisfies readonly FacetField[];

/** Every facet a /facets request without `fields` counts: the fixed ones and the configuration's metadata facets. */
export function defaultFacetFields(metadata: Record<string, string>): FacetField[] {
  return [...FACET_FIELDS, ...new Set(Object.values(metadata).map((name) => `meta.${name}` as const))];
}

// An ISO 8601 date or a prefix of one, as the stores compare them: 1936, 1936-05, 1936-05-01, 1936-05-01T12:00:00Z.
const ISO_PREFIX = /^\d{4}(-\d{2}(-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?)?)?$/;

export const itemId = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,200}$/, 'an item id is 1 to 200 letters, digits, - or _ (the `id` of a search hit)')
  .describe('Item id, as returned in hits.');

const filterValue = z.string().min(1, 'must not be empty').max(2000, 'must be at most 2000 characters');
/** One value, or several (repeat the query parameter): values of one field are ORed. */
const filterValues = z
  .union([filterValue, z.array(filterValue).max(100, 'at most 100 values')])
  .transform((v) => (Array.isArray(v) ? v : [v]));
const isoDate = z.string().regex(ISO_PREFIX, 'expected an ISO 8601 date such as 1936, 1936-05 or 1936-05-01');
const metaValue = z
  .string()
  .max(2000, 'must be at most 2000 characters')
  .regex(/^[a-z][a-z0-9_-]{0,39}:.+$/s, 'expected name:value, e.g. creator:Dorothea Lange (the name of a meta.<name> facet, a colon, one of its values)');

const filterShape = {
  manifest: filterValues.optional().describe('Manifest id or URL; repeat for several (ORed).'),
  collection: filterValues.optional().describe('Collection label; matches items anywhere below it; repeat for several.'),
  rights: filterValues.optional().describe('Rights URI; repeat for several.'),
  labels: filterValues.optional().describe('Tag; repeat for several.'),
  source: filterValues.optional().describe('Harvest source URL; repeat for several.'),
  meta: z
    .union([metaValue, z.array(metaValue).max(100, 'at most 100 values')])
    .transform((v) => (Array.isArray(v) ? v : [v]))
    .optional()
    .describe('A metadata facet value as name:value (creator:Dorothea Lange, subject:Streets); repeat for several: values of one name are ORed, names ANDed.'),
  dateFrom: isoDate.optional().describe('Earliest navDate, inclusive (ISO 8601 or a prefix: 1936).'),
  dateTo: isoDate.optional().describe('Latest navDate, inclusive (1936 includes all of 1936).'),
};

export const filterObject = z.strictObject(filterShape);

export function toItemFilter(input: Partial<Record<keyof typeof filterShape, string | string[] | undefined>>): ItemFilter | undefined {
  const filter: ItemFilter = {};
  for (const key of Object.keys(filterShape) as Array<keyof typeof filterShape>) {
    const value = input[key];
    if (value === undefined) continue;
    if (key === 'meta') {
      // name:value pairs as the store's name → values.
      const meta: Record<string, string[]> = {};
      for (const pair of [value].flat()) {
        const at = pair.indexOf(':');
        (meta[pair.slice(0, at)] ??= []).push(pair.slice(at + 1));
      }
      filter.meta = meta;
    } else (filter as Record<string, unknown>)[key] = value;
  }
  return Object.keys(filter).length ? filter : undefined;
}

export function createSchemas(api: ApiConfig) {
  const limit = z.coerce
    .number({ message: 'expected a whole number' })
    .int('expected a whole number')
    .min(1, 'must be at least 1')
    .max(api.maxLimit, `must be at most ${api.maxLimit} (api.maxLimit)`)
    .default(Math.min(20, api.maxLimit))
    .describe(`Hits per page, 1 to ${api.maxLimit}.`);
  const offset = z.coerce
    .number({ message: 'expected a whole number' })
    .int('expected a whole number')
    .min(0, 'must be 0 or more')
    .max(MAX_WINDOW - 1, `must be less than ${MAX_WINDOW}`)
    .default(0)
    .describe(`Hits to skip; offset + limit is at most ${MAX_WINDOW}.`);
  const minScore = z.coerce
    .number({ message: 'expected a number' })
    .min(-1, 'must be from -1 to 1')
    .max(1, 'must be from -1 to 1')
    .optional()
    .describe('Leave out hits scoring below this (cosine similarity for vector search, −1…1; ranking score for hybrid, 0…1).');
  const pageShape = { limit, offset, minScore };
  const windowCheck = (v: { limit: number; offset: number }, ctx: z.RefinementCtx) => {
    if (v.offset + v.limit > MAX_WINDOW) {
      ctx.addIssue({ code: 'custom', path: ['offset'], message: `offset + limit must be at most ${MAX_WINDOW}; narrow the search with filters instead of paging further` });
    }
  };

  const textSearch = z
    .strictObject({
      q: z
        .string({ message: 'give the text to search for in q' })
        .trim()
        .min(1, 'give the text to search for in q')
        .max(api.maxQueryLength, `must be at most ${api.maxQueryLength} characters (api.maxQueryLength)`)
        .describe('What to look for, in words (e.g. "a woman at a sewing machine").'),
      semanticRatio: z.coerce
        .number({ message: 'expected a number from 0 to 1' })
        .min(0, 'must be from 0 to 1')
        .max(1, 'must be from 0 to 1')
        .optional()
        .describe('Hybrid search: 0 matches metadata keywords only, 1 the image content only (the default when absent), between mixes both.'),
      ...filterShape,
      ...pageShape,
    })
    .superRefine(windowCheck);

  const searchOptions = z.strictObject({ ...filterShape, ...pageShape }).superRefine(windowCheck);

  const url = z.url({ protocol: /^https?$/, message: 'expected an http or https URL' }).max(4096, 'must be at most 4096 characters');
  const imageSource = z
    .strictObject({
      url: url.optional().describe('An image to fetch (JPEG, PNG, WebP or TIFF).'),
      iiif: url
        .optional()
        .describe('An IIIF Image API request, {service}/{region}/{size}/{rotation}/{quality}.{format}: its region is fetched at a size fit for the model.'),
      canvas: z.string().min(1).max(4096).optional().describe('An indexed canvas id, with xywh: search by a box drawn on it.'),
      xywh: z
        .string()
        .max(200)
        .optional()
        .describe('The box on the canvas, in canvas coordinates: "x,y,w,h" (Media Fragments "xywh=", "pixel:" and "percent:" forms too).'),
      manifest: z.string().min(1).max(4096).optional().describe('The manifest of the canvas (id or URL), when known: makes the lookup direct.'),
    })
    .superRefine((v, ctx) => {
      const given = (['url', 'iiif', 'canvas'] as const).filter((k) => v[k] !== undefined);
      if (given.length !== 1) {
        ctx.addIssue({
          code: 'custom',
          path: given.length ? [given[1]!] : [],
          message: 'give exactly one image: upload a file in "image", or a JSON body with "url", "iiif", or "canvas" and "xywh"',
        });
      }
      if (v.canvas !== undefined && v.xywh === undefined) ctx.addIssue({ code: 'custom', path: ['xywh'], message: 'give the box on the canvas as "x,y,w,h"' });
      if (v.canvas === undefined && (v.xywh !== undefined || v.manifest !== undefined)) {
        ctx.addIssue({ code: 'custom', path: [v.xywh !== undefined ? 'xywh' : 'manifest'], message: 'only with "canvas"' });
      }
    });

  const example = z
    .union([itemId, z.array(z.number().finite()).min(1).max(4096)])
    .describe('An item id, or a vector of the index\'s dimensions.');
  const examples = z
    .strictObject({
      positive: z.array(example).min(1, 'give at least one positive example').max(MAX_EXAMPLES, `at most ${MAX_EXAMPLES} examples`),
      negative: z.array(example).max(MAX_EXAMPLES, `at most ${MAX_EXAMPLES} examples`).default([]),
      negativeWeight: z
        .number({ message: 'expected a number from 0 to 1' })
        .min(0, 'must be from 0 to 1')
        .max(1, 'must be from 0 to 1')
        .default(0.5)
        .describe('How strongly negatives push the query away.'),
      filter: filterObject.optional(),
      limit,
      offset,
      minScore,
    })
    .superRefine(windowCheck);

  const facetField = z
    .string()
    .refine((f) => isFacetField(f), `expected one of ${FACET_FIELDS.join(', ')}, or meta.<name> (a metadata facet)`)
    .transform((f) => f as FacetField);
  const facets = z.strictObject({
    fields: z
      .union([facetField, z.array(facetField).max(50, 'at most 50 fields')])
      .transform((v) => (Array.isArray(v) ? v : [v]))
      .optional()
      .describe(`Fields to count: ${FACET_FIELDS.join(', ')}, or meta.<name> for a metadata facet; repeat for several (default: all, with the metadata facets of the configuration).`),
    size: z.coerce
      .number({ message: 'expected a whole number' })
      .int('expected a whole number')
      .min(1, 'must be at least 1')
      .max(MAX_WINDOW, `must be at most ${MAX_WINDOW}`)
      .default(100)
      .describe('Values per field, most frequent first.'),
    ...filterShape,
  });

  return {
    textSearch,
    searchOptions,
    imageSource,
    examples,
    facets,
    itemParams: z.strictObject({ id: itemId }),
    none: z.strictObject({}),
  };
}

export type Schemas = ReturnType<typeof createSchemas>;
