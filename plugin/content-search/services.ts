import { manifestKey } from './manifest-key.ts';

/** Where createSearchRouter mounts contentSearchRouter. */
export const CONTENT_SEARCH_PATH = '/iiif/search';

export const SEARCH1_CONTEXT = 'http://iiif.io/api/search/1/context.json';
export const SEARCH1_PROFILE = 'http://iiif.io/api/search/1/search';
export const SEARCH2_CONTEXT = 'http://iiif.io/api/search/2/context.json';
export const PRESENTATION2_CONTEXT = 'http://iiif.io/api/presentation/2/context.json';

/** Content Search 1.0 service block (§3.1); `@type` SearchService1 lets it sit in a Presentation 3 manifest too. */
export interface SearchService1Block {
  '@context': typeof SEARCH1_CONTEXT;
  '@id': string;
  '@type': 'SearchService1';
  profile: typeof SEARCH1_PROFILE;
  label: string;
}

/** Content Search 2.0 service block (§3). */
export interface SearchService2Block {
  id: string;
  type: 'SearchService2';
  label: { en: string[] };
}

export interface ContentSearchServices {
  /** For a Presentation 2 manifest's `service` (Mirador and Universal Viewer speak 1.0). */
  v1: SearchService1Block;
  /** For a Presentation 3 manifest's `service` array, next to `v1` for viewers that only speak 1.0. */
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
 * e.g. https://library.example.org/api); the content-search routes live under /iiif/search there.
 *
 *   manifest.service = [...(manifest.service ?? []), ...Object.values(contentSearchServiceFor(manifest.id, baseUrl))]
 */
export function contentSearchServiceFor(manifestId: string, baseUrl: string): ContentSearchServices {
  return {
    v1: {
      '@context': SEARCH1_CONTEXT,
      '@id': contentSearchUrl(manifestId, baseUrl, 1),
      '@type': 'SearchService1',
      profile: SEARCH1_PROFILE,
      label: 'Find images like a description',
    },
    v2: {
      id: contentSearchUrl(manifestId, baseUrl, 2),
      type: 'SearchService2',
      label: { en: ['Find images like a description'] },
    },
  };
}
