/**
 * Reprint detection, the whole capability: local features and their native binding (features/),
 * the visual vocabulary, the reprint index (reprint-index/), the service that searches and groups,
 * the collection-wide scan on its own thread, and the one query pipeline (query.ts). The API, the
 * command line and the harvester are adapters over it. Other folders enter it here.
 */
export { ReprintService, UnknownItemError, DEFAULT_SHORTLIST, DEFAULT_SCAN_SHORTLIST } from './reprint-service.ts';
export { groupPairs } from './grouping.ts';
export type * from './types.ts';
export { scanInThread, SCAN_HEAP_MB, SCAN_STOP_GRACE_MS, type ScanInThreadOptions, type ScanResult } from './scan-thread.ts';
export { queryReprints, cropRegion, NothingToMatchError, type ImageQuery, type ReprintQuery } from './query.ts';
export { collectionVocabulary, openReprintIndex, openReprintService, reprintIndexDir, reprintIndexExists } from './collection-index.ts';
export { canvasEntries, extractAllViews, featureSource, FEATURE_VERSION, REPRINT_IMAGE_SIDE, reprintEntries, type CanvasImages, type ExtractViews } from './canvas-features.ts';
export { regionEntries, type CanvasRegion, type CanvasWithRegions } from './region-features.ts';
export { samePrinting } from './same-printing.ts';
export { partId, ReprintIndex, ReprintIndexError, type IndexedImage, type RegionOnCanvas, type ReprintEntry, type ReprintItem, type StoredPair } from './reprint-index/index.ts';
export {
  confidence,
  DEFAULT_EXTRACT,
  DEFAULT_MIN_INLIERS,
  DEFAULT_TRAIN,
  DEFAULT_VERIFY,
  DEFAULT_VIEWS,
  extractFeatures,
  extractViews,
  FeatureInputError,
  INSTALL_HINT,
  loadDefaultVocabulary,
  localFeatures,
  localFeaturesAvailable,
  LocalFeaturesUnavailableError,
  trainVocabulary,
  Vocabulary,
  type AnalysisFrame,
  type ImageFeatures,
  type PairMatch,
  type RawPixels,
  type Rect,
  type Similarity,
  type TrainOptions,
  type VerifyOptions,
  type ViewOptions,
} from './features/index.ts';
