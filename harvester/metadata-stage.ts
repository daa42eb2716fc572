import type { FacetsConfig } from '../config/index.ts';
import type { VectorStore } from '../store/index.ts';
import { itemFields } from './embedding-stage.ts';
import type { HarvestedItem, IndexStage, IndexedRecord, StageOutcome } from './stage.ts';
import { regionRecords } from './region-items.ts';

/** A canvas's fields and its region items' (region-items.ts), as the store keeps them without vectors. */
function fieldsWithRegions(itemId: string, record: IndexedRecord, facets: FacetsConfig | undefined) {
  return [itemFields(itemId, record, facets), ...regionRecords(itemId, record).map((r) => itemFields(r.itemId, r.record, facets))];
}

/** Recorded in the journal for canvases stored without vectors: any other stage id makes the first run with a model embed them. */
export const METADATA_STAGE_ID = 'metadata-only';

/**
 * The harvester's stage when no model is available: each canvas is stored in the index with its
 * fields and record but no vector, so that items, keyword search, facets and filters work at once.
 * The first harvest with a model embeds them from the image cache (the journal records this
 * stage's id, which is not the model's), without downloading the images again.
 */
export class MetadataStage implements IndexStage {
  readonly id = METADATA_STAGE_ID;
  readonly metadataOnly = true;

  constructor(
    private readonly store: VectorStore,
    /** config.facets: which metadata become facets. */
    private readonly facets?: FacetsConfig,
  ) {}

  async index(items: HarvestedItem[]): Promise<StageOutcome[]> {
    if (items.length) await this.store.upsert(items.flatMap((item) => fieldsWithRegions(item.itemId, item.record, this.facets)));
    return items.map((item) => ({ itemId: item.itemId, ok: true as const }));
  }

  async updateMetadata(records: Array<{ itemId: string; record: IndexedRecord }>): Promise<void> {
    await this.store.updateFields(records.flatMap((r) => fieldsWithRegions(r.itemId, r.record, this.facets)));
  }

  async remove(itemIds: string[]): Promise<void> {
    if (itemIds.length) await this.store.delete(itemIds);
  }

  async close(): Promise<void> {}
}
