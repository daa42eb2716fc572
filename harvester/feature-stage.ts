import path from 'node:path';
import { localFeatures, LocalFeaturesUnavailableError, type ImageFeatures, type RawPixels } from '../models/index.ts';
import { extractViews } from '../models/index.ts';
import { loadDefaultVocabulary, Vocabulary } from '../models/index.ts';
import { scanInThread } from '../reprints/index.ts';
import { partId, ReprintIndex, type ReprintEntry, type ReprintItem } from '../store/index.ts';
import type { HarvestEventListener } from './events.ts';
import type { LanguageMap } from './iiif/types.ts';
import type { HarvestedItem, IndexStage, IndexedRecord, StageOutcome } from './stage.ts';

/**
 * Part of the stage id recorded in the journal: a new feature version re-processes canvases (from the
 * image cache). v3: halftone screens blurred away, pictures printed on a page indexed on their own,
 * from the larger detail image.
 */
export const FEATURE_STAGE_ID = 'rootsift6-v3';

/**
 * Long side of the image reprint features are extracted from (IndexStage.detailSide): on a
 * 2,000-px newspaper page a photograph a fifth of the page wide keeps 280 px and one a third wide
 * 470, where 640 px left it 90 and 150 (eval:reprints, printed pages). Requested separately from the
 * embedding size, within the image service's limits.
 */
export const REPRINT_IMAGE_SIDE = 2000;

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

/**
 * What the reprint index keeps of one canvas: its whole image, then each picture printed on it as a
 * part (searchable at the size a photograph is; hits and pairs report the canvas). One upsert of
 * these replaces the canvas's earlier entries, parts included.
 */
export function reprintEntries(id: string, item: ReprintItem, views: ImageFeatures[], imageHash?: string): ReprintEntry[] {
  const [whole, ...parts] = views;
  if (!whole) throw new Error('no features: the whole image comes first, even without usable content');
  return [
    { id, ...(imageHash ? { imageHash } : {}), item, features: whole },
    ...parts.map((features, n) => ({ id: partId(id, n), item: { ...item, partOf: id }, features })),
  ];
}

export interface FeatureStageOptions {
  /** Features of a canvas image: the whole image first, then each picture printed on it (extractViews). */
  extract?: (image: Buffer | RawPixels) => Promise<ImageFeatures[]>;
}

/**
 * Composes with the harvest's indexing stage (embedding, or metadata only without a model): the
 * inner stage runs first, then local features of each canvas it accepted are extracted and kept
 * in the reprint index beside the store. Removals and metadata updates reach both, so the reprint index stays
 * consistent with the items. Idempotent like every stage: an item sent again replaces its features.
 */
export class FeatureStage implements IndexStage {
  readonly id: string;
  readonly metadataOnly?: boolean;
  readonly detailSide = REPRINT_IMAGE_SIDE;
  private readonly extract: (image: Buffer | RawPixels) => Promise<ImageFeatures[]>;

  constructor(
    private readonly inner: IndexStage,
    readonly reprints: ReprintIndex,
    private readonly options: FeatureStageOptions = {},
  ) {
    this.id = `${inner.id}+${FEATURE_STAGE_ID}`;
    if (inner.metadataOnly) this.metadataOnly = true;
    this.extract = options.extract ?? (async (image) => (await extractViews(image)).views);
  }

  async index(items: HarvestedItem[]): Promise<StageOutcome[]> {
    const outcomes = await this.inner.index(items);
    const accepted = new Set(outcomes.filter((o) => o.ok).map((o) => o.itemId));
    const entries: ReprintEntry[] = [];
    const failed = new Map<string, string>();
    for (const item of items) {
      if (!accepted.has(item.itemId)) continue;
      try {
        // The larger image when the service gave one, else the image as fetched (a plain file is whole), else the decoded pixels.
        const source: Buffer | RawPixels =
          item.detail ?? (item.bytes.length ? item.bytes : { data: item.image.data, width: item.image.width, height: item.image.height, channels: item.image.channels });
        const views = await this.extract(source);
        entries.push(...reprintEntries(item.itemId, reprintItem(item.record, { width: item.image.sourceWidth, height: item.image.sourceHeight }), views, item.imageHash));
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

export function openReprintIndex(dataDir: string, options: { candidates?: 'at-once' | 'lazily' } = {}): ReprintIndex {
  return ReprintIndex.open(reprintIndexDir(dataDir), collectionVocabulary(dataDir), options);
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
  const stage = new FeatureStage(inner.stage, index);
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
