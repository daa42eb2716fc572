import type { SqlFilter } from './filters.ts';
import { bucketExpression, ftsTerm, keywordScore, parseQuery } from './ranking.ts';
import type { SqliteRepository } from './sqlite-repository.ts';

export interface KeywordHit {
  rowid: number;
  score: number;
}

/**
 * Scoring reads each document's text, so a bucket larger than this many times the page is
 * scored only on its best bm25 documents: the order inside a huge bucket is then approximate,
 * the buckets themselves (how many query words a document holds) never are.
 */
const BUCKET_OVERSAMPLE = 5;
const MIN_BUCKET_SCORED = 200;

/**
 * The best `needed` documents for a query with their ranking scores (ranking.ts), and how many
 * documents match at all. Buckets are read from all terms down to the first term alone, as
 * Meilisearch's `last` strategy drops words, and only as far as the page needs.
 */
export function keywordSearch(repo: SqliteRepository, query: string, filter: SqlFilter, needed: number): { hits: KeywordHit[]; total: number } {
  const parsed = parseQuery(query);
  if (parsed.terms.length === 0) {
    // No words: every item matches with a perfect score, as in Meilisearch's placeholder search.
    const total = repo.countItems(filter);
    return { hits: repo.listRowids(filter, 0, needed).map((rowid) => ({ rowid, score: 1 })), total };
  }
  const total = repo.countMatches(ftsTerm(parsed, 0), filter);
  const hits: KeywordHit[] = [];
  for (let k = parsed.terms.length; k >= 1 && hits.length < needed; k--) {
    const expression = bucketExpression(parsed, k);
    const rows = repo.matches(expression, filter, Math.max(MIN_BUCKET_SCORED, needed * BUCKET_OVERSAMPLE));
    const scored = rows.map((row, order) => ({ rowid: row.rowid, score: keywordScore(parsed, k, row), order }));
    // Stable on bm25 order: equal scores stay best bm25 first.
    scored.sort((a, b) => b.score - a.score || a.order - b.order);
    for (const s of scored) hits.push({ rowid: s.rowid, score: s.score });
  }
  return { hits: hits.slice(0, needed), total };
}
