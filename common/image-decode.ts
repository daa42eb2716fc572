import sharp, { type Metadata, type OutputInfo, type Sharp } from 'sharp';
import { RepriseError } from './errors.ts';

/**
 * The one way Reprise decodes an image file, whoever asks (the harvest, a query, reprint features):
 * the format read from the bytes, the pixel count refused from the header before anything is
 * decoded, EXIF orientation applied, CMYK and 16-bit to 8-bit sRGB, alpha flattened on white
 * (scans of pages with transparent margins should not turn black), frame 0 of an animation. So a
 * query and a harvested copy of the same file give the same pixels, and every refusal is an
 * ImageDecodeError.
 */

/** An image file that cannot be used: unreadable, of a format that is not a photograph's, or too large. */
export class ImageDecodeError extends RepriseError {
  override name = 'ImageDecodeError';
  override readonly problem = 'unprocessable-image';
}

/** Raster formats IIIF servers and cameras deliver. SVG is refused: a document whose size the file chooses, not a photograph. */
export const ACCEPTED_FORMATS: ReadonlySet<string> = new Set(['jpeg', 'png', 'webp', 'tiff', 'gif', 'heif', 'avif', 'jp2']);

/** The harvest's default (harvest.maxInputPixels): 100 megapixels, a 10,000 × 10,000 scan. */
export const DEFAULT_MAX_INPUT_PIXELS = 100_000_000;

export interface ImageLimits {
  /** Refuse images with more pixels, from the header (decompression bombs). Default DEFAULT_MAX_INPUT_PIXELS. */
  maxInputPixels?: number;
  /** The setting that sets the limit, named in the refusal ('harvest.maxInputPixels'). */
  limitSetting?: string;
}

export interface ImageHeader {
  format: string;
  /** As displayed, EXIF orientation applied. */
  width: number;
  height: number;
}

/** An opened image: sRGB pixels to be, oriented and flattened, for the caller to resize and read. */
export interface OpenedImage extends ImageHeader {
  pipeline: Sharp;
}

export interface DecodedImage {
  /** Packed 8-bit pixels, row-major: RGB, or grey with `grey`. */
  data: Buffer;
  width: number;
  height: number;
  channels: 1 | 3;
  /** Size of the image as delivered (orientation applied), before any resize. */
  sourceWidth: number;
  sourceHeight: number;
}

export interface DecodeOptions extends ImageLimits {
  /** Long side after decoding; larger images are shrunk, smaller ones kept. Default: no resize. */
  longSide?: number;
  /** One grey channel instead of RGB. */
  grey?: boolean;
}

const oneLine = (err: unknown) => String((err as Error)?.message ?? err).replace(/\s+/g, ' ').trim();

// Pixels sharp keeps in flight belong to the callers' bounded pools, not to libvips' cache.
sharp.cache(false);

/** Format and displayed size from the header alone; refuses what decodeImage would refuse, without decoding. */
export async function readImageHeader(bytes: Buffer, limits: ImageLimits = {}): Promise<ImageHeader> {
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false, failOn: 'none' }).metadata();
  } catch (err) {
    throw new ImageDecodeError(`not a readable image: ${oneLine(err)}`, { cause: err });
  }
  if (!meta.format || !ACCEPTED_FORMATS.has(meta.format)) {
    const why = meta.format === 'svg' ? ': SVG images are documents, not photographs' : '';
    throw new ImageDecodeError(`unsupported image format "${meta.format ?? 'unknown'}"${why} (accepted: ${[...ACCEPTED_FORMATS].join(', ')})`);
  }
  if (!meta.width || !meta.height) throw new ImageDecodeError('not a readable image: no dimensions in its header');
  const max = limits.maxInputPixels ?? DEFAULT_MAX_INPUT_PIXELS;
  const pixels = meta.width * meta.height;
  if (pixels > max) {
    throw new ImageDecodeError(`image is ${meta.width}×${meta.height}, over the ${max}-pixel limit${limits.limitSetting ? ` (${limits.limitSetting})` : ''}: ${pixels} pixels`);
  }
  const swap = (meta.orientation ?? 1) >= 5;
  return { format: meta.format, width: swap ? meta.height : meta.width, height: swap ? meta.width : meta.height };
}

/** The header checked, then the decoding set up: orientation, sRGB, white under transparency, frame 0. */
export async function openImage(bytes: Buffer, limits: ImageLimits = {}): Promise<OpenedImage> {
  const header = await readImageHeader(bytes, limits);
  const pipeline = sharp(bytes, { limitInputPixels: limits.maxInputPixels ?? DEFAULT_MAX_INPUT_PIXELS, failOn: 'error', pages: 1, page: 0 })
    .autoOrient()
    .toColourspace('srgb')
    .flatten({ background: '#ffffff' });
  return { ...header, pipeline };
}

/** Runs an opened image's pipeline; a failure while decoding (a truncated file) is an ImageDecodeError. */
export async function readPixels(pipeline: Sharp): Promise<{ data: Buffer; info: OutputInfo }> {
  try {
    return await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw new ImageDecodeError(`broken image: ${oneLine(err)}`, { cause: err });
  }
}

/** Decodes an image file into plain 8-bit pixels (see the top of this file), shrunk to `longSide` when given. */
export async function decodeImage(bytes: Buffer, opts: DecodeOptions & { grey: true }): Promise<DecodedImage & { channels: 1 }>;
export async function decodeImage(bytes: Buffer, opts?: DecodeOptions & { grey?: false }): Promise<DecodedImage & { channels: 3 }>;
export async function decodeImage(bytes: Buffer, opts: DecodeOptions = {}): Promise<DecodedImage> {
  const image = await openImage(bytes, opts);
  let pipeline = image.pipeline;
  if (opts.longSide !== undefined) pipeline = pipeline.resize({ width: opts.longSide, height: opts.longSide, fit: 'inside', withoutEnlargement: true });
  pipeline = opts.grey ? pipeline.greyscale().extractChannel(0) : pipeline.removeAlpha();
  const { data, info } = await readPixels(pipeline);
  const channels = opts.grey ? 1 : 3;
  if (info.channels !== channels) throw new ImageDecodeError(`decoded to ${info.channels} channels, expected ${channels}`);
  return { data, width: info.width, height: info.height, channels, sourceWidth: image.width, sourceHeight: image.height };
}
