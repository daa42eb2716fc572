import type { Index, SearchParams, SearchResponse } from 'meilisearch';
import type { FacetField, ItemFilter, Page, SearchHit, SearchResult } from '../types.ts';
import { InvalidQueryError } from '../errors.ts';
import { dateValue, fromDocument, isValidDocumentId, metaValue } from './documents.ts';

/**
 * A value in a Meilisearch filter, always double-quoted. Since Meilisearch 1.4 the filter parser
 * reads `\"` inside quotes as a quote and `\\` as a backslash, and every backslash must be escaped
 * (1.4.0 changelog); nothing else needs escaping, whatever the value holds (spaces, AND/OR,
 * brackets, quotes of the other kind).
 */
export function quote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function list(v: string | string[]): string[] {
  const values = Array.isArray(v) ? v : [v];
  for (const x of values) if (typeof x !== 'string') throw new InvalidQueryError(`filter values must be strings, got ${JSON.stringify(x)}`);
  return values;
}

export function anyOf(attribute: string, values: string[]): string {
  return `${attribute} IN [${values.map(quote).join(', ')}]`;
}

/** The filter matches nothing: an empty list of manifests, say. Meilisearch has no literal for false. */
export const MATCH_NOTHING = Symbol('match nothing');

/**
 * ItemFilter as a Meilisearch filter expression: AND between fields, any-of within a field.
 * Undefined when nothing is filtered.
 */
export function buildFilter(filter: ItemFilter | undefined): string | undefined | typeof MATCH_NOTHING {
  if (!filter) return undefined;
  const parts: string[] = [];
  const field = (attr: string, v: string | string[] | undefined) => {
    if (v === undefined) return true;
    const values = list(v);
    if (values.length === 0) return false;
    parts.push(anyOf(attr, values));
    return true;
  };
  if (filter.manifest !== undefined) {
    const values = list(filter.manifest);
    if (values.length === 0) return MATCH_NOTHING;
    // A manifest is named by its URL or by its id; both are kept.
    parts.push(`(${anyOf('manifestId', values)} OR ${anyOf('manifestUrl', values)})`);
  }
  if (!field('collections', filter.collection)) return MATCH_NOTHING;
  if (!field('rights', filter.rights)) return MATCH_NOTHING;
  if (!field('labels', filter.labels)) return MATCH_NOTHING;
  if (!field('source', filter.source)) return MATCH_NOTHING;
  if (filter.meta !== undefined) {
    if (typeof filter.meta !== 'object' || filter.meta === null || Array.isArray(filter.meta)) throw new InvalidQueryError('filter meta: expected an object of facet name → values');
    for (const [name, v] of Object.entries(filter.meta)) {
      const values = list(v);
      if (values.length) parts.push(anyOf(META_ATTRIBUTE, values.map((x) => metaValue(name, x))));
    }
  }
  if (filter.dateFrom !== undefined) parts.push(`dateValue >= ${bound(filter.dateFrom, 'start', 'dateFrom')}`);
  if (filter.dateTo !== undefined) parts.push(`dateValue <= ${bound(filter.dateTo, 'end', 'dateTo')}`);
  return parts.length ? parts.join(' AND ') : undefined;
}

function bound(value: string, which: 'start' | 'end', key: string): number {
  const v = typeof value === 'string' ? dateValue(value, which) : undefined;
  if (v === undefined) throw new InvalidQueryError(`${key} ${JSON.stringify(value)} is not an ISO 8601 date (e.g. 1936, 1936-05 or 1936-05-17)`);
  return v;
}

/** The filter for deleteWhere: items of any of these manifests (URL or id) or sources. */
export function deleteFilter(where: { manifest?: string[]; source?: string[] }): string | undefined {
  const ors: string[] = [];
  const manifests = where.manifest ?? [];
  const sources = where.source ?? [];
  if (manifests.length) ors.push(anyOf('manifestId', list(manifests)), anyOf('manifestUrl', manifests));
  if (sources.length) ors.push(anyOf('source', list(sources)));
  return ors.length ? ors.join(' OR ') : undefined;
}

export function checkPage(page: Page): { limit: number; offset: number } {
  const { limit } = page;
  const offset = page.offset ?? 0;
  if (!Number.isInteger(limit) || limit < 1) throw new InvalidQueryError(`limit must be a positive integer, got ${limit}`);
  if (!Number.isInteger(offset) || offset < 0) throw new InvalidQueryError(`offset must be a non-negative integer, got ${offset}`);
  return { limit, offset };
}

export function checkVectorValues(vector: Float32Array): number[] {
  if (!(vector instanceof Float32Array) && !Array.isArray(vector)) throw new InvalidQueryError('the query vector must be a Float32Array');
  const out = Array.from(vector);
  if (out.some((x) => !Number.isFinite(x))) throw new InvalidQueryError('the query vector has a non-finite value');
  return out;
}

export function checkSimilarId(id: string): void {
  if (typeof id !== 'string' || !isValidDocumentId(id)) throw new InvalidQueryError(`no item has the id ${JSON.stringify(id)}`);
}

/**
 * How a hit's `_rankingScore` becomes the common score. For pure vector search Meilisearch's score
 * is (1 + cosine) / 2 (its cosine distance is (1 − cosine) / 2, and the score is 1 − distance), so the
 * cosine is 2·score − 1, comparable with the embedded store's. Keyword and hybrid scores are
 * Meilisearch's own ranking scores, which the interface takes as they are.
 */
export type ScoreKind = 'vector' | 'ranking';

export function toScore(rankingScore: number | undefined, kind: ScoreKind): number {
  const s = rankingScore ?? 0;
  if (kind === 'ranking') return s;
  return Math.max(-1, Math.min(1, 2 * s - 1));
}

export function toResult(response: SearchResponse<Record<string, unknown>>, kind: ScoreKind): SearchResult {
  const hits: SearchHit[] = response.hits.map((hit) => ({
    id: String(hit.id),
    score: toScore(hit._rankingScore, kind),
    item: fromDocument(hit),
  }));
  const total = (response as { estimatedTotalHits?: number }).estimatedTotalHits;
  return total === undefined ? { hits } : { hits, total };
}

/**
 * A search with a vector (pure or hybrid) ranks the documents without one last, all with a ranking
 * score of 0 (milli's vector sort gives the rest of the candidates a similarity of none, scored 0):
 * those are items stored without a vector, and a vector search leaves them out. A real vector
 * scores 0 only when exactly opposite to the query, which nothing loses by leaving out too.
 */
export async function runSearch(index: Index, params: SearchParams, kind: ScoreKind): Promise<SearchResult> {
  const response = await index.search<Record<string, unknown>>(undefined, { ...params, showRankingScore: true });
  if (params.vector !== undefined) response.hits = response.hits.filter((hit) => hit._rankingScore !== 0);
  return toResult(response, kind);
}

/** The store's facet names and the document fields behind them (`meta.<name>` facets: META_ATTRIBUTE). */
export const FACET_ATTRIBUTE: Record<Exclude<FacetField, `meta.${string}`>, string> = {
  manifest: 'manifestId',
  collection: 'collections',
  rights: 'rights',
  labels: 'labels',
  source: 'source',
  decade: 'decade',
  year: 'year',
};

/**
 * Metadata facets live in one array of `name␟value` strings: one filterable attribute for any
 * facet names a configuration gives, without changing the index's settings for each.
 */
export const META_ATTRIBUTE = 'metaFacets';
export { META_SEPARATOR, metaValue } from './documents.ts';

/** The document attribute behind a facet. */
export function facetAttribute(field: FacetField): string {
  return field.startsWith('meta.') ? META_ATTRIBUTE : FACET_ATTRIBUTE[field as keyof typeof FACET_ATTRIBUTE];
}
