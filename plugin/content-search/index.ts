export { contentSearchRouter } from './router.ts';
export { contentSearchQuery, contentSearchParams, serviceBlocksQuery } from './schemas.ts';
export { manifestKey, manifestIdFromKey } from './manifest-key.ts';
export {
  contentSearchServiceFor,
  contentSearchUrl,
  withContentSearchServices,
  CONTENT_SEARCH_PATH,
  type ContentSearchServices,
  type SearchService1Block,
  type SearchService2Block,
} from './services.ts';
export { searchResponseV1, searchResponseV2, hitTarget, xywh, HIT_MOTIVATION, type ContentSearchResult, type ContentSearchHit } from './responses.ts';
