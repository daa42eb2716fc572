/**
 * Scores in words for the widget: the bands (shared with the server's IIIF Content Search texts,
 * plugin/relevance.ts), the default cut-offs, reprint certainty, and raw scores for specialists
 * (`show-scores`). The cut-offs are for the CLIP-like models Reprise ships; a portal with another
 * model sets `min-score` to its own cut-off.
 */
import type { ReprintHit } from './types.ts';
import type { QueryKind, Relevance } from '../../../plugin/relevance.ts';

export { relevanceOf, type QueryKind, type Relevance } from '../../../plugin/relevance.ts';

/**
 * The default cut-off (the API's minScore) of a query kind: below it a hit is unrelated rather
 * than a weak match. Only cosine searches get one: keyword and hybrid rankings end by themselves.
 */
export const DEFAULT_MIN_SCORE: Record<QueryKind, number | undefined> = { text: 0.18, image: 0.5, keyword: undefined };

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
