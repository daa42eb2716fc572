/**
 * Query images arrive from strangers: the type is read from the bytes (never trusted from a
 * header or a file name) and the pixel count from the header, before anything is decoded.
 */
import { decodeImage, ImageDecodeError, readImageHeader } from '../common/index.ts';
import type { RawRgbImage } from '../models/index.ts';
import { Problem } from './problems.ts';

export type ImageType = 'jpeg' | 'png' | 'webp' | 'tiff';

export const ACCEPTED_TYPES: readonly ImageType[] = ['jpeg', 'png', 'webp', 'tiff'];

export function sniffImageType(bytes: Buffer): ImageType | undefined {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (bytes.length >= 8 && bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'png';
  if (bytes.length >= 12 && bytes.toString('latin1', 0, 4) === 'RIFF' && bytes.toString('latin1', 8, 12) === 'WEBP') return 'webp';
  if (bytes.length >= 4 && (bytes.toString('latin1', 0, 4) === 'II*\0' || bytes.toString('latin1', 0, 4) === 'MM\0*')) return 'tiff';
  return undefined;
}

export interface ImageLimits {
  maxPixels: number;
}

/** Type and size checked, then decoded to RGB with its long side at most `longSide`. */
export async function readQueryImage(bytes: Buffer, limits: ImageLimits, longSide: number, what = 'the image'): Promise<RawRgbImage> {
  const type = sniffImageType(bytes);
  if (!type) {
    throw new Problem('unsupported-media-type', `${what} is not a JPEG, PNG, WebP or TIFF file (judged from its content); convert it to one of these`);
  }
  let width: number;
  let height: number;
  try {
    ({ width, height } = await readImageHeader(bytes, { maxInputPixels: Number.MAX_SAFE_INTEGER }));
  } catch {
    throw new Problem('unprocessable-image', `${what} looks like ${type.toUpperCase()} but its header cannot be read; the file may be damaged`);
  }
  if (width * height > limits.maxPixels) {
    throw new Problem(
      'unprocessable-image',
      `${what} is ${width}×${height} (${width * height} pixels), over the ${limits.maxPixels}-pixel limit (api.maxImagePixels); send a smaller version`,
    );
  }
  try {
    const decoded = await decodeImage(bytes, { longSide, maxInputPixels: limits.maxPixels, limitSetting: 'api.maxImagePixels' });
    return { data: decoded.data, width: decoded.width, height: decoded.height, channels: 3 };
  } catch (err) {
    if (err instanceof ImageDecodeError) throw new Problem('unprocessable-image', `${what} cannot be decoded: ${err.message}`);
    throw err;
  }
}
