import sharp from 'sharp';
import { readPixels } from '../../common/index.ts';
import { DEFAULT_EXTRACT, extractFeatures, type ExtractOptions } from './extract.ts';
import { DEFAULT_PAGE_REGIONS, pageRegions, type PageRegionOptions } from './page-regions.ts';
import { openInput, type RawPixels } from './prepare.ts';
import type { AnalysisFrame, ImageFeatures, Rect } from './types.ts';

export interface ViewOptions {
  extract: ExtractOptions;
  /**
   * The image is decoded to at most this long a side: a photograph filling a fifth of a page's
   * width keeps 480 px of it at 2,400, more than the 400 its features need; larger scans cost time
   * and memory for nothing.
   */
  maxDecodeSide: number;
  /** Images with a shorter long side are not looked into for pictures: too small to be a page holding one. */
  minPageSide: number;
  /** Pictures are looked for at this long side (line pitches and blocks are measured there). */
  regionSide: number;
  regions: PageRegionOptions;
}

export const DEFAULT_VIEWS: ViewOptions = { extract: DEFAULT_EXTRACT, maxDecodeSide: 2400, minPageSide: 1000, regionSide: 1600, regions: DEFAULT_PAGE_REGIONS };

/**
 * Features of an image seen whole, and of each picture printed in it when it is a page: the
 * whole image first (its frame as extractFeatures gives it), then one view per picture region,
 * analysed at the size a photograph is (its frame still in the image's pixels, so matches map
 * straight onto the page). Regions without usable features are left out; the whole image's view
 * is always there, possibly empty.
 */
export async function extractViews(input: Buffer | RawPixels, options: ViewOptions = DEFAULT_VIEWS): Promise<{ views: ImageFeatures[]; regions: Rect[] }> {
  const decoded = await decodeGrey(input, options.maxDecodeSide);
  const { gray, width, height, sourceWidth, sourceHeight } = decoded;
  const toSource = sourceWidth / width;
  const grey: RawPixels = { data: gray, width, height, channels: 1 };
  const whole = reframe(await extractFeatures(grey, options.extract), 0, 0, toSource, sourceWidth, sourceHeight);
  if (Math.max(width, height) < options.minPageSide) return { views: [whole], regions: [] };
  const found = await findRegions(gray, width, height, options);
  const views = await Promise.all(
    found.map(async (r) => {
      const crop = new Uint8Array(r.w * r.h);
      for (let y = 0; y < r.h; y++) crop.set(gray.subarray((r.y + y) * width + r.x, (r.y + y) * width + r.x + r.w), y * r.w);
      return reframe(await extractFeatures({ data: crop, width: r.w, height: r.h, channels: 1 }, options.extract), r.x, r.y, toSource, sourceWidth, sourceHeight);
    }),
  );
  const regions = found.map((r) => ({ x: Math.round(r.x * toSource), y: Math.round(r.y * toSource), w: Math.round(r.w * toSource), h: Math.round(r.h * toSource) }));
  return { views: [whole, ...views.filter((v) => !v.empty)], regions };
}

/** Grey pixels, EXIF orientation applied, at most `maxSide` on the long side, and the size of the image they come from. */
async function decodeGrey(input: Buffer | RawPixels, maxSide: number): Promise<{ gray: Uint8Array; width: number; height: number; sourceWidth: number; sourceHeight: number }> {
  const { pipeline, width: sourceWidth, height: sourceHeight } = await openInput(input);
  const { data, info } = await readPixels(
    pipeline.flatten({ background: '#ffffff' }).greyscale().resize(maxSide, maxSide, { fit: 'inside', withoutEnlargement: true, kernel: 'lanczos3' }).extractChannel(0),
  );
  return { gray: new Uint8Array(data.buffer, data.byteOffset, info.width * info.height), width: info.width, height: info.height, sourceWidth, sourceHeight };
}

/** Picture regions of a page, in its decoded pixels (found on a copy at options.regionSide). */
async function findRegions(gray: Uint8Array, width: number, height: number, options: ViewOptions): Promise<Rect[]> {
  const scale = Math.min(1, options.regionSide / Math.max(width, height));
  let small = gray;
  let sw = width;
  let sh = height;
  if (scale < 1) {
    sw = Math.round(width * scale);
    sh = Math.round(height * scale);
    const out = await sharp(gray, { raw: { width, height, channels: 1 } }).resize(sw, sh, { fit: 'fill', kernel: 'lanczos3' }).extractChannel(0).raw().toBuffer();
    small = new Uint8Array(out.buffer, out.byteOffset, sw * sh);
  }
  return pageRegions(small, sw, sh, options.regions).map((r) => {
    const x = Math.max(0, Math.floor(r.x / scale));
    const y = Math.max(0, Math.floor(r.y / scale));
    return { x, y, w: Math.min(width, Math.ceil((r.x + r.w) / scale)) - x, h: Math.min(height, Math.ceil((r.y + r.h) / scale)) - y };
  });
}

/** A frame computed on a crop of decoded pixels, re-expressed in the source image's pixels. */
function reframe(features: ImageFeatures, cropX: number, cropY: number, toSource: number, sourceWidth: number, sourceHeight: number): ImageFeatures {
  const f = features.frame;
  const frame: AnalysisFrame = {
    sourceWidth,
    sourceHeight,
    scale: f.scale * toSource,
    offsetX: (f.offsetX + cropX) * toSource,
    offsetY: (f.offsetY + cropY) * toSource,
    width: f.width,
    height: f.height,
  };
  return { ...features, frame };
}
