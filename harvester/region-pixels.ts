/**
 * The pixels of a canvas's region items, from the image already fetched for the canvas: each
 * region's box mapped from canvas coordinates to the fetched image's pixels (the image may be
 * painted on part of the canvas only, at another resolution). A region that is small there (a
 * photograph on a newspaper page fetched at 640 px) is asked from the image service on its own, at
 * a bounded size and a bounded number of requests per canvas.
 */
import type { HarvestConfig } from '../config/index.ts';
import { resolveRegionRequest, type ImagePart } from './iiif/image-request.ts';
import type { CanvasBox } from './iiif/types.ts';
import { regionItemId } from './region-items.ts';
import type { IndexedRecord, RegionPixels } from './stage.ts';

type RegionSettings = Pick<HarvestConfig['regions'], 'fetchBelow' | 'fetchSide' | 'maxFetchesPerCanvas'>;

/**
 * A canvas box as a part of the painted image (fractions of its width and height, cut to it), or
 * undefined when it misses the image. Without a canvas size, canvas coordinates are taken to be
 * the image's own pixels (`imageSize`), as viewers do.
 */
export function canvasBoxToImagePart(record: Pick<IndexedRecord, 'width' | 'height' | 'image'>, box: CanvasBox, imageSize: { width: number; height: number }): ImagePart | undefined {
  const target = record.image.target ?? { x: 0, y: 0, w: record.width ?? imageSize.width, h: record.height ?? imageSize.height };
  if (!(target.w > 0 && target.h > 0)) return undefined;
  const x0 = Math.max(0, (box.x - target.x) / target.w);
  const y0 = Math.max(0, (box.y - target.y) / target.h);
  const x1 = Math.min(1, (box.x + box.w - target.x) / target.w);
  const y1 = Math.min(1, (box.y + box.h - target.y) / target.h);
  if (!(x1 > x0 && y1 > y0)) return undefined;
  return { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
}

/** A part of the image as whole pixels of an image `width`×`height` (at least one). */
function toPixels(part: ImagePart, width: number, height: number): { x: number; y: number; w: number; h: number } {
  const x = Math.min(width - 1, Math.floor(part.x * width));
  const y = Math.min(height - 1, Math.floor(part.y * height));
  return {
    x,
    y,
    w: Math.max(1, Math.min(width - x, Math.ceil((part.x + part.w) * width) - x)),
    h: Math.max(1, Math.min(height - y, Math.ceil((part.y + part.h) * height) - y)),
  };
}

/**
 * One entry per region of the record: its box on the decoded image, and, for regions whose long
 * side there is under `fetchBelow`, the region fetched from the image service (the first
 * `maxFetchesPerCanvas` of them, largest need first). A request that fails costs that region its
 * sharper pixels only: `onFetchFailed` is told, and the region is cut from the decoded image.
 */
export async function regionPixels(
  canvasItemId: string,
  record: IndexedRecord,
  image: { width: number; height: number; sourceWidth: number; sourceHeight: number },
  settings: RegionSettings,
  fetch: (url: string) => Promise<Buffer>,
  onFetchFailed: (url: string, err: unknown) => void,
): Promise<RegionPixels[]> {
  const out: RegionPixels[] = [];
  const small: Array<{ entry: RegionPixels; part: ImagePart; side: number }> = [];
  for (const region of record.regions ?? []) {
    const entry: RegionPixels = { itemId: regionItemId(canvasItemId, region.box) };
    out.push(entry);
    const part = canvasBoxToImagePart(record, region.box, { width: image.sourceWidth, height: image.sourceHeight });
    if (!part) continue;
    entry.crop = toPixels(part, image.width, image.height);
    const side = Math.max(entry.crop.w, entry.crop.h);
    if (side < settings.fetchBelow) small.push({ entry, part, side });
  }
  // The smallest regions gain most from a request of their own.
  small.sort((a, b) => a.side - b.side);
  for (const { entry, part } of small.slice(0, settings.maxFetchesPerCanvas)) {
    const request = resolveRegionRequest(record.image, part, settings.fetchSide);
    if (!request || request.width * request.height <= (entry.crop?.w ?? 0) * (entry.crop?.h ?? 0)) continue;
    try {
      entry.bytes = await fetch(request.url);
    } catch (err) {
      onFetchFailed(request.url, err);
    }
  }
  return out;
}
