/**
 * Scores in words, for everything a patron reads: the widget's cards and the hit texts of IIIF
 * Content Search (which viewers show as they are). A cosine of 0.27 means a good match for a text
 * query and a poor one for an image query (CLIP-like models place text and images differently),
 * and a patron can read neither: a match is strong, good or possible. The bands are for the
 * CLIP-like models Reprise ships. Pure, with no dependency: the widget bundles it.
 */

/** How the API scored a page: cosine similarity (−1…1) or a hybrid/keyword ranking score (0…1). */
export type ScoreKind = 'cosine' | 'ranking';
/** What was asked: words (text) or a picture (a region, an own image, an item's neighbours, examples). */
export type QueryKind = 'text' | 'image' | 'keyword';
export type Relevance = 'strong' | 'good' | 'possible';

/** Lower bounds of the strong and good bands, per score kind and query kind. */
const BANDS: Record<ScoreKind, Partial<Record<QueryKind, [strong: number, good: number]>>> = {
  cosine: { text: [0.3, 0.24], image: [0.85, 0.7] },
  ranking: { text: [0.8, 0.5], image: [0.8, 0.5], keyword: [0.8, 0.5] },
};

export function relevanceOf(score: number, scoreKind: ScoreKind, query: QueryKind): Relevance {
  const [strong, good] = BANDS[scoreKind][query] ?? BANDS[scoreKind].text ?? [0.8, 0.5];
  return score >= strong ? 'strong' : score >= good ? 'good' : 'possible';
}

/** The bands in English, as the widget's cards say them (its French is in viewer-widget/src/i18n/strings.ts). */
export const RELEVANCE_EN: Record<Relevance, string> = { strong: 'Strong match', good: 'Good match', possible: 'Possible match' };
