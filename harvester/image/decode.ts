import sharp, { type Metadata } from 'sharp';

export interface DecodedImage {
  /** Packed 8-bit RGB, row-major. */
  data: Buffer;
  width: number;
  height: number;
  channels: 3;
  /** Size of the image as delivered, before the local resize. */
  sourceWidth: number;
  sourceHeight: number;
}

export class ImageDecodeError extends Error {
  override name = 'ImageDecodeError';
}

export interface DecodeOptions {
  /** Long side after decoding; larger images are shrunk, smaller ones kept. */
  longSide: number;
  /** Refuse images with more pixels (decompression bombs). */
  maxInputPixels: number;
}

/** Raster formats IIIF servers deliver. SVG is refused: it is a document, not a photograph. */
const ACCEPTED_FORMATS = new Set(['jpeg', 'png', 'webp', 'tiff', 'gif', 'heif', 'avif', 'jp2']);

const oneLine = (err: unknown) => String((err as Error)?.message ?? err).replace(/\s+/g, ' ').trim();

// Pixels sharp keeps in flight belong to the harvest's bounded decode pool, not to libvips' cache.
sharp.cache(false);

/**
 * Decodes whatever a IIIF server delivers into plain sRGB pixels: EXIF orientation
 * applied, CMYK and 16-bit converted, alpha flattened on white (scans of pages with
 * transparent margins should not turn black), frame 0 of animations.
 */
export async function decodeImage(bytes: Buffer, opts: DecodeOptions): Promise<DecodedImage> {
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false, failOn: 'none' }).metadata();
  } catch (err) {
    throw new ImageDecodeError(`not a readable image: ${oneLine(err)}`);
  }
  if (!meta.format || !ACCEPTED_FORMATS.has(meta.format)) {
    throw new ImageDecodeError(`unsupported image format "${meta.format ?? 'unknown'}" (accepted: ${[...ACCEPTED_FORMATS].join(', ')})`);
  }
  const pixels = (meta.width ?? 0) * (meta.height ?? 0);
  if (!meta.width || !meta.height) throw new ImageDecodeError('not a readable image: no dimensions in its header');
  // Checked from the header before decoding, so a bomb costs nothing.
  if (pixels > opts.maxInputPixels) {
    throw new ImageDecodeError(
      `image is ${meta.width}×${meta.height} (${pixels} pixels), over the ${opts.maxInputPixels}-pixel limit (harvest.maxInputPixels)`,
    );
  }
  try {
    const { data, info } = await sharp(bytes, { limitInputPixels: opts.maxInputPixels, failOn: 'error', pages: 1, page: 0 })
      .rotate()
      .toColourspace('srgb')
      .flatten({ background: '#ffffff' })
      .resize({ width: opts.longSide, height: opts.longSide, fit: 'inside', withoutEnlargement: true })
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new ImageDecodeError(`decoded to ${info.channels} channels, expected 3`);
    const oriented = (meta.orientation ?? 1) >= 5;
    return {
      data,
      width: info.width,
      height: info.height,
      channels: 3,
      sourceWidth: oriented ? meta.height : meta.width,
      sourceHeight: oriented ? meta.width : meta.height,
    };
  } catch (err) {
    if (err instanceof ImageDecodeError) throw err;
    throw new ImageDecodeError(`broken image: ${oneLine(err)}`);
  }
}
