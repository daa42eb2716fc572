import {
  canvasEntries,
  extractAllViews,
  FEATURE_VERSION,
  localFeatures,
  LocalFeaturesUnavailableError,
  openReprintIndex,
  regionEntries,
  REPRINT_IMAGE_SIDE,
  scanInThread,
  type CanvasRegion,
  type ExtractViews,
  type ReprintEntry,
  type ReprintIndex,
  type ReprintItem,
} from '../reprints/index.ts';
import { configSchema } from '../config/index.ts';
import type { HarvestEventListener } from './events.ts';
import type { LanguageMap } from './iiif/types.ts';
import { regionRecords } from './region-items.ts';
import { canvasBoxToImagePart } from './region-pixels.ts';
import type { HarvestedItem, IndexStage, IndexedRecord, StageOutcome } from './stage.ts';

/** Part of the stage id recorded in the journal: the features' version (reprints/), so a new one re-processes canvases from the image cache. */
export const FEATURE_STAGE_ID = FEATURE_VERSION;

const firstValue = (map: LanguageMap | undefined): string | undefined =>
  map ? (map.en?.[0] ?? map.none?.[0] ?? Object.values(map).find((v) => v.length)?.[0]) : undefined;

/** What a reprint hit says about a canvas, from its harvested record. */
export function reprintItem(record: IndexedRecord, imageSize?: { width: number; height: number }): ReprintItem {
  return {
    canvasId: record.canvasId,
    manifestId: record.manifestId,
    manifestUrl: record.manifestUrl,
    manifestLabel: firstValue(record.manifestLabel),
    label: firstValue(record.label),
    collections: record.collectionPath,
    // Without a canvas size, the delivered image's pixels are the best canvas coordinates there are.
    canvasWidth: record.width ?? imageSize?.width,
    canvasHeight: record.height ?? (record.width ? undefined : imageSize?.height),
  };
}

export interface FeatureStageOptions {
  /** Features of a canvas image: the whole image first, then each picture printed on it (extractViews). */
  extract?: ExtractViews;
  /** Region items of a canvas given features at most (harvest.regions.maxPerCanvas). */
  maxRegionsPerCanvas?: number;
}

const DEFAULT_MAX_REGIONS = configSchema.shape.harvest.parse({}).regions.maxPerCanvas;

/** The region items of a harvested canvas, each with the part of the canvas image its box covers (those that miss the image have no pixels, and no features). */
function canvasRegions(item: HarvestedItem): CanvasRegion[] {
  const size = { width: item.image.sourceWidth, height: item.image.sourceHeight };
  return regionRecords(item.itemId, item.record).flatMap(({ itemId, record }) => {
    const part = canvasBoxToImagePart(item.record, record.region.box, size);
    const bytes = item.regions?.find((r) => r.itemId === itemId)?.bytes;
    return part ? [{ id: itemId, box: record.region.box, part, ...(bytes ? { bytes } : {}) }] : [];
  });
}

/**
 * Composes with the harvest's indexing stage (embedding, or metadata only without a model): the
 * inner stage runs first, then local features of each canvas it accepted, and of its region items
 * (each under its own id: reprints/region-features.ts), are extracted and kept in the reprint index
 * beside the store. Removals and metadata updates reach both, so the reprint index stays
 * consistent with the items. Idempotent like every stage: an item sent again replaces its features.
 */
export class FeatureStage implements IndexStage {
  readonly id: string;
  readonly metadataOnly?: boolean;
  readonly detailSide = REPRINT_IMAGE_SIDE;
  private readonly extract: ExtractViews;
  private readonly maxRegions: number;

  constructor(
    private readonly inner: IndexStage,
    readonly reprints: ReprintIndex,
    private readonly options: FeatureStageOptions = {},
  ) {
    this.id = `${inner.id}+${FEATURE_STAGE_ID}`;
    if (inner.metadataOnly) this.metadataOnly = true;
    this.extract = options.extract ?? extractAllViews;
    this.maxRegions = options.maxRegionsPerCanvas ?? DEFAULT_MAX_REGIONS;
  }

  async index(items: HarvestedItem[]): Promise<StageOutcome[]> {
    const outcomes = await this.inner.index(items);
    const accepted = new Set(outcomes.filter((o) => o.ok).map((o) => o.itemId));
    const entries: ReprintEntry[] = [];
    const failed = new Map<string, string>();
    for (const item of items) {
      if (!accepted.has(item.itemId)) continue;
      try {
        const { image } = item;
        const canvas = {
          id: item.itemId,
          item: reprintItem(item.record, { width: image.sourceWidth, height: image.sourceHeight }),
          images: { detail: item.detail, bytes: item.bytes, pixels: { data: image.data, width: image.width, height: image.height, channels: image.channels } },
          imageHash: item.imageHash,
        };
        const own = await canvasEntries(canvas, this.extract);
        // Its region items beside it, each under its own id (reprints/region-features.ts).
        const regions = await regionEntries({ ...canvas, painted: item.record.image.target, regions: canvasRegions(item) }, { maxRegions: this.maxRegions, extract: this.extract });
        entries.push(...own, ...regions);
      } catch (err) {
        failed.set(item.itemId, `feature extraction failed: ${(err as Error).message}`);
      }
    }
    if (entries.length) this.reprints.upsert(entries);
    return outcomes.map((o) => (o.ok && failed.has(o.itemId) ? { itemId: o.itemId, ok: false, reason: failed.get(o.itemId)! } : o));
  }

  async updateMetadata(records: Array<{ itemId: string; record: IndexedRecord }>): Promise<void> {
    await this.inner.updateMetadata(records);
    // The canvas size is kept from indexing time (a metadata update does not carry the image), and a region item's place on it.
    const updates = records.flatMap((r) => {
      const canvas = this.reprints.image(r.itemId)?.item;
      if (!canvas) return [];
      const item = { ...reprintItem(r.record), canvasWidth: r.record.width ?? canvas.canvasWidth, canvasHeight: r.record.height ?? canvas.canvasHeight };
      const regions = regionRecords(r.itemId, r.record).flatMap(({ itemId }) => {
        const region = this.reprints.image(itemId)?.item.region;
        return region ? [{ id: itemId, item: { ...item, region } }] : [];
      });
      return [{ id: r.itemId, item }, ...regions];
    });
    this.reprints.updateItems(updates);
  }

  async remove(itemIds: string[]): Promise<void> {
    await this.inner.remove(itemIds);
    if (itemIds.length) this.reprints.delete(itemIds);
  }

  /**
   * Compares the images this harvest added or changed with the index (the incremental part of
   * `reprise reprints --all`), on a thread of its own: a server keeps answering meanwhile, and a
   * signal stops it after the image in hand. A scan that fails is not the harvest's failure: the
   * images stay to compare, on the next run or with `reprise reprints --all`.
   */
  async finish(context: { signal?: AbortSignal; emit: HarvestEventListener }): Promise<void> {
    const { signal, emit } = context;
    await this.inner.finish?.(context);
    signal?.throwIfAborted();
    const waiting = this.reprints.unscannedCount();
    if (!waiting) return;
    const started = Date.now();
    emit({ type: 'reprint-scan', status: 'started', images: waiting });
    try {
      const { scanned, stopped } = await scanInThread(this.reprints, {
        signal,
        onProgress: (images) => emit({ type: 'reprint-scan', status: 'progress', images }),
      });
      emit({ type: 'reprint-scan', status: stopped ? 'stopped' : 'finished', images: scanned, durationMs: Date.now() - started });
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      emit({
        type: 'warning',
        url: this.reprints.file,
        message: `${(err as Error).message}; the images not compared yet are compared by the next harvest, or by "reprise reprints --all"`,
      });
    }
    signal?.throwIfAborted();
  }

  async close(): Promise<void> {
    await this.inner.close();
  }
}

/**
 * Wraps a harvest stage with feature extraction and opens the reprint index it writes. The run
 * compares the new images with the index at its end (FeatureStage.finish, so `reprise reprints
 * --all` has nothing left to do); close() closes the inner stage and the index. Without the
 * native binding the harvest goes on unchanged and says once how to get reprint detection. The
 * one call create-stage needs.
 */
export function withFeatureStage(
  inner: { stage: IndexStage; close: () => Promise<void> },
  dataDir: string,
  warn: (message: string) => void,
  options: Pick<FeatureStageOptions, 'maxRegionsPerCanvas'> = {},
): { stage: IndexStage; close: () => Promise<void> } {
  try {
    localFeatures();
  } catch (err) {
    if (!(err instanceof LocalFeaturesUnavailableError)) throw err;
    warn(`${err.message} Harvesting goes on without it.`);
    return inner;
  }
  // A harvest only writes to the index (the comparison at its end opens its own, on its thread).
  const index = openReprintIndex(dataDir, { candidates: 'lazily' });
  const stage = new FeatureStage(inner.stage, index, options);
  return {
    stage,
    close: async () => {
      try {
        await inner.close();
      } finally {
        index.close();
      }
    },
  };
}
