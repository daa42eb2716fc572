export { contentSearchRouter } from './router.ts';
export { contentSearchQuery, contentSearchParams, DEFAULT_CONTENT_SEARCH_LIMIT } from './schemas.ts';
export { manifestKey, manifestIdFromKey } from './manifest-key.ts';
export {
  contentSearchServiceFor,
  contentSearchUrl,
  CONTENT_SEARCH_PATH,
  type ContentSearchServices,
  type SearchService1Block,
  type SearchService2Block,
} from './services.ts';
export { searchResponseV1, searchResponseV2, xywh, type ContentSearchResult } from './responses.ts';
