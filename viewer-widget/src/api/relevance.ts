/**
 * Scores in words for the widget: the bands and the default cut-offs (shared with the server,
 * common/relevance.ts, where they are explained), reprint certainty, and raw scores for
 * specialists (`show-scores`). A portal with another model sets `min-score` to its own cut-off.
 */
import type { ReprintHit } from './types.ts';
import type { Relevance } from '../../../common/relevance.ts';

export { relevanceOf, DEFAULT_MIN_SCORE, type QueryKind, type Relevance } from '../../../common/relevance.ts';

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
