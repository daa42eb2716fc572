import { z } from 'zod';
import type { ApiConfig } from '../../config/index.ts';
import { filterObject } from '../schemas.ts';

/** Pages a result set can have: maxHits (at most 1000) over a page size of at least 1. */
const MAX_PAGE = 1000;

/**
 * The query of a Content Search request (1.0 §3.2.1, 2.0 §4.1.1), plus `limit` and `page`. Not
 * strict: the specs require parameters a service does not implement to be ignored, not refused.
 * An absent or empty parameter does not restrict the search (both specs): no `q` lists every canvas.
 */
export function contentSearchQuery(api: ApiConfig) {
  const single = (what: string) => z.string({ message: `${what}; give it once` });
  const pageSize = Math.min(api.contentSearch.pageSize, api.maxLimit);
  return z.object({
    q: single('a description of the images to find, e.g. q=a horse and cart')
      .transform((v) => v.trim().replace(/\s+/g, ' '))
      .pipe(z.string().max(api.maxQueryLength, `must be at most ${api.maxQueryLength} characters (api.maxQueryLength)`))
      .transform((v) => v || undefined)
      .optional()
      .describe('What to look for, in words: the text is embedded and matched against the images of the manifest. Absent or empty: every canvas, in canvas order.'),
    limit: z.coerce
      .number({ message: 'expected a whole number' })
      .int('expected a whole number')
      .min(1, 'must be at least 1')
      .max(api.maxLimit, `must be at most ${api.maxLimit} (api.maxLimit)`)
      .optional()
      .describe(`Hits per page, 1 to ${api.maxLimit} (default ${pageSize}, api.contentSearch.pageSize).`),
    page: z.coerce
      .number({ message: 'expected a whole number' })
      .int('expected a whole number')
      .min(1, 'pages are numbered from 1')
      .max(MAX_PAGE, `must be at most ${MAX_PAGE}`)
      .optional()
      .describe('Which page of the results, from 1 (default); the answers link to the first, last, next and previous pages.'),
    labels: filterObject.shape.labels.describe(
      'Only canvases with this tag (a value of the `labels` facet, e.g. genre:map from the model\'s label sets); repeat for several (ORed). Not in the Content Search specs: this service\'s own.',
    ),
    // The search API's metadata filters, under its names and with its semantics (plugin/schemas.ts), so a
    // client builds both requests alike. `date` stays the specs' own (the annotation's creation date).
    meta: filterObject.shape.meta.describe(
      'Only canvases with this metadata facet value, as name:value (creator:Dorothea Lange; a name of config facets.metadata, as GET /facets lists them under meta.<name>); ' +
        'repeat for several: values of one name are ORed, names ANDed. Not in the Content Search specs: this service\'s own.',
    ),
    dateFrom: filterObject.shape.dateFrom.describe(
      'Only canvases dated on or after this (ISO 8601 or a prefix: 1936, 1936-05), by navDate, else the date the metadata gives. Not in the Content Search specs: this service\'s own (the specs\' `date` is the annotations\' creation date, and is ignored).',
    ),
    dateTo: filterObject.shape.dateTo.describe('Only canvases dated on or before this, inclusive (1936 includes all of 1936). Not in the Content Search specs: this service\'s own.'),
    rights: filterObject.shape.rights.describe(
      'Only canvases under this rights URI, as normalised when harvested (https://creativecommons.org/licenses/by/4.0/; GET /facets lists them under rights); repeat for several (ORed). Not in the Content Search specs: this service\'s own.',
    ),
    motivation: single('a space-separated list of motivations')
      .optional()
      .describe('Hits are `describing` annotations (`oa:describing` in 1.0); `non-painting` selects them too, other motivations select none.'),
    date: z.unknown().optional().describe('Not implemented (hits have no creation date): listed in `ignored`.'),
    user: z.unknown().optional().describe('Not implemented (hits have no creator): listed in `ignored`.'),
  });
}

export const contentSearchParams = z.object({
  manifestKey: z.string().describe('base64url of the manifest id (manifestKey())'),
});

/** The query of the service-block lookup: which manifest. */
export const serviceBlocksQuery = z.object({
  manifest: z
    .string({ message: 'the id (or URL) of an indexed manifest, e.g. manifest=https://example.org/iiif/book1/manifest; give it once' })
    .min(1, 'must not be empty')
    .max(4000, 'must be at most 4000 characters')
    .describe('The id of an indexed manifest, or the URL it was harvested from.'),
});
