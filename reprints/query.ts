/**
 * The one query pipeline from a query to reprint hits, for the API and the command line alike:
 * an indexed item, or an image (encoded bytes or decoded pixels) with an optional region of it;
 * the image whole and each picture printed in it when it is a page are matched.
 */
import { openImage, readPixels } from '../common/index.ts';
import { extractViews, FeatureInputError, type RawPixels, type Rect } from './features/index.ts';
import type { ReprintService } from './reprint-service.ts';
import type { CoordinateSpace, ReprintHit, ReprintSearchOptions } from './types.ts';

/** An image to find reprints of, or a region of it. */
export interface ImageQuery {
  image: Buffer | RawPixels;
  /** The part of the image to match, in its pixels (after EXIF orientation); the whole image when absent. */
  region?: Rect;
  /**
   * Maps the matched pixels (the region, or the whole image: their width and height) to the
   * coordinates queryRegion is reported in. Default: the image's own pixels (a region's offset added).
   */
  space?: (width: number, height: number) => CoordinateSpace;
  /** An item never returned (the indexed canvas the query was cut from). */
  excludeId?: string;
}

/** An indexed item (its stored features; hits in canvas coordinates on both sides), or an image. */
export type ReprintQuery = { item: string } | ImageQuery;

/** The query image (or its region) holds nothing a reprint could be found in: blank, tiny, no texture. */
export class NothingToMatchError extends FeatureInputError {
  constructor(readonly reason: string) {
    super(`nothing in this image can be matched (${reason})`);
  }
}

/** Reprints of a query, most inliers first. UnknownItemError for an item the index lacks, FeatureInputError (an ImageDecodeError) for an image that cannot be used. */
export async function queryReprints(service: ReprintService, query: ReprintQuery, options: ReprintSearchOptions = {}): Promise<ReprintHit[]> {
  if ('item' in query) return service.searchItem(query.item, options);
  const { region } = query;
  const pixels = region ? cropRegion(Buffer.isBuffer(query.image) ? await decodeWhole(query.image) : query.image, region) : query.image;
  // The image whole, and each picture printed in it when it is a page (a newspaper page finds the photographs on it).
  const { views } = await extractViews(pixels);
  const whole = views[0]!;
  if (views.length === 1 && whole.empty) throw new NothingToMatchError(whole.empty);
  const space = query.space
    ? query.space(whole.frame.sourceWidth, whole.frame.sourceHeight)
    : region
      ? { scaleX: 1, scaleY: 1, offsetX: region.x, offsetY: region.y }
      : undefined;
  return service.searchViews(views, { ...options, ...(query.excludeId !== undefined ? { excludeId: query.excludeId } : {}) }, space);
}

/** An encoded image decoded whole (orientation applied, within the common decoder's pixel limit), to cut a region from. */
async function decodeWhole(bytes: Buffer): Promise<RawPixels> {
  const { pipeline } = await openImage(bytes);
  const { data, info } = await readPixels(pipeline);
  return { data, width: info.width, height: info.height, channels: info.channels };
}

/** The region's pixels; a region not inside the image is refused, naming both. */
export function cropRegion(image: RawPixels, region: Rect): RawPixels {
  const { x, y, w, h } = region;
  if (![x, y, w, h].every(Number.isInteger) || x < 0 || y < 0 || w < 1 || h < 1 || x + w > image.width || y + h > image.height) {
    throw new FeatureInputError(`the region ${x},${y},${w},${h} is not inside the image (${image.width}×${image.height} pixels): give x,y,w,h in whole pixels within it`);
  }
  const { channels } = image;
  const out = new Uint8Array(w * h * channels);
  for (let row = 0; row < h; row++) {
    const from = ((y + row) * image.width + x) * channels;
    out.set(image.data.subarray(from, from + w * channels), row * w * channels);
  }
  return { data: out, width: w, height: h, channels };
}
