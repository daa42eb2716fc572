import { z } from 'zod';
import type { ApiConfig } from '../../config/schema.ts';

/** Hits per response when the request does not say (`limit`, up to api.maxLimit). */
export const DEFAULT_CONTENT_SEARCH_LIMIT = 20;

/**
 * The query of a Content Search request (1.0 §3.2.1, 2.0 §4.1.1), plus `limit`. Not strict: the
 * specs require parameters a service does not implement to be ignored, not refused.
 */
export function contentSearchQuery(api: ApiConfig) {
  const single = (what: string) => z.string({ message: `${what}; give it once` });
  return z.object({
    q: single('a description of the images to find, e.g. q=a horse and cart')
      .transform((v) => v.trim().replace(/\s+/g, ' '))
      .pipe(z.string().min(1, 'must not be empty').max(api.maxQueryLength, `must be at most ${api.maxQueryLength} characters (api.maxQueryLength)`))
      .describe('What to look for, in words: the text is embedded and matched against the images of the manifest.'),
    limit: z.coerce
      .number({ message: 'expected a whole number' })
      .int('expected a whole number')
      .min(1, 'must be at least 1')
      .max(api.maxLimit, `must be at most ${api.maxLimit} (api.maxLimit)`)
      .optional()
      .describe(`Most hits to return, 1 to ${api.maxLimit} (default ${Math.min(DEFAULT_CONTENT_SEARCH_LIMIT, api.maxLimit)}).`),
    motivation: single('a space-separated list of motivations').optional().describe('Hits are `highlighting` annotations; other motivations select none.'),
    page: z.literal('1', { message: 'every hit is on page 1' }).optional().describe('Always 1: every hit comes in one page.'),
    date: z.unknown().optional().describe('Not implemented (hits have no creation date): listed in `ignored`.'),
    user: z.unknown().optional().describe('Not implemented (hits have no creator): listed in `ignored`.'),
  });
}

export const contentSearchParams = z.object({
  manifestKey: z.string().describe('base64url of the manifest id (manifestKey())'),
});
