/**
 * The harvester: IIIF documents → the journal → fetched, decoded images → an indexing stage.
 * Other folders enter it here.
 */
export { HarvestService, HarvestInterruptedError, journalPath, type HarvestServiceDeps, type HarvestRunOptions } from './harvest-service.ts';
export { emptySummary, type HarvestEvent, type HarvestEventListener, type HarvestSummary } from './events.ts';
export { keepsIndexedBy, type HarvestedItem, type IndexedRecord, type IndexStage, type StageOutcome } from './stage.ts';
export { createStage } from './create-stage.ts';
export { EmbeddingStage, itemFields } from './embedding-stage.ts';
export { MetadataStage, METADATA_STAGE_ID } from './metadata-stage.ts';
export { RecordingStage, type RecordedItem } from './recording-stage.ts';
export {
  FeatureStage,
  FEATURE_STAGE_ID,
  withFeatureStage,
  reprintItem,
  type FeatureStageOptions,
} from './feature-stage.ts';
export { importEmbeddings, EmbeddingModelMismatchError, type ImportContext, type ImportReport } from './embeddings-import.ts';
export { Journal, type CanvasRow, type CanvasStatus, type DocumentRow, type SourceRow } from './journal/journal.ts';
export { acquireLock, JournalLockedError } from './journal/lock.ts';
export { itemIdOf } from './util/hash.ts';
export type { CanvasRecord, CanvasRegion, ImageServiceRef, LabelValue, LanguageMap } from './iiif/types.ts';
export { regionItemId, regionItemIds, regionLabel, regionOfItem, regionRecords, type RegionOfCanvas, type RegionRecord } from './region-items.ts';
export { relabelCollection, type RelabelProgress, type RelabelSummary } from './relabel-collection.ts';
export { rightsName } from './metadata/rights.ts';
