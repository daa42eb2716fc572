/**
 * Reprise viewer widget: `<reprise-search>`, `<reprise-similar>` and `<reprise-hit>`, defined
 * on import (once: importing twice, or beside another copy, does not throw), and the
 * OpenSeadragon integration. See viewer-widget/README.md.
 */
import { RepriseHit } from './elements/reprise-hit.ts';
import { RepriseImageQuery } from './elements/reprise-image-query.ts';
import { RepriseMap } from './elements/reprise-map.ts';
import { RepriseSearch } from './elements/reprise-search.ts';
import { RepriseSimilar } from './elements/reprise-similar.ts';

export { RepriseHit, RepriseImageQuery, RepriseMap, RepriseSearch, RepriseSimilar };
export type { Mark } from './elements/reprise-hit.ts';
export { WHOLE_CANVAS } from './elements/reprise-similar.ts';
export { RepriseClient, RepriseApiError, problemOf, type PageOptions, type Stats } from './api/client.ts';
export type { AnyHit, Box, Facets, FacetField, Filters, Hit, ImageServiceRef, ItemDetails, OwnImage, Problem, RegionQuery, ReprintHit, ReprintsPage, SearchPage, SearchQuery } from './api/types.ts';
export { isReprint } from './api/types.ts';
export { hitLabel, wholeThumbnail, xywhOf, fillHref, iiifDragHref } from './api/hit-display.ts';
export { relevanceOf, reprintCertainty, DEFAULT_MIN_SCORE, type QueryKind, type Relevance } from './api/relevance.ts';
export { readUrlState, urlOf } from './elements/url-state.ts';
export { t, LANGUAGES, type Strings } from './i18n/strings.ts';
export * from './openseadragon/index.ts';

const ELEMENTS: Array<[string, CustomElementConstructor]> = [
  ['reprise-hit', RepriseHit],
  ['reprise-image-query', RepriseImageQuery],
  ['reprise-map', RepriseMap],
  ['reprise-search', RepriseSearch],
  ['reprise-similar', RepriseSimilar],
];
for (const [name, element] of ELEMENTS) if (!customElements.get(name)) customElements.define(name, element);

declare global {
  interface HTMLElementTagNameMap {
    'reprise-hit': RepriseHit;
    'reprise-image-query': RepriseImageQuery;
    'reprise-map': RepriseMap;
    'reprise-search': RepriseSearch;
    'reprise-similar': RepriseSimilar;
  }
}
