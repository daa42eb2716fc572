import type { CanvasRecord } from './iiif/types.ts';
import type { DecodedImage } from '../common/index.ts';
import type { HarvestEventListener } from './events.ts';

/** A canvas ready for indexing: its metadata and its pixels at the configured size. */
export interface HarvestedItem {
  /** Stable id of the canvas in the index (derived from manifest URL and canvas id). */
  itemId: string;
  record: IndexedRecord;
  image: DecodedImage;
  /** The bytes as fetched, for stages that keep or re-encode them. */
  bytes: Buffer;
  /** sha256 of `bytes`. */
  imageHash: string;
  /**
   * The canvas image at the larger size the stage asked for (IndexStage.detailSide), when the image
   * service could deliver one larger than `bytes`: a separate request, not kept in the image cache.
   */
  detail?: Buffer;
  /**
   * The pixels of the canvas's region items (record.regions, region-items.ts), one entry each, for
   * a stage that embeds them; absent for a stage that stores items without vectors.
   */
  regions?: RegionPixels[];
}

/** Where the pixels of one region item are: a box of HarvestedItem.image, or an image of its own. */
export interface RegionPixels {
  itemId: string;
  /** The region in the decoded image's pixels; absent when it lies outside the painted image. */
  crop?: { x: number; y: number; w: number; h: number };
  /** The region as the image service delivered it on its own (small on the fetched image), when it was asked for. */
  bytes?: Buffer;
}

/** What the index keeps of a canvas: the IIIF record plus where it was found and how it was fetched. */
export interface IndexedRecord extends CanvasRecord {
  manifestUrl: string;
  /** The harvest source (collection, change stream or manifest URL) the canvas was reached from. */
  sourceUrl: string;
  /** Labels of the collections the manifest was reached through, root first. */
  collectionPath: string[];
  /** The URL actually fetched (sized Image API request or plain file). */
  imageUrl: string;
}

export type StageOutcome = { itemId: string; ok: true } | { itemId: string; ok: false; reason: string };

/**
 * The stage after decoding: embedding and storing. The harvester calls it in batches
 * and never looks inside, so encoders and stores plug in without changes to its core.
 * Every method must be idempotent: after a crash the harvester may send an item again.
 */
export interface IndexStage {
  /** Recorded per canvas in the journal (e.g. the model id), so a model change can be detected. */
  readonly id: string;
  /**
   * Set by a stage that stores items without vectors (no model yet). The first run of a stage that
   * embeds processes its canvases again, from the image cache, so the cache is kept whatever
   * harvest.keepImages says; and canvases a stage that embeds indexed are left as they are,
   * rather than stored again without their vectors.
   */
  readonly metadataOnly?: boolean;
  /**
   * Long side of a second, larger image the stage needs beside the embedding-size one (reprint
   * features of printed pages: a photograph filling a third of a page's width is too small to match
   * at 640 px). Fetched per canvas from its image service, bounded by the service's limits; the
   * stage gets it as HarvestedItem.detail.
   */
  readonly detailSide?: number;
  index(items: HarvestedItem[]): Promise<StageOutcome[]>;
  /** Metadata changed, pixels did not: no need to embed again. */
  updateMetadata(records: Array<{ itemId: string; record: IndexedRecord }>): Promise<void>;
  remove(itemIds: string[]): Promise<void>;
  /**
   * Once a run's images are all committed: work over the whole index (the reprint comparison of
   * the new images). Must stop promptly when `signal` aborts, leaving the index consistent and what
   * it did not do for the next run, and then reject with the signal's reason.
   */
  finish?(context: { signal?: AbortSignal; emit: HarvestEventListener }): Promise<void>;
  close(): Promise<void>;
}

/** What the stand-in of earlier versions recorded when there was no model: it stored nothing in the index. */
const STORED_NOTHING = /^recording(\+|$)/;

/**
 * Whether a canvas the journal says `indexedBy` indexed counts as indexed for this stage; one that
 * does not is processed again (from the image cache). A stage that embeds takes only its own
 * canvases; a stage without a model also takes those that any stage stored in the index.
 */
export function keepsIndexedBy(stage: IndexStage, indexedBy: string | null): boolean {
  if (indexedBy === null) return false;
  if (indexedBy === stage.id) return true;
  return stage.metadataOnly === true && !STORED_NOTHING.test(indexedBy);
}
