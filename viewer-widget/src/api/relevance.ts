/**
 * Scores in words. A cosine of 0.27 means a good match for a text query and a poor one for an
 * image query (CLIP-like models place text and images differently), and a patron cannot read
 * either: cards say how good a match is in three bands, and the raw score stays available to
 * specialists (`show-scores`). The bands and the default cut-offs are for the CLIP-like models
 * Reprise ships; a portal with another model sets `min-score` to its own cut-off.
 */
import type { ReprintHit, SearchPage } from './types.ts';

/** What was asked: words (text) or a picture (a region, an own image, an item's neighbours, examples). */
export type QueryKind = 'text' | 'image' | 'keyword';
export type Relevance = 'strong' | 'good' | 'possible';

/** Lower bounds of the strong and good bands, per score kind and query kind. */
const BANDS: Record<SearchPage['scoreKind'], Partial<Record<QueryKind, [strong: number, good: number]>>> = {
  cosine: { text: [0.3, 0.24], image: [0.85, 0.7] },
  ranking: { text: [0.8, 0.5], image: [0.8, 0.5], keyword: [0.8, 0.5] },
};

/**
 * The default cut-off (the API's minScore) of a query kind: below it a hit is unrelated rather
 * than a weak match. Only cosine searches get one: keyword and hybrid rankings end by themselves.
 */
export const DEFAULT_MIN_SCORE: Record<QueryKind, number | undefined> = { text: 0.18, image: 0.5, keyword: undefined };

export function relevanceOf(score: number, scoreKind: SearchPage['scoreKind'], query: QueryKind): Relevance {
  const [strong, good] = BANDS[scoreKind][query] ?? BANDS[scoreKind].text ?? [0.8, 0.5];
  return score >= strong ? 'strong' : score >= good ? 'good' : 'possible';
}

/** A reprint's confidence in bands: the same photograph, very likely, or possibly. */
export function reprintCertainty(hit: Pick<ReprintHit, 'confidence'>): Relevance {
  return hit.confidence >= 0.9 ? 'strong' : hit.confidence >= 0.6 ? 'good' : 'possible';
}

/** Three decimals in the reader's notation (0.873, 0,873); never "-0.000". */
export function formatScore(score: number, lang: string): string {
  const value = Math.abs(score) < 0.0005 ? 0 : score;
  try {
    return new Intl.NumberFormat(lang, { minimumFractionDigits: 3, maximumFractionDigits: 3 }).format(value);
  } catch {
    return value.toFixed(3);
  }
}
