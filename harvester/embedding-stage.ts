import type { EmbeddedImage, Encoders } from '../models/index.ts';
import { keepModelLabels, labellerFor, withLabels } from './item-labels.ts';
import type { ItemLabels } from '../models/labels/labeller.ts';

/** An embedded canvas and the labels the model gives it (models.labels, or a classifier's categories). */
type LabelledImage = EmbeddedImage & { labels?: ItemLabels };
import type { ItemFields, StoreItem, VectorStore } from '../store/types.ts';
import type { LanguageMap } from './iiif/types.ts';
import type { HarvestedItem, IndexStage, IndexedRecord, StageOutcome } from './stage.ts';

const firstValue = (map: LanguageMap | undefined): string => {
  if (!map) return '';
  return map.en?.[0] ?? map.none?.[0] ?? Object.values(map).find((v) => v.length)?.[0] ?? '';
};
const allValues = (map: LanguageMap | undefined): string[] => (map ? Object.values(map).flat() : []);

/** A navDate as a sortable ISO date, or nothing when it is not a date. */
function isoDate(navDate: string | undefined): string | undefined {
  if (!navDate) return undefined;
  const t = Date.parse(navDate);
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}

/** The store's flat fields for a harvested canvas: what portals filter, facet and search on. */
export function itemFields(itemId: string, record: IndexedRecord): ItemFields {
  const metadataValues = record.metadata.flatMap((m) => allValues(m.value));
  const text = [
    ...allValues(record.label),
    ...allValues(record.manifestLabel),
    ...allValues(record.summary),
    ...metadataValues,
    ...allValues(record.requiredStatement?.value),
  ];
  return {
    id: itemId,
    canvasId: record.canvasId,
    manifestId: record.manifestId,
    manifestUrl: record.manifestUrl,
    source: record.sourceUrl,
    collections: record.collectionPath,
    label: firstValue(record.label) || firstValue(record.manifestLabel),
    labels: [],
    date: isoDate(record.navDate),
    rights: record.rights,
    // Bounded: a manifest with pages of metadata must not make one document huge.
    text: [...new Set(text)].join(' \n').slice(0, 20_000),
    record: record as unknown as Record<string, unknown>,
  };
}

/**
 * The harvester's stage once encoders and a store are configured: embeds each batch of
 * decoded canvases with the image tower and upserts them. Upserts replace by id, so a
 * batch sent again after a crash changes nothing. The pipeline may hand over the next batch
 * while this one is being stored: batches are embedded one at a time, in the order they came.
 */
export class EmbeddingStage implements IndexStage {
  readonly id: string;
  /** The last embedding queued: two inferences at once would only fight over the same cores and memory. */
  private encoding: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly encoders: Encoders,
    private readonly store: VectorStore,
  ) {
    this.id = encoders.config.modelId;
  }

  async index(items: HarvestedItem[]): Promise<StageOutcome[]> {
    const embedded = await this.embed(items);
    const ready: StoreItem[] = [];
    const outcomes: StageOutcome[] = [];
    items.forEach((item, i) => {
      const e = embedded[i]!;
      if (e instanceof Error) outcomes.push({ itemId: item.itemId, ok: false, reason: `embedding failed: ${e.message}` });
      else {
        ready.push({ ...withLabels(itemFields(item.itemId, item.record), e.labels), vector: e.vector });
        outcomes.push({ itemId: item.itemId, ok: true });
      }
    });
    if (ready.length) await this.store.upsert(ready);
    return outcomes;
  }

  private embed(items: HarvestedItem[]): Promise<Array<LabelledImage | Error>> {
    const embedded = this.encoding.then(() => this.embedNow(items));
    this.encoding = embedded.catch(() => {});
    return embedded;
  }

  /**
   * A canvas whose pixels cannot be prepared fails alone; a failing model fails the batch with its
   * own error (the pipeline records it on every item) instead of being retried image by image.
   */
  private async embedNow(items: HarvestedItem[]): Promise<Array<LabelledImage | Error>> {
    const inputs = items.map((item) => ({ data: item.image.data, width: item.image.width, height: item.image.height, channels: 3 as const }));
    const labeller = await labellerFor(this.encoders);
    const embedded = await this.encoders.image.embedEach(inputs);
    return embedded.map((e) => (e instanceof Error ? e : { ...e, labels: labeller?.label(e) }));
  }

  async updateMetadata(records: Array<{ itemId: string; record: IndexedRecord }>): Promise<void> {
    await this.store.updateFields(await keepModelLabels(this.store, records.map((r) => itemFields(r.itemId, r.record))));
  }

  async remove(itemIds: string[]): Promise<void> {
    if (itemIds.length) await this.store.delete(itemIds);
  }

  async close(): Promise<void> {}
}
