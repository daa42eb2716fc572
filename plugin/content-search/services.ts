import { manifestKey } from './manifest-key.ts';

/** Where createSearchRouter mounts contentSearchRouter. */
export const CONTENT_SEARCH_PATH = '/iiif/search';

export const SEARCH1_CONTEXT = 'http://iiif.io/api/search/1/context.json';
export const SEARCH1_PROFILE = 'http://iiif.io/api/search/1/search';
export const SEARCH2_CONTEXT = 'http://iiif.io/api/search/2/context.json';
export const SEARCH2_PROFILE = 'http://iiif.io/api/search/2/search';
export const PRESENTATION2_CONTEXT = 'http://iiif.io/api/presentation/2/context.json';

/** Content Search 1.0 service block (§3.1); `@type` SearchService1 lets it sit in a Presentation 3 manifest too. */
export interface SearchService1Block {
  '@context': typeof SEARCH1_CONTEXT;
  '@id': string;
  '@type': 'SearchService1';
  profile: typeof SEARCH1_PROFILE;
  label: string;
}

/**
 * Content Search 2.0 service block (§3: `id` and `type`). The profile is not required by 2.0,
 * but Universal Viewer (manifesto's getService) finds services by profile only.
 */
export interface SearchService2Block {
  id: string;
  type: 'SearchService2';
  profile: typeof SEARCH2_PROFILE;
  label: { en: string[] };
}

export interface ContentSearchServices {
  /** What Mirador 4 and Universal Viewer 4 use (they look for the 1.0 profile, and read 1.0 answers only). */
  v1: SearchService1Block;
  /** For 2.0 clients, listed after `v1` in a manifest's `service` array. */
  v2: SearchService2Block;
}

/** The search URL of one manifest; `base` is where the search router is mounted (api.publicUrl), or the content-search mount itself. */
export function contentSearchUrl(manifestId: string, base: string, version: 1 | 2, { mounted = false } = {}): string {
  const root = base.replace(/\/+$/, '') + (mounted ? '' : CONTENT_SEARCH_PATH);
  return `${root}/v${version}/${manifestKey(manifestId)}`;
}

/**
 * The service blocks a portal adds to a manifest so that IIIF viewers offer "search within" on it.
 * `baseUrl` is the public URL at which createSearchRouter is reachable (the value of api.publicUrl,
 * e.g. https://library.example.org/api); the content-search routes live under /iiif/search there
 * (`mounted`: `baseUrl` is where contentSearchRouter itself is mounted).
 *
 *   manifest.service = [...(manifest.service ?? []), ...Object.values(contentSearchServiceFor(manifest.id, baseUrl))]
 *
 * (withContentSearchServices does that for any manifest.)
 */
export function contentSearchServiceFor(manifestId: string, baseUrl: string, options: { mounted?: boolean } = {}): ContentSearchServices {
  return {
    v1: {
      '@context': SEARCH1_CONTEXT,
      '@id': contentSearchUrl(manifestId, baseUrl, 1, options),
      '@type': 'SearchService1',
      profile: SEARCH1_PROFILE,
      label: 'Find images like a description',
    },
    v2: {
      id: contentSearchUrl(manifestId, baseUrl, 2, options),
      type: 'SearchService2',
      profile: SEARCH2_PROFILE,
      label: { en: ['Find images like a description'] },
    },
  };
}

type Json = Record<string, unknown>;

const serviceId = (block: unknown): unknown => (block && typeof block === 'object' ? ((block as Json).id ?? (block as Json)['@id']) : undefined);

/**
 * A copy of a manifest (Presentation 2 or 3) with both service blocks in its `service` list, after
 * the services it has (a Presentation 2 `service` object becomes a list); blocks already there
 * (same id) are not added twice. Throws a TypeError when the document has no id.
 */
export function withContentSearchServices<T extends Json>(manifest: T, baseUrl: string): T {
  const id = manifest.id ?? manifest['@id'];
  if (typeof id !== 'string' || !id) throw new TypeError('the manifest has no "id" (Presentation 3) or "@id" (Presentation 2): is it a manifest?');
  const existing: unknown[] = manifest.service === undefined ? [] : Array.isArray(manifest.service) ? manifest.service : [manifest.service];
  const ids = new Set(existing.map(serviceId));
  const blocks = Object.values(contentSearchServiceFor(id, baseUrl)).filter((b) => !ids.has(serviceId(b)));
  return { ...manifest, service: [...existing, ...blocks] };
}
