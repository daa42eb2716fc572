/**
 * Scores in words, and where a score stops being a match, for everything a patron reads: the
 * widget's cards and cut-offs, and the hits of IIIF Content Search (which viewers show as they
 * are). A cosine of 0.27 means a good match for a text query and a poor one for an image query
 * (CLIP-like models place text and images differently), and a patron can read neither: a match is
 * strong, good or possible, and below a cut-off it is no match at all. Every such number of
 * Reprise's is here, for the CLIP-like models Reprise ships.
 *
 * Pure, with no dependency: the widget bundles it, and the configuration's defaults read it.
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

/*
 * The cut-offs below are NOT calibrated on real CLIP weights: they were set by hand, and no
 * measurement of precision or recall on a real model stands behind them. A portal that cares, or
 * uses another model (SigLIP scores lower: about 0.1 for a text match), sets its own: the
 * widget's `min-score`, `api.contentSearch.minScore`.
 */

/**
 * The widget's default cut-off (the API's minScore) of a query kind: below it a hit is unrelated
 * rather than a weak match. Only cosine searches get one: keyword and hybrid rankings end by themselves.
 */
export const DEFAULT_MIN_SCORE: Record<QueryKind, number | undefined> = { text: 0.18, image: 0.5, keyword: undefined };

/**
 * The default of `api.contentSearch.minScore`: the cosine a canvas needs to be a hit of IIIF
 * Content Search, a text query. That it differs from the widget's text cut-off says nothing: the
 * two were chosen apart, and neither was measured.
 */
export const CONTENT_SEARCH_MIN_SCORE = 0.2;
