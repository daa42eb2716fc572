/**
 * What the reprint index keeps of a canvas's region items (the parts of it an institution
 * annotated, items of their own beside it): each region's pixels, cut from the best image the
 * harvest has of the canvas, indexed under the region item's id with where on the canvas they lie
 * (ReprintItem.region), so that a hit on a region item reports canvas coordinates and its box.
 */
import { decodeImage } from '../common/index.ts';
import { FeatureInputError, type RawPixels, type Rect } from './features/index.ts';
import { extractAllViews, REPRINT_IMAGE_SIDE, reprintEntries, type CanvasImages, type ExtractViews } from './canvas-features.ts';
import { cropRegion } from './query.ts';
import type { ReprintEntry, ReprintItem } from './reprint-index/index.ts';

/** One region item of a canvas, as the harvest knows it. */
export interface CanvasRegion {
  /** The region item's id. */
  id: string;
  /** Its box on the canvas (the annotation's xywh). */
  box: Rect;
  /** The part of the canvas's image the box covers, as fractions of the image's width and height (cut to the image). */
  part: Rect;
  /** The region as the image service delivered it on its own (it was small on the image fetched), when it was asked for. */
  bytes?: Buffer;
}

export interface CanvasWithRegions {
  /** The canvas's item id. */
  id: string;
  /** What hits on its regions say of it (the canvas's labels, manifest, size). */
  item: ReprintItem;
  images: CanvasImages;
  /** Where the image is painted on the canvas (canvas coordinates); the whole canvas when absent. */
  painted?: Rect;
  /** The regions to index, at most `maxRegions` of them (the first). */
  regions: CanvasRegion[];
}

const round2 = (n: number): number => Math.round(n * 100) / 100;

/** A part of the painted image (fractions) as canvas coordinates. */
function onCanvas(painted: Rect, part: Rect): Rect {
  return { x: round2(painted.x + part.x * painted.w), y: round2(painted.y + part.y * painted.h), w: round2(part.w * painted.w), h: round2(part.h * painted.h) };
}

/** A part (fractions) as whole pixels of an image `width`×`height`, at least one each way. */
function toPixels(part: Rect, width: number, height: number): Rect {
  const x = Math.min(width - 1, Math.max(0, Math.floor(part.x * width)));
  const y = Math.min(height - 1, Math.max(0, Math.floor(part.y * height)));
  return {
    x,
    y,
    w: Math.max(1, Math.min(width, Math.ceil((part.x + part.w) * width)) - x),
    h: Math.max(1, Math.min(height, Math.ceil((part.y + part.h) * height)) - y),
  };
}

/**
 * The reprint index's entries for the region items of one canvas: each region's whole image, then
 * any picture printed in it (reprintEntries), under the region item's id. Pixels come from the
 * larger detail image when the harvest has one, cut to the region; else from the region as the
 * image service delivered it on its own; else cut from the image as fetched (at most
 * REPRINT_IMAGE_SIDE on its long side) or its decoded pixels. The image is decoded once for all the
 * regions cut from it. At most `maxRegions` regions (the first), none without a canvas size.
 */
export async function regionEntries(canvas: CanvasWithRegions, options: { maxRegions: number; extract?: ExtractViews }): Promise<ReprintEntry[]> {
  const extract = options.extract ?? extractAllViews;
  const { canvasWidth, canvasHeight } = canvas.item;
  const painted = canvas.painted ?? (canvasWidth && canvasHeight ? { x: 0, y: 0, w: canvasWidth, h: canvasHeight } : undefined);
  const regions = canvas.regions.slice(0, Math.max(0, options.maxRegions));
  if (!painted || !regions.length) return [];
  let decoded: Promise<RawPixels> | undefined;
  const image = (): Promise<RawPixels> => (decoded ??= decodeSource(canvas.images));
  const entries: ReprintEntry[] = [];
  for (const region of regions) {
    // The region on its own, unless it cannot be read: then it is cut like the others.
    const own = !canvas.images.detail && region.bytes ? await extract(region.bytes).catch(() => undefined) : undefined;
    let views = own;
    let shown = onCanvas(painted, region.part);
    if (!views) {
      const whole = await image();
      const crop = toPixels(region.part, whole.width, whole.height);
      try {
        views = await extract(cropRegion(whole, crop));
      } catch (err) {
        // One region that cannot be matched (a sliver, a blank box) costs its own entries, not the canvas's.
        if (err instanceof FeatureInputError) continue;
        throw err;
      }
      shown = onCanvas(painted, { x: crop.x / whole.width, y: crop.y / whole.height, w: crop.w / whole.width, h: crop.h / whole.height });
    }
    const item: ReprintItem = { ...canvas.item, region: { canvasItemId: canvas.id, box: region.box, shown } };
    entries.push(...reprintEntries(region.id, item, views));
  }
  return entries;
}

/** The image regions are cut from: the detail image, else the image as fetched, decoded grey (features are grey) within REPRINT_IMAGE_SIDE; else the decoded pixels. */
async function decodeSource(images: CanvasImages): Promise<RawPixels> {
  const bytes = images.detail ?? (images.bytes.length ? images.bytes : undefined);
  if (!bytes) return images.pixels;
  const { data, width, height, channels } = await decodeImage(bytes, { longSide: REPRINT_IMAGE_SIDE, grey: true });
  return { data, width, height, channels };
}
