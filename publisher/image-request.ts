/**
 * The Image API request grammar, for versions 2.1 and 3.0, checked strictly and worked out
 * against one image: which pixels, at what size, turned how, in which quality and format.
 * iiif-processor renders the result; the arithmetic lives here so that every answer follows
 * the specification (v3 `!w,h` never upscales without `^`, `max` respects the limits, sizes
 * over the limits are refused; the limits bound the returned image, rotation included) and every refusal says which parameter is wrong and why.
 */
import { BadRequestError, NotImplementedError } from './errors.ts';
import type { PublisherLimits } from './limits.ts';

export type ImageApiVersion = 2 | 3;

export interface PixelSize {
  width: number;
  height: number;
}

export interface PixelRegion extends PixelSize {
  x: number;
  y: number;
}

/** Output formats served, with their media types. */
export const FORMATS = {
  jpg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
  tif: 'image/tiff',
} as const;
export type OutputFormat = keyof typeof FORMATS;

export const QUALITIES = ['default', 'color', 'gray', 'bitonal'] as const;
export type Quality = (typeof QUALITIES)[number];

/** The four path segments after the identifier, as sent (percent-decoded). */
export interface ImageRequestParams {
  region: string;
  size: string;
  rotation: string;
  quality: string;
  format: string;
}

export interface ResolvedImageRequest {
  version: ImageApiVersion;
  region: PixelRegion;
  /** The output size before rotation. */
  size: PixelSize;
  /** The output is larger than the region in at least one dimension. */
  upscaled: boolean;
  mirror: boolean;
  degrees: number;
  quality: Quality;
  format: OutputFormat;
  contentType: string;
  /** region/size/rotation/quality.format in the version's canonical form (for the canonical Link header). */
  canonical: string;
  /** The same request with every value explicit, as handed to iiif-processor. */
  explicit: string;
}

const INTEGER = /^\d+$/;
const DECIMAL = /^(?:\d+(?:\.\d+)?|\.\d+)$/;

function integer(value: string, what: string): number {
  const n = Number(value);
  if (!INTEGER.test(value) || !Number.isSafeInteger(n)) throw new BadRequestError(`${what}: "${value}" is not a whole number of pixels`);
  return n;
}

function decimal(value: string, what: string): number {
  const n = Number(value);
  if (!DECIMAL.test(value) || !Number.isFinite(n)) throw new BadRequestError(`${what}: "${value}" is not a non-negative number`);
  return n;
}

/** Shortest decimal form: 90 not 90.0, 22.5 not 22.50. */
function formatNumber(n: number): string {
  return String(Number(n.toFixed(10)));
}

export function parseRegion(value: string, image: PixelSize): PixelRegion & { full: boolean } {
  const syntax = 'region must be full, square, x,y,w,h or pct:x,y,w,h';
  let x: number, y: number, w: number, h: number;
  if (value === 'full') {
    return { x: 0, y: 0, width: image.width, height: image.height, full: true };
  } else if (value === 'square') {
    const side = Math.min(image.width, image.height);
    x = Math.floor((image.width - side) / 2);
    y = Math.floor((image.height - side) / 2);
    w = h = side;
  } else if (value.startsWith('pct:')) {
    const parts = value.slice(4).split(',');
    if (parts.length !== 4) throw new BadRequestError(`${syntax}; "${value}" does not have four percentages`);
    const [px, py, pw, ph] = parts.map((p) => decimal(p, `region "${value}"`)) as [number, number, number, number];
    if (pw === 0 || ph === 0) throw new BadRequestError(`region "${value}" has zero width or height`);
    x = Math.floor((px * image.width) / 100);
    y = Math.floor((py * image.height) / 100);
    // A sliver narrower than a pixel is still a pixel: only a zero percentage is an empty region.
    w = Math.max(1, Math.round((pw * image.width) / 100));
    h = Math.max(1, Math.round((ph * image.height) / 100));
  } else {
    const parts = value.split(',');
    if (parts.length !== 4) throw new BadRequestError(`${syntax}, got "${value}"`);
    [x, y, w, h] = parts.map((p) => integer(p, `region "${value}"`)) as [number, number, number, number];
    if (w === 0 || h === 0) throw new BadRequestError(`region "${value}" has zero width or height`);
  }
  if (x >= image.width || y >= image.height) {
    throw new BadRequestError(`region "${value}" lies outside the image, which is ${image.width}×${image.height} pixels`);
  }
  w = Math.min(w, image.width - x);
  h = Math.min(h, image.height - y);
  return { x, y, width: w, height: h, full: x === 0 && y === 0 && w === image.width && h === image.height };
}

/** |cos| and |sin| of a clockwise turn, exact at multiples of 90° (where floating point leaves 6e-17). */
function turnFactors(degrees: number): { cos: number; sin: number } {
  const d = degrees % 360;
  if (d % 180 === 0) return { cos: 1, sin: 0 };
  if (d % 90 === 0) return { cos: 0, sin: 1 };
  const radians = (d * Math.PI) / 180;
  return { cos: Math.abs(Math.cos(radians)), sin: Math.abs(Math.sin(radians)) };
}

/**
 * The size of the image returned for `size` turned by `degrees`: an arbitrary angle returns
 * the bounding box of the turned image, rounded to whole pixels as libvips does; 90° and 270°
 * swap width and height. This, not `size`, is what the output limits bound.
 */
export function rotatedSize(size: PixelSize, degrees: number): PixelSize {
  const { cos, sin } = turnFactors(degrees);
  if (sin === 0) return { width: size.width, height: size.height };
  if (cos === 0) return { width: size.height, height: size.width };
  // Halves, and what floating point leaves a hair under them, round up: never under what libvips gives.
  return {
    width: Math.round(size.width * cos + size.height * sin + 1e-6),
    height: Math.round(size.width * sin + size.height * cos + 1e-6),
  };
}

/**
 * The largest size of `region` whose output, turned by `degrees`, is within the output limits;
 * never above `region` unless `upscale`.
 */
export function maxSize(region: PixelSize, limits: PublisherLimits, upscale: boolean, degrees = 0): PixelSize {
  // The turned bounding box grows linearly with the scale, so one division per limit finds it.
  const { cos, sin } = turnFactors(degrees);
  const boxWidth = region.width * cos + region.height * sin;
  const boxHeight = region.width * sin + region.height * cos;
  let scale = Math.min(limits.maxWidth / boxWidth, limits.maxHeight / boxHeight, Math.sqrt(limits.maxArea / (boxWidth * boxHeight)));
  if (!upscale) scale = Math.min(1, scale);
  // The epsilon keeps 300/451·451 from flooring to 299.
  let width = Math.max(1, Math.floor(region.width * scale + 1e-6));
  let height = Math.max(1, Math.floor(region.height * scale + 1e-6));
  // Rounding (and the bounding box rounding up) can leave a pixel over: shave the side that keeps the aspect closest.
  // (A sliver kept at one pixel high can only lose width.) A 1×1 output fits any limits, so this ends.
  while (!withinLimits(rotatedSize({ width, height }, degrees), limits) && (width > 1 || height > 1)) {
    if (height === 1 || (width > 1 && width * region.height >= height * region.width)) width--;
    else height--;
  }
  return { width, height };
}

function withinLimits(size: PixelSize, limits: PublisherLimits): boolean {
  return size.width <= limits.maxWidth && size.height <= limits.maxHeight && size.width * size.height <= limits.maxArea;
}

interface SizeResult extends PixelSize {
  /** How the size was asked for, for the canonical form. */
  kind: 'max' | 'full' | 'w' | 'h' | 'pct' | 'wh' | 'confined';
}

/** `degrees`: the rotation asked for, since the limits bound the turned output. */
export function parseSize(value: string, version: ImageApiVersion, region: PixelSize, limits: PublisherLimits, degrees = 0): SizeResult & { upscaled: boolean } {
  let body = value;
  const caret = body.startsWith('^');
  if (caret) {
    if (version === 2) throw new BadRequestError(`size "${value}": "^" is Image API 3 syntax; version 2 has no upscaling prefix`);
    body = body.slice(1);
  }
  // v2 upscales without asking; v3 only behind ^.
  const mayUpscale = version === 2 || caret;
  const syntax =
    version === 3
      ? 'size must be max, w,, ,h, pct:n, w,h or !w,h, optionally preceded by ^'
      : 'size must be full, max, w,, ,h, pct:n, w,h or !w,h';
  let result: SizeResult;
  if (body === 'full') {
    if (version === 3) throw new BadRequestError(`size "full" is Image API 2; in version 3 ask for "max"`);
    result = { ...region, kind: 'full' };
  } else if (body === 'max') {
    result = { ...maxSize(region, limits, caret && limits.allowUpscaling, degrees), kind: 'max' };
  } else if (body.startsWith('pct:')) {
    const n = decimal(body.slice(4), `size "${value}"`);
    if (n === 0) throw new BadRequestError(`size "${value}" is zero`);
    if (version === 3 && n > 100 && !caret) throw new BadRequestError(`size "${value}" is above 100%: Image API 3 asks for "^pct:${body.slice(4)}" to upscale`);
    result = { width: Math.round((region.width * n) / 100), height: Math.round((region.height * n) / 100), kind: 'pct' };
  } else if (body.startsWith('!')) {
    const parts = body.slice(1).split(',');
    if (parts.length !== 2) throw new BadRequestError(`${syntax}, got "${value}"`);
    const [w, h] = parts.map((p) => integer(p, `size "${value}"`)) as [number, number];
    if (w === 0 || h === 0) throw new BadRequestError(`size "${value}" has zero width or height`);
    let scale = Math.min(w / region.width, h / region.height);
    // "As large as possible but not larger than the extracted region, w or h, or server-imposed limits."
    if (!mayUpscale || !limits.allowUpscaling) scale = Math.min(1, scale);
    result = {
      width: Math.max(1, Math.min(w, Math.round(region.width * scale))),
      height: Math.max(1, Math.min(h, Math.round(region.height * scale))),
      kind: 'confined',
    };
    if (!withinLimits(rotatedSize(result, degrees), limits)) result = { ...maxSize(region, limits, true, degrees), kind: 'confined' };
  } else {
    const parts = body.split(',');
    if (parts.length !== 2 || (parts[0] === '' && parts[1] === '')) throw new BadRequestError(`${syntax}, got "${value}"`);
    const [ws, hs] = parts as [string, string];
    if (ws === '') {
      const h = integer(hs, `size "${value}"`);
      result = { width: Math.round((region.width * h) / region.height), height: h, kind: 'h' };
    } else if (hs === '') {
      const w = integer(ws, `size "${value}"`);
      result = { width: w, height: Math.round((region.height * w) / region.width), kind: 'w' };
    } else {
      result = { width: integer(ws, `size "${value}"`), height: integer(hs, `size "${value}"`), kind: 'wh' };
    }
  }
  if (result.width < 1 || result.height < 1) {
    throw new BadRequestError(`size "${value}" makes the ${region.width}×${region.height} region ${result.width}×${result.height} pixels: nothing to return`);
  }
  const upscaled = result.width > region.width || result.height > region.height;
  if (upscaled && version === 3 && !caret) {
    throw new BadRequestError(
      `size "${value}" (${result.width}×${result.height}) is larger than the ${region.width}×${region.height} region: Image API 3 asks for "^${value}" to upscale`,
    );
  }
  if (upscaled && !limits.allowUpscaling) {
    throw new NotImplementedError(`size "${value}" would upscale the ${region.width}×${region.height} region, and this server does not upscale`);
  }
  const returned = rotatedSize(result, degrees);
  if (!withinLimits(returned, limits)) {
    const turned = returned.width !== result.width || returned.height !== result.height ? `; ${returned.width}×${returned.height} once rotated ${formatNumber(degrees)}°` : '';
    throw new BadRequestError(
      `size "${value}" (${result.width}×${result.height}${turned}) is over this server's limits ` +
        `(maxWidth ${limits.maxWidth}, maxHeight ${limits.maxHeight}, maxArea ${limits.maxArea}, as info.json says): ask for "max" or a smaller size`,
    );
  }
  return { ...result, upscaled };
}

export function parseRotation(value: string): { mirror: boolean; degrees: number; canonical: string } {
  const mirror = value.startsWith('!');
  const body = mirror ? value.slice(1) : value;
  if (!DECIMAL.test(body)) {
    throw new BadRequestError(`rotation must be degrees from 0 to 360, optionally preceded by "!" to mirror, got "${value}"`);
  }
  const degrees = Number(body);
  if (degrees > 360) throw new BadRequestError(`rotation "${value}" is more than 360 degrees`);
  return { mirror, degrees: degrees % 360, canonical: `${mirror ? '!' : ''}${formatNumber(degrees)}` };
}

export function parseQuality(value: string): Quality {
  if ((QUALITIES as readonly string[]).includes(value)) return value as Quality;
  const hint = value === 'native' ? ' ("native" is Image API 1: use "default")' : value === 'grey' ? ' (spelled "gray")' : '';
  throw new BadRequestError(`quality must be one of ${QUALITIES.join(', ')}, got "${value}"${hint}`);
}

export function parseFormat(value: string): OutputFormat {
  if (Object.hasOwn(FORMATS, value)) return value as OutputFormat;
  const hint = value === 'jpeg' ? ' (spelled "jpg")' : value === 'tiff' ? ' (spelled "tif")' : '';
  throw new BadRequestError(`format "${value}" is not served here${hint}: ask for one of ${Object.keys(FORMATS).join(', ')}`);
}

/** Splits `quality.format` at its last dot. */
export function splitQualityFormat(segment: string): { quality: string; format: string } {
  const dot = segment.lastIndexOf('.');
  if (dot <= 0 || dot === segment.length - 1) {
    throw new BadRequestError(`the last path segment must be {quality}.{format}, e.g. default.jpg, got "${segment}"`);
  }
  return { quality: segment.slice(0, dot), format: segment.slice(dot + 1) };
}

function canonicalSize(version: ImageApiVersion, size: SizeResult & { upscaled: boolean }, region: PixelSize, limits: PublisherLimits, degrees: number): string {
  if (version === 3) {
    const max = maxSize(region, limits, false, degrees);
    if (!size.upscaled && size.width === max.width && size.height === max.height) return 'max';
    return `${size.upscaled ? '^' : ''}${size.width},${size.height}`;
  }
  if (size.width === region.width && size.height === region.height) return 'full';
  // v2.1: "w," when the aspect ratio is kept, "w,h" when it is distorted.
  const keepsAspect = Math.round((region.height * size.width) / region.width) === size.height;
  return keepsAspect ? `${size.width},` : `${size.width},${size.height}`;
}

/** Checks every parameter and works the request out against an image of size `image`. */
export function resolveImageRequest(
  version: ImageApiVersion,
  params: ImageRequestParams,
  image: PixelSize,
  limits: PublisherLimits,
): ResolvedImageRequest {
  // Quality and format first: they need no arithmetic and their errors are the plainest.
  const quality = parseQuality(params.quality);
  const format = parseFormat(params.format);
  const region = parseRegion(params.region, image);
  const rotation = parseRotation(params.rotation);
  const size = parseSize(params.size, version, region, limits, rotation.degrees);
  const { x, y, width, height } = region;
  const regionText = region.full ? 'full' : `${x},${y},${width},${height}`;
  const canonical = `${regionText}/${canonicalSize(version, size, region, limits, rotation.degrees)}/${rotation.canonical}/${quality}.${format}`;
  const explicitSize = `${version === 3 && size.upscaled ? '^' : ''}${size.width},${size.height}`;
  return {
    version,
    region: { x, y, width, height },
    size: { width: size.width, height: size.height },
    upscaled: size.upscaled,
    mirror: rotation.mirror,
    degrees: rotation.degrees,
    quality,
    format,
    contentType: FORMATS[format],
    canonical,
    explicit: `${x},${y},${width},${height}/${explicitSize}/${rotation.canonical}/${quality}.${format}`,
  };
}
