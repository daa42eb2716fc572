/**
 * A search in the page's address, for `<reprise-search url-state>`: `q`, the filters (`collection`,
 * `rights`, `manifest`, `labels`, `source`, repeated for several; `dateFrom`, `dateTo`), `similar`
 * or `reprints` (an item id), `image` (an image address; `find=reprints` for its reprints) and
 * `page` (from 1). Other parameters of the page (a host's `item`, `lang`) are left as they are.
 * Searches with a file of one's own cannot live in an address and are left out.
 */
import type { Filters, SearchQuery } from '../api/types.ts';

const LIST_KEYS = ['collection', 'rights', 'manifest', 'labels', 'source'] as const;
const KEYS = ['q', ...LIST_KEYS, 'dateFrom', 'dateTo', 'similar', 'reprints', 'label', 'image', 'find', 'page'];

export function readUrlState(href: string, base: Filters, limit: number): SearchQuery | undefined {
  const params = new URL(href).searchParams;
  const filters: Filters = { ...base };
  for (const key of LIST_KEYS) {
    const values = params.getAll(key).filter(Boolean);
    if (values.length) filters[key] = values;
  }
  for (const key of ['dateFrom', 'dateTo'] as const) {
    const value = params.get(key);
    if (value) filters[key] = value;
  }
  const page = Math.max(1, Math.min(1000, Math.floor(Number(params.get('page') ?? 1)) || 1));
  const paged = { filters, limit, offset: (page - 1) * limit };
  const label = params.get('label') ?? undefined;
  const similar = params.get('similar');
  if (similar) return { kind: 'similar', itemId: similar, ...(label ? { label } : {}), ...paged };
  const reprints = params.get('reprints');
  if (reprints) return { kind: 'reprints', itemId: reprints, ...(label ? { label } : {}), ...paged, filters: {}, offset: 0 };
  const image = params.get('image');
  if (image && /^https?:\/\//.test(image)) {
    return params.get('find') === 'reprints'
      ? { kind: 'image-reprints', image: { kind: 'url', url: image }, preview: image, ...paged, filters: {}, offset: 0 }
      : { kind: 'image', image: { kind: 'url', url: image }, preview: image, ...paged };
  }
  const q = params.get('q')?.trim();
  if (q) return { kind: 'text', q, ...paged };
  if (Object.keys(filters).length > Object.keys(base).length || page > 1) return { kind: 'browse', ...paged };
  return undefined;
}

/** The address of a request: this page's, with the search's parameters replaced. */
export function urlOf(href: string, request: SearchQuery): string | undefined {
  const url = new URL(href);
  for (const key of KEYS) url.searchParams.delete(key);
  switch (request.kind) {
    case 'text':
      url.searchParams.set('q', request.q);
      break;
    case 'similar':
    case 'reprints':
      url.searchParams.set(request.kind, request.itemId);
      if (request.label) url.searchParams.set('label', request.label);
      break;
    case 'image':
    case 'image-reprints':
      if (request.image.kind !== 'url') return undefined;
      url.searchParams.set('image', request.image.url);
      if (request.kind === 'image-reprints') url.searchParams.set('find', 'reprints');
      break;
    case 'region':
    case 'feedback':
      // A box on a canvas and marked results belong to the viewer's state: the address keeps the filters.
      break;
    case 'browse':
      break;
  }
  const f = request.filters;
  for (const key of LIST_KEYS) for (const v of f[key] ?? []) url.searchParams.append(key, v);
  if (f.dateFrom) url.searchParams.set('dateFrom', f.dateFrom);
  if (f.dateTo) url.searchParams.set('dateTo', f.dateTo);
  if (request.offset > 0) url.searchParams.set('page', String(Math.floor(request.offset / request.limit) + 1));
  return url.href;
}

/** A history entry for the request, when it changes the address. */
export function writeUrlState(request: SearchQuery): void {
  const next = urlOf(location.href, request);
  if (next && next !== location.href) history.pushState({ reprise: true }, '', next);
}
