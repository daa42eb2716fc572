import path from 'node:path';
import { extractFeatures, localFeatures, LocalFeaturesUnavailableError, type ImageFeatures, type RawPixels } from '../models/local-features/index.ts';
import { loadDefaultVocabulary, Vocabulary } from '../models/local-features/vocabulary.ts';
import { ReprintService } from '../reprints/index.ts';
import { ReprintIndex, type ReprintEntry, type ReprintItem } from '../store/reprints/index.ts';
import type { LanguageMap } from './iiif/types.ts';
import type { HarvestedItem, IndexStage, IndexedRecord, StageOutcome } from './stage.ts';

/** Part of the stage id recorded in the journal: a new feature version re-processes canvases (from the image cache). */
export const FEATURE_STAGE_ID = 'rootsift6-v2';

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
  extract?: (image: RawPixels) => Promise<ImageFeatures>;
}

/**
 * Composes with the harvest's indexing stage (embedding or recording): the inner stage runs
 * first, then local features of each canvas it accepted are extracted and kept in the reprint
 * index beside the store. Removals and metadata updates reach both, so the reprint index stays
 * consistent with the items. Idempotent like every stage: an item sent again replaces its features.
 */
export class FeatureStage implements IndexStage {
  readonly id: string;
  private readonly extract: (image: RawPixels) => Promise<ImageFeatures>;

  constructor(
    private readonly inner: IndexStage,
    readonly reprints: ReprintIndex,
    private readonly options: FeatureStageOptions = {},
  ) {
    this.id = `${inner.id}+${FEATURE_STAGE_ID}`;
    this.extract = options.extract ?? ((image) => extractFeatures(image));
  }

  async index(items: HarvestedItem[]): Promise<StageOutcome[]> {
    const outcomes = await this.inner.index(items);
    const accepted = new Set(outcomes.filter((o) => o.ok).map((o) => o.itemId));
    const entries: ReprintEntry[] = [];
    const failed = new Map<string, string>();
    for (const item of items) {
      if (!accepted.has(item.itemId)) continue;
      try {
        const features = await this.extract({ data: item.image.data, width: item.image.width, height: item.image.height, channels: item.image.channels });
        entries.push({
          id: item.itemId,
          imageHash: item.imageHash,
          item: reprintItem(item.record, { width: item.image.sourceWidth, height: item.image.sourceHeight }),
          features,
        });
      } catch (err) {
        failed.set(item.itemId, `feature extraction failed: ${(err as Error).message}`);
      }
    }
    if (entries.length) this.reprints.upsert(entries);
    return outcomes.map((o) => (o.ok && failed.has(o.itemId) ? { itemId: o.itemId, ok: false, reason: failed.get(o.itemId)! } : o));
  }

  async updateMetadata(records: Array<{ itemId: string; record: IndexedRecord }>): Promise<void> {
    await this.inner.updateMetadata(records);
    const known = records.filter((r) => this.reprints.has(r.itemId));
    // The canvas size is kept from indexing time: a metadata update does not carry the image.
    this.reprints.updateItems(
      known.map((r) => {
        const current = this.reprints.image(r.itemId)!.item;
        return { id: r.itemId, item: { ...reprintItem(r.record), canvasWidth: r.record.width ?? current.canvasWidth, canvasHeight: r.record.height ?? current.canvasHeight } };
      }),
    );
  }

  async remove(itemIds: string[]): Promise<void> {
    await this.inner.remove(itemIds);
    if (itemIds.length) this.reprints.delete(itemIds);
  }

  async close(): Promise<void> {
    await this.inner.close();
  }

  /** Compares the images this harvest added or changed with the index (the incremental part of `reprise reprints --all`). */
  scanNew(): number {
    return new ReprintService(this.reprints).scan();
  }
}

/** Where the reprint index lives: beside the store, under dataDir. */
export const reprintIndexDir = (dataDir: string): string => path.join(dataDir, 'reprints');

/** The vocabulary a collection uses: its own when `reprise reprints train` wrote one, else the shipped default. */
export function collectionVocabulary(dataDir: string): Vocabulary {
  const own = path.join(reprintIndexDir(dataDir), 'vocabulary.rpvoc');
  try {
    return Vocabulary.load(own);
  } catch (err) {
    if ((err as { cause?: NodeJS.ErrnoException }).cause?.code === 'ENOENT') return loadDefaultVocabulary();
    throw err;
  }
}

export function openReprintIndex(dataDir: string): ReprintIndex {
  return ReprintIndex.open(reprintIndexDir(dataDir), collectionVocabulary(dataDir));
}

/**
 * Wraps a harvest stage with feature extraction and opens the reprint index it writes. close()
 * closes the inner stage, compares the new images with the index (so `reprise reprints --all`
 * has nothing left to do) and closes the index. Without the native binding the harvest goes on
 * unchanged and says once how to get reprint detection. The one call create-stage needs.
 */
export function withFeatureStage(
  inner: { stage: IndexStage; close: () => Promise<void> },
  dataDir: string,
  warn: (message: string) => void,
): { stage: IndexStage; close: () => Promise<void> } {
  try {
    localFeatures();
  } catch (err) {
    if (!(err instanceof LocalFeaturesUnavailableError)) throw err;
    warn(`${err.message} Harvesting goes on without it.`);
    return inner;
  }
  const index = openReprintIndex(dataDir);
  const stage = new FeatureStage(inner.stage, index);
  return {
    stage,
    close: async () => {
      try {
        await inner.close();
        stage.scanNew();
      } finally {
        index.close();
      }
    },
  };
}
