import type { EmbeddedImage, Encoders } from '../models/index.ts';
import { facetsConfigSchema, type FacetsConfig } from '../config/index.ts';
import { metadataDate, metadataFacets } from './metadata/facets.ts';
import { normaliseRights } from './metadata/rights.ts';
import { keepModelLabels, labellerFor, withLabels } from './item-labels.ts';
import type { ItemLabels } from '../models/index.ts';

/** An embedded canvas, the labels the model gives it (models.labels, or a classifier's categories), and its regions' vectors by item id. */
type LabelledImage = EmbeddedImage & { labels?: ItemLabels; regions?: Map<string, Float32Array> };
import type { ItemFields, StoreItem, UpsertItem, VectorStore } from '../store/index.ts';
import type { LanguageMap } from './iiif/types.ts';
import type { HarvestedItem, IndexStage, IndexedRecord, StageOutcome } from './stage.ts';
import { regionLabel, regionRecords, type RegionRecord } from './region-items.ts';

const firstValue = (map: LanguageMap | undefined): string => {
  if (!map) return '';
  return map.en?.[0] ?? map.none?.[0] ?? Object.values(map).find((v) => v.length)?.[0] ?? '';
};
const allValues = (map: LanguageMap | undefined): string[] => (map ? Object.values(map).flat() : []);

/** A navDate as a sortable ISO date, or nothing when it is not a date. */
function isoDate(navDate: string | undefined): string | undefined {
  if (!navDate) return undefined;
  const t = Date.parse(navDate);
  if (Number.isNaN(t)) return undefined;
  // With an offset, as written: in UTC, "1902-01-01T00:00:00+01:00" would fall in 1901 (and its decade).
  if (/^\d{4}-\d{2}-\d{2}T[\d:.]+[+-]\d{2}:?\d{2}$/.test(navDate.trim())) return navDate.trim();
  return new Date(t).toISOString();
}

/** Absent rather than empty, so that what a store returns deep-equals what was given. */
const nonEmpty = (facets: Record<string, string[]>) => (Object.keys(facets).length ? { facets } : {});

/** The facets of the default configuration, for callers that pass none. */
const DEFAULT_FACETS: FacetsConfig = facetsConfigSchema.parse({});

/**
 * The store's flat fields for a harvested canvas: what portals filter, facet and search on. Rights
 * are normalised (one value per licence), metadata filed under facets (config facets), and the
 * date is navDate, else a date the metadata gives.
 */
export function itemFields(itemId: string, record: IndexedRecord | RegionRecord, facets: FacetsConfig = DEFAULT_FACETS): ItemFields {
  const metadataValues = record.metadata.flatMap((m) => allValues(m.value));
  // A region item is found by what the institution's annotations say of it, then by its canvas's words.
  const region = 'region' in record ? record.region : undefined;
  const text = [
    ...(region?.text ?? []),
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
    label: regionLabel(region) || firstValue(record.label) || firstValue(record.manifestLabel),
    labels: [],
    date: isoDate(record.navDate) ?? metadataDate(record.metadata, facets),
    rights: normaliseRights(record.rights),
    ...nonEmpty(metadataFacets(record.metadata, facets)),
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
    /** config.facets: which metadata become facets. */
    private readonly facets?: FacetsConfig,
  ) {
    this.id = encoders.config.modelId;
  }

  async index(items: HarvestedItem[]): Promise<StageOutcome[]> {
    const embedded = await this.embed(items);
    const ready: UpsertItem[] = [];
    const outcomes: StageOutcome[] = [];
    items.forEach((item, i) => {
      const e = embedded[i]!;
      if (e instanceof Error) outcomes.push({ itemId: item.itemId, ok: false, reason: `embedding failed: ${e.message}` });
      else {
        ready.push({ ...withLabels(itemFields(item.itemId, item.record, this.facets), e.labels), vector: e.vector } satisfies StoreItem);
        // Region items beside their canvas; one whose pixels were not there (outside the image) is found by its words only.
        for (const region of regionRecords(item.itemId, item.record)) {
          const vector = e.regions?.get(region.itemId);
          const fields = itemFields(region.itemId, region.record, this.facets);
          ready.push(vector ? { ...fields, vector } : fields);
        }
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
    const out: Array<LabelledImage | Error> = embedded.map((e) => (e instanceof Error ? e : { ...e, labels: labeller?.label(e) }));
    for (const [i, item] of items.entries()) {
      const canvas = out[i]!;
      if (canvas instanceof Error || !item.regions?.length) continue;
      canvas.regions = await this.embedRegions(item);
    }
    return out;
  }

  /**
   * The vectors of a canvas's regions: those fetched on their own from their image (one that cannot
   * be decoded is cut from the canvas image instead), the others cut from the canvas image, which is
   * decoded once for all of them.
   */
  private async embedRegions(item: HarvestedItem): Promise<Map<string, Float32Array>> {
    const vectors = new Map<string, Float32Array>();
    const own = (item.regions ?? []).filter((r) => r.bytes);
    if (own.length) {
      const embedded = await this.encoders.image.embedEach(own.map((r) => r.bytes!));
      embedded.forEach((e, k) => {
        if (!(e instanceof Error)) vectors.set(own[k]!.itemId, e.vector);
      });
    }
    const cut = (item.regions ?? []).filter((r) => r.crop && !vectors.has(r.itemId));
    if (cut.length) {
      const image = { data: item.image.data, width: item.image.width, height: item.image.height, channels: 3 as const };
      const embedded = await this.encoders.image.embedRegions(image, cut.map((r) => r.crop!));
      embedded.forEach((vector, k) => vectors.set(cut[k]!.itemId, vector));
    }
    return vectors;
  }

  async updateMetadata(records: Array<{ itemId: string; record: IndexedRecord }>): Promise<void> {
    const fields = records.flatMap((r) => [
      itemFields(r.itemId, r.record, this.facets),
      ...regionRecords(r.itemId, r.record).map((region) => itemFields(region.itemId, region.record, this.facets)),
    ]);
    await this.store.updateFields(await keepModelLabels(this.store, fields));
  }

  async remove(itemIds: string[]): Promise<void> {
    if (itemIds.length) await this.store.delete(itemIds);
  }

  async close(): Promise<void> {}
}
