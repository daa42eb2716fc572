/**
 * Ranking scores computed the way Meilisearch computes `_rankingScore`, so that the embedded
 * store's keyword and hybrid scores can be compared with the Meilisearch store's.
 *
 * Keyword: Meilisearch sorts by ranking rules in order (words, typo, proximity, attribute,
 * exactness), each giving a document a rank out of a maximum, and folds them into one score
 * lexicographically (milli's `Rank::merge`): the first rule decides the bucket, the next ones
 * place the document inside it. The searchable fields are label then text, as the Meilisearch
 * store configures them. Here, rule by rule (keywordRanks):
 *   - words: the query's terms are dropped from the end (matching strategy `last`); a document
 *     that holds the first k of n terms ranks k of n. The last term matches as a prefix, as in
 *     Meilisearch, unless the query ends with a space.
 *   - typo: FTS5 has no typo tolerance, so every match is typo-free: the best rank, out of as
 *     many as Meilisearch would allow typos (1 for words of 5 letters, 2 from 9).
 *   - proximity: for each pair of consecutive terms, how close their nearest occurrences are in
 *     one field (0 when adjacent, one more when in reverse order, 7 at most).
 *   - attribute: the first field each term occurs in, then how far it is from its place in the
 *     query (milli's distance buckets, 10 at most).
 *   - exactness: a field that is the whole query ranks 3 of 3, one that starts with it 2 of 3,
 *     otherwise 1 of 3 refined by how many terms occur as whole words rather than as a prefix.
 * What is left out: typos (FTS5 matches exact words and the last word's prefixes), synonyms,
 * stop words, phrase queries and n-grams of split or joined words. FTS5's bm25 (label weighted
 * twice) orders documents whose scores are equal, and chooses which documents of a very large
 * bucket are scored at all (keyword.ts).
 *
 * Semantic: Meilisearch reports a vector match as (1 + cosine) / 2.
 */
export interface Rank {
  rank: number;
  max: number;
}

/** milli's `Rank::global_score`: ranks folded lexicographically into one number in 0…1. */
export function globalScore(ranks: Rank[]): number {
  let rank = 1;
  let max = 1;
  for (const inner of ranks) {
    rank = Math.max(0, rank - 1) * inner.max + inner.rank;
    max *= inner.max;
  }
  return rank / max;
}

/**
 * Words as FTS5's unicode61 tokenizer with remove_diacritics 2 sees them: letters and digits,
 * case and accents folded. The store tokenises queries and documents with it so that what it
 * scores is what FTS5 matched.
 */
export function tokenize(text: string): string[] {
  return text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((t) => t.length > 0);
}

/** Meilisearch reads at most 10 query words. */
export const MAX_QUERY_TERMS = 10;

export interface ParsedQuery {
  terms: string[];
  /** Whether the last term also matches words it begins. */
  prefixLast: boolean;
}

export function parseQuery(query: string): ParsedQuery {
  const seen = new Set<string>();
  const terms: string[] = [];
  for (const t of tokenize(query)) {
    if (seen.has(t)) continue;
    seen.add(t);
    terms.push(t);
    if (terms.length === MAX_QUERY_TERMS) break;
  }
  return { terms, prefixLast: terms.length > 0 && !/\s$/.test(query) };
}

const quote = (term: string) => `"${term.replace(/"/g, '""')}"`;

/** FTS5 expression for one term of the query. */
export function ftsTerm(query: ParsedQuery, index: number): string {
  const term = query.terms[index]!;
  return index === query.terms.length - 1 && query.prefixLast ? `${quote(term)}*` : quote(term);
}

/** FTS5 expression for documents holding exactly the first k terms as their longest run (the words bucket k). */
export function bucketExpression(query: ParsedQuery, k: number): string {
  const must = Array.from({ length: k }, (_, i) => ftsTerm(query, i)).join(' AND ');
  return k < query.terms.length ? `(${must}) NOT ${ftsTerm(query, k)}` : must;
}

const MAX_PAIR_COST = 7;
const MAX_POSITION_COST = 10;

function matches(query: ParsedQuery, termIndex: number, token: string): boolean {
  const term = query.terms[termIndex]!;
  return token === term || (termIndex === query.terms.length - 1 && query.prefixLast && token.startsWith(term));
}

/** Typos Meilisearch allows in a word by default (minWordSizeForTypos: 5 for one, 9 for two). */
const typosAllowed = (term: string) => ([...term].length >= 9 ? 2 : [...term].length >= 5 ? 1 : 0);

/** milli's position rule: the cost of a word found `distance` words away from its place in the query. */
function positionCost(distance: number): number {
  if (distance <= 1) return distance;
  if (distance <= 4) return 2;
  if (distance <= 7) return 3;
  if (distance <= 11) return 4;
  if (distance <= 16) return 5;
  if (distance <= 24) return 6;
  if (distance <= 64) return 7;
  if (distance <= 256) return 8;
  if (distance <= 1024) return 9;
  return MAX_POSITION_COST;
}

/**
 * The ranks of one document that holds the first `k` query terms, rule by rule as milli's
 * graph-based rules give them (rank = 1 + highest cost − cost, out of 1 + highest cost), over
 * the searchable fields in order: label, then text.
 */
export function keywordRanks(query: ParsedQuery, k: number, doc: { label: string; text: string }): Rank[] {
  const n = query.terms.length;
  const fields = [tokenize(doc.label), tokenize(doc.text)];
  // Per bucket term, per field: the positions where it occurs.
  const positions = Array.from({ length: k }, (_, t) => fields.map((tokens) => tokens.flatMap((token, p) => (matches(query, t, token) ? [p] : []))));
  const ranks: Rank[] = [{ rank: k, max: n }];

  // typo: FTS5 matched every term without a typo, the best rank whatever the maximum.
  const maxTypos = query.terms.slice(0, k).reduce((sum, term) => sum + typosAllowed(term), 0);
  ranks.push({ rank: maxTypos + 1, max: maxTypos + 1 });

  // proximity: consecutive terms, closest occurrences within one field; 7 when apart or in different fields.
  let proximityCost = 0;
  for (let t = 0; t + 1 < k; t++) {
    let best = MAX_PAIR_COST;
    for (let f = 0; f < fields.length; f++) {
      for (const a of positions[t]![f]!) {
        for (const b of positions[t + 1]![f]!) {
          const proximity = b > a ? b - a : a - b + 1;
          best = Math.min(best, proximity - 1);
        }
      }
    }
    proximityCost += best;
  }
  ranks.push({ rank: MAX_PAIR_COST * (k - 1) + 1 - proximityCost, max: MAX_PAIR_COST * (k - 1) + 1 });

  // attribute, part one (fid): each term costs the weight of the first field it occurs in (label 0, text 1).
  const maxWeight = fields.length - 1;
  const fidCost = positions.reduce((sum, byField) => sum + Math.max(0, byField.findIndex((ps) => ps.length > 0)), 0);
  ranks.push({ rank: maxWeight * k + 1 - fidCost, max: maxWeight * k + 1 });

  // attribute, part two (position): how far each term is from its place in the query.
  const positionCostSum = positions.reduce((sum, byField, t) => {
    let best = MAX_POSITION_COST;
    for (const ps of byField) for (const p of ps) best = Math.min(best, positionCost(Math.abs(p - t)));
    return sum + best;
  }, 0);
  ranks.push({ rank: MAX_POSITION_COST * k + 1 - positionCostSum, max: MAX_POSITION_COST * k + 1 });

  // exactness: a field that is the query, or starts with it; otherwise how many terms occur as whole words.
  const startsWith = (tokens: string[]) => query.terms.every((_term, i) => tokens[i] !== undefined && matches(query, i, tokens[i]!));
  if (fields.some((tokens) => tokens.length === n && startsWith(tokens))) {
    ranks.push({ rank: 3, max: 3 });
  } else if (fields.some(startsWith)) {
    ranks.push({ rank: 2, max: 3 });
  } else {
    ranks.push({ rank: 1, max: 3 });
    const words = new Set(fields.flat());
    const exactWords = query.terms.slice(0, k).filter((term) => words.has(term)).length;
    ranks.push({ rank: exactWords + 1, max: k + 1 });
  }
  return ranks;
}

/** The keyword ranking score of one document that holds the first `k` query terms. */
export const keywordScore = (query: ParsedQuery, k: number, doc: { label: string; text: string }) => globalScore(keywordRanks(query, k, doc));

/** Meilisearch's semantic ranking score of a cosine similarity. */
export const semanticScore = (cosine: number) => Math.min(1, Math.max(0, (1 + cosine) / 2));

export interface Scored<T> {
  id: string;
  /** The ranking score in 0…1, as reported. */
  score: number;
  value: T;
}

/**
 * Meilisearch's hybrid merge (milli `search/hybrid.rs`): both lists, best first, are merged by
 * score weighted by the ratio (keyword × (1 − ratio), semantic × ratio; the semantic hit first on
 * a tie), a document seen twice keeps its first place, then `offset` is skipped and `limit` kept.
 * A hit reports its own list's unweighted score, as Meilisearch's `_rankingScore` does, so scores
 * need not be in descending order when the ratio is not ½.
 */
export function mergeHybrid<T>(keyword: Scored<T>[], semantic: Scored<T>[], semanticRatio: number, offset: number, limit: number): Scored<T>[] {
  const out: Scored<T>[] = [];
  const seen = new Set<string>();
  let k = 0;
  let s = 0;
  let skipped = 0;
  while (out.length < limit && (k < keyword.length || s < semantic.length)) {
    let next: Scored<T>;
    if (s >= semantic.length) next = keyword[k++]!;
    else if (k >= keyword.length) next = semantic[s++]!;
    else {
      const left = semantic[s]!.score * semanticRatio;
      const right = keyword[k]!.score * (1 - semanticRatio);
      next = Math.abs(left - right) <= Number.EPSILON || left > right ? semantic[s++]! : keyword[k++]!;
    }
    if (seen.has(next.id)) continue;
    seen.add(next.id);
    if (skipped < offset) {
      skipped++;
      continue;
    }
    out.push(next);
  }
  return out;
}

/**
 * Meilisearch skips the semantic search when the keyword results fill the page and each would
 * still weigh 0.45 after the ratio (a 0.9 keyword score at ratio ½).
 */
export function keywordGoodEnough(keyword: Array<{ score: number }>, needed: number, semanticRatio: number): boolean {
  return keyword.length >= needed && keyword.every((hit) => hit.score * (1 - semanticRatio) >= 0.45);
}
