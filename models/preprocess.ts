import sharp, { type KernelEnum } from 'sharp';
import type { ImagePreprocessConfig, Region } from './types.ts';
import { decodeImage, ImageDecodeError, RepriseError } from '../common/index.ts';

/**
 * Images → the float tensor an image tower takes: [batch, 3, S, S], CHW, normalised with
 * the model's mean/std. Reproduces OpenAI CLIP's transform (PIL bicubic resize of the short
 * side, centre crop, ToTensor, Normalize), plus SigLIP's plain squash: sharp decodes and,
 * when it shrinks, resizes; PIL's resampling, reproduced here, does what sharp cannot match.
 */

/** Packed 8-bit RGB, row-major, as the harvester's decoder hands it over. */
export interface RawRgbImage {
  data: Buffer;
  width: number;
  height: number;
  channels: 3;
}

/** An encoded file (JPEG, PNG, TIFF, WebP, …) or pixels already decoded. */
export type ImageInput = Buffer | RawRgbImage;

export type ResizeKernel = keyof KernelEnum;

/**
 * Who resizes. 'auto' (default): sharp for reductions, where its 'cubic' kernel is within one
 * grey level of PIL on OpenAI's reference (under one level on average on photographs, a few at
 * worst on sharp edges) and runs off the event loop; PIL's own algorithm, in TypeScript, for
 * enlargements (small images, region crops), where libvips samples half an output pixel away
 * from PIL's grid whatever the kernel. 'pil': PIL's algorithm always (bit-exact with OpenAI's
 * transform, 4–10× slower than sharp and on the main thread). 'sharp': sharp always.
 * In 'auto', 'nearest' is always PIL's: it costs next to nothing and sharp's sampling grid differs.
 */
export type Resampler = 'auto' | 'pil' | 'sharp';

export interface PreprocessOptions {
  resampler?: Resampler;
  /**
   * sharp kernel for 'bicubic' when sharp resizes. Default 'cubic' (Catmull-Rom, a = -0.5,
   * PIL's bicubic): on OpenAI's reference it is within one grey level of PIL, where
   * 'lanczos3' is four off and 'mitchell' twelve (see test/models/preprocess.test.ts).
   */
  bicubicKernel?: ResizeKernel;
  /** Refuse encoded images with more pixels, read from the header before decoding (default common/image-decode.ts's DEFAULT_MAX_INPUT_PIXELS). */
  maxInputPixels?: number;
}

/** The image or the region asked for cannot be made into model input; the caller's fault or the file's. */
export class ImagePreprocessError extends RepriseError {
  override name = 'ImagePreprocessError';
}

/** Integer box in pixels, as sharp's extract wants it. */
export interface PixelBox {
  left: number;
  top: number;
  width: number;
  height: number;
}

const SHARP_KERNEL_FOR: Record<ImagePreprocessConfig['resample'], ResizeKernel> = {
  bicubic: 'cubic',
  bilinear: 'linear',
  nearest: 'nearest',
};

/**
 * Preprocesses a batch; `regions[i]`, when given, is cut from image i (in its pixels, after
 * EXIF orientation) before anything else, so a detail is seen at the model's full resolution.
 */
export async function preprocessImages(
  inputs: ImageInput[],
  cfg: ImagePreprocessConfig,
  regions?: Array<Region | undefined>,
  opts: PreprocessOptions = {},
): Promise<Float32Array> {
  validateConfig(cfg);
  if (regions !== undefined && regions.length !== inputs.length) {
    throw new ImagePreprocessError(`got ${regions.length} regions for ${inputs.length} images; give one (or undefined) per image`);
  }
  const plane = cfg.size * cfg.size;
  const out = new Float32Array(inputs.length * 3 * plane);
  const lut = normalisationTable(cfg);
  await Promise.all(
    inputs.map(async (input, i) => {
      const rgb = await toRgb(input, opts, i);
      const pixels = await modelPixels(rgb, cfg, regions?.[i], opts, i);
      writeChw(pixels, lut, out, i * 3 * plane, plane);
    }),
  );
  return out;
}

/** Several regions of one image in one batch, decoding it once (region search, detail crops). */
export async function preprocessRegions(
  input: ImageInput,
  cfg: ImagePreprocessConfig,
  regions: Region[],
  opts: PreprocessOptions = {},
): Promise<Float32Array> {
  validateConfig(cfg);
  const plane = cfg.size * cfg.size;
  const out = new Float32Array(regions.length * 3 * plane);
  if (regions.length === 0) return out;
  const lut = normalisationTable(cfg);
  const rgb = await toRgb(input, opts, 0);
  await Promise.all(
    regions.map(async (region, i) => {
      const pixels = await modelPixels(rgb, cfg, region, opts, i);
      writeChw(pixels, lut, out, i * 3 * plane, plane);
    }),
  );
  return out;
}

/** Decodes an encoded image as every part of Reprise does (common/image-decode.ts): a query image and a harvested one of the same file give the same pixels. */
export async function decodeToRgb(bytes: Buffer, opts: Pick<PreprocessOptions, 'maxInputPixels'> = {}): Promise<RawRgbImage> {
  const { data, width, height } = await decodeImage(bytes, { maxInputPixels: opts.maxInputPixels });
  return { data, width, height, channels: 3 };
}

/**
 * A region clamped to the image and snapped outwards to whole pixels (a region from
 * fractional canvas coordinates keeps every pixel it touches). Empty, non-finite or
 * entirely outside regions are refused rather than silently turned into something else.
 */
export function clampRegion(region: Region, width: number, height: number): PixelBox {
  const { x, y, w, h } = region ?? ({} as Region);
  if (![x, y, w, h].every((v) => typeof v === 'number' && Number.isFinite(v))) {
    throw new ImagePreprocessError(`invalid region ${JSON.stringify(region)}: x, y, w and h must be finite numbers`);
  }
  if (w <= 0 || h <= 0) throw new ImagePreprocessError(`empty region ${JSON.stringify(region)}: width and height must be positive`);
  const left = Math.floor(Math.max(0, x));
  const top = Math.floor(Math.max(0, y));
  const right = Math.ceil(Math.min(width, x + w));
  const bottom = Math.ceil(Math.min(height, y + h));
  if (right <= left || bottom <= top) {
    throw new ImagePreprocessError(`region ${JSON.stringify(region)} lies outside the ${width}×${height} image`);
  }
  return { left, top, width: right - left, height: bottom - top };
}

/**
 * Target size of the resize and the crop after it. Sizes and offsets follow torchvision
 * (which OpenAI's transform uses): the long side is truncated, `int(S * long / short)`, and
 * the crop offset is Python's `round`, which rounds halves to even.
 */
export function resizePlan(width: number, height: number, cfg: Pick<ImagePreprocessConfig, 'size' | 'resizeMode' | 'resizeShortSide'>): {
  width: number;
  height: number;
  crop: PixelBox;
} {
  const S = cfg.size;
  if (cfg.resizeMode === 'squash') return { width: S, height: S, crop: { left: 0, top: 0, width: S, height: S } };
  const R = cfg.resizeShortSide ?? S;
  const short = Math.min(width, height);
  const long = Math.max(width, height);
  const newLong = Math.floor((R * long) / short);
  const w = width <= height ? R : newLong;
  const h = width <= height ? newLong : R;
  return { width: w, height: h, crop: { left: roundHalfEven((w - S) / 2), top: roundHalfEven((h - S) / 2), width: S, height: S } };
}

function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const diff = v - f;
  if (diff > 0.5) return f + 1;
  if (diff < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

async function toRgb(input: ImageInput, opts: PreprocessOptions, index: number): Promise<RawRgbImage> {
  try {
    if (Buffer.isBuffer(input)) return await decodeToRgb(input, opts);
    return checkRaw(input);
  } catch (err) {
    if (err instanceof ImagePreprocessError) throw new ImagePreprocessError(`image ${index}: ${err.message}`);
    if (err instanceof ImageDecodeError) throw new ImageDecodeError(`image ${index}: ${err.message}`, { cause: err });
    throw err;
  }
}

function checkRaw(input: RawRgbImage): RawRgbImage {
  if (!input || typeof input !== 'object' || !Buffer.isBuffer(input.data)) {
    throw new ImagePreprocessError('expected an encoded image Buffer or { data, width, height, channels: 3 }');
  }
  const { width, height, channels } = input;
  if (channels !== 3) throw new ImagePreprocessError(`raw pixels must be RGB (channels: 3), got ${channels}`);
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new ImagePreprocessError(`raw pixels have an invalid size ${width}×${height}`);
  }
  if (input.data.length !== width * height * 3) {
    throw new ImagePreprocessError(`raw pixels hold ${input.data.length} bytes, expected ${width}×${height}×3 = ${width * height * 3}`);
  }
  return input;
}

/** Region → resize → crop on decoded pixels; S×S×3 bytes out. */
async function modelPixels(
  rgb: RawRgbImage,
  cfg: ImagePreprocessConfig,
  region: Region | undefined,
  opts: PreprocessOptions,
  index: number,
): Promise<Buffer> {
  let box: PixelBox;
  try {
    box = region === undefined ? { left: 0, top: 0, width: rgb.width, height: rgb.height } : clampRegion(region, rgb.width, rgb.height);
  } catch (err) {
    throw new ImagePreprocessError(`region ${index}: ${(err as Error).message}`);
  }
  const plan = resizePlan(box.width, box.height, cfg);
  const resampler = opts.resampler ?? 'auto';
  if (resampler !== 'auto' && resampler !== 'pil' && resampler !== 'sharp') throw new RangeError(`unknown resampler ${String(resampler)}`);
  const enlarges = plan.width > box.width || plan.height > box.height;
  const useSharp = resampler === 'sharp' || (resampler === 'auto' && !enlarges && cfg.resample !== 'nearest');
  if (!useSharp) {
    return pilResize(rgb.data, rgb.width, box, plan.width, plan.height, cfg.resample, plan.crop);
  }

  const kernel = cfg.resample === 'bicubic' ? (opts.bicubicKernel ?? SHARP_KERNEL_FOR.bicubic) : SHARP_KERNEL_FOR[cfg.resample];
  let pipeline = sharp(rgb.data, { raw: { width: rgb.width, height: rgb.height, channels: 3 } });
  if (box.width !== rgb.width || box.height !== rgb.height) pipeline = pipeline.extract(box);
  pipeline = pipeline.resize({ width: plan.width, height: plan.height, fit: 'fill', kernel });
  if (plan.width !== cfg.size || plan.height !== cfg.size) pipeline = pipeline.extract(plan.crop);
  const { data, info } = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  if (info.width !== cfg.size || info.height !== cfg.size || info.channels !== 3) {
    throw new Error(`preprocessing produced ${info.width}×${info.height}×${info.channels}, expected ${cfg.size}×${cfg.size}×3`);
  }
  return data;
}

// PIL's resampling (Pillow src/libImaging/Resample.c), which torchvision's Resize calls on PIL
// images and so OpenAI's transform uses: separable, horizontal pass first into 8-bit, filter
// support widened by the scale when reducing, weights normalised and rounded to 22-bit fixed
// point. Reproduced step for step so that the rounding, not only the maths, is PIL's.

const PRECISION_BITS = 32 - 8 - 2;
const FIXED_ONE = 2 ** PRECISION_BITS;
const FIXED_HALF = 2 ** (PRECISION_BITS - 1);

const PIL_FILTERS: Record<'bicubic' | 'bilinear', { support: number; weight: (x: number) => number }> = {
  bicubic: {
    support: 2,
    weight: (x) => {
      const a = -0.5;
      x = Math.abs(x);
      if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
      if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
      return 0;
    },
  },
  bilinear: { support: 1, weight: (x) => (Math.abs(x) < 1 ? 1 - Math.abs(x) : 0) },
};

interface Coefficients {
  /** First source index and tap count per output index. */
  first: Int32Array;
  count: Int32Array;
  /** Fixed-point weights, `stride` slots per output index. */
  weights: Int32Array;
  stride: number;
}

function pilCoefficients(inSize: number, outSize: number, filter: (typeof PIL_FILTERS)['bicubic']): Coefficients {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filter.support * filterScale;
  const stride = Math.ceil(support) * 2 + 1;
  const first = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * stride);
  const raw = new Float64Array(stride);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    // C's (int) truncates; both bounds are clamped to the image as PIL does.
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const n = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let sum = 0;
    for (let x = 0; x < n; x++) {
      raw[x] = filter.weight((x + xmin - center + 0.5) / filterScale);
      sum += raw[x]!;
    }
    for (let x = 0; x < n; x++) {
      const w = sum !== 0 ? raw[x]! / sum : raw[x]!;
      weights[xx * stride + x] = Math.trunc(w * FIXED_ONE + (w < 0 ? -0.5 : 0.5));
    }
    first[xx] = xmin;
    count[xx] = n;
  }
  return { first, count, weights, stride };
}

function clip8(acc: number): number {
  const v = acc >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/**
 * Resizes the `box` of a packed RGB image to outWidth×outHeight as PIL's Image.resize would,
 * and returns only the `window` of the result (default: all of it). Each output pixel depends
 * on its own row and column of weights only, so computing just the window is exact and spares
 * the work a centre crop would throw away.
 */
export function pilResize(
  src: Buffer,
  srcWidth: number,
  box: PixelBox,
  outWidth: number,
  outHeight: number,
  resample: ImagePreprocessConfig['resample'],
  window: PixelBox = { left: 0, top: 0, width: outWidth, height: outHeight },
): Buffer {
  if (resample === 'nearest') return pilNearest(src, srcWidth, box, outWidth, outHeight, window);
  const filter = PIL_FILTERS[resample];
  const resizeX = outWidth !== box.width;
  const resizeY = outHeight !== box.height;
  const hc = resizeX ? pilCoefficients(box.width, outWidth, filter) : undefined;
  const vc = resizeY ? pilCoefficients(box.height, outHeight, filter) : undefined;

  // Source rows the window needs (all of the window's own rows when there is no vertical pass).
  let rowFirst = window.top;
  let rowEnd = window.top + window.height;
  if (vc) {
    rowFirst = vc.first[window.top]!;
    rowEnd = 0;
    for (let yy = window.top; yy < window.top + window.height; yy++) rowEnd = Math.max(rowEnd, vc.first[yy]! + vc.count[yy]!);
  }

  // Horizontal pass (skipped, as in PIL, when the width does not change) into 8-bit rows,
  // window.width pixels wide, one per needed source row.
  const lineBytes = window.width * 3;
  const rows = Buffer.allocUnsafe((rowEnd - rowFirst) * lineBytes);
  for (let y = rowFirst; y < rowEnd; y++) {
    const srcRow = ((box.top + y) * srcWidth + box.left) * 3;
    const dstRow = (y - rowFirst) * lineBytes;
    if (!hc) {
      src.copy(rows, dstRow, srcRow + window.left * 3, srcRow + (window.left + window.width) * 3);
      continue;
    }
    for (let xx = window.left, d = dstRow; xx < window.left + window.width; xx++, d += 3) {
      const k0 = xx * hc.stride;
      const n = hc.count[xx]!;
      let p = srcRow + hc.first[xx]! * 3;
      let r = FIXED_HALF;
      let g = FIXED_HALF;
      let b = FIXED_HALF;
      for (let x = 0; x < n; x++, p += 3) {
        const k = hc.weights[k0 + x]!;
        r = (r + src[p]! * k) | 0;
        g = (g + src[p + 1]! * k) | 0;
        b = (b + src[p + 2]! * k) | 0;
      }
      rows[d] = clip8(r);
      rows[d + 1] = clip8(g);
      rows[d + 2] = clip8(b);
    }
  }
  if (!vc) return rows;

  // Vertical pass, a row of taps at a time so memory is read in order.
  const out = Buffer.allocUnsafe(window.height * lineBytes);
  const acc = new Int32Array(lineBytes);
  for (let yy = window.top; yy < window.top + window.height; yy++) {
    const k0 = yy * vc.stride;
    const n = vc.count[yy]!;
    acc.fill(FIXED_HALF);
    for (let y = 0; y < n; y++) {
      const k = vc.weights[k0 + y]!;
      const from = (vc.first[yy]! + y - rowFirst) * lineBytes;
      for (let i = 0; i < lineBytes; i++) acc[i] = (acc[i]! + rows[from + i]! * k) | 0;
    }
    const dst = (yy - window.top) * lineBytes;
    for (let i = 0; i < lineBytes; i++) out[dst + i] = clip8(acc[i]!);
  }
  return out;
}

/** PIL's NEAREST resize samples the source pixel under each output pixel's centre. */
function pilNearest(src: Buffer, srcWidth: number, box: PixelBox, outWidth: number, outHeight: number, window: PixelBox): Buffer {
  const out = Buffer.allocUnsafe(window.width * window.height * 3);
  const sx = box.width / outWidth;
  const sy = box.height / outHeight;
  for (let y = 0; y < window.height; y++) {
    const yin = box.top + Math.min(Math.trunc((window.top + y + 0.5) * sy), box.height - 1);
    for (let x = 0; x < window.width; x++) {
      const xin = box.left + Math.min(Math.trunc((window.left + x + 0.5) * sx), box.width - 1);
      const p = (yin * srcWidth + xin) * 3;
      const d = (y * window.width + x) * 3;
      out[d] = src[p]!;
      out[d + 1] = src[p + 1]!;
      out[d + 2] = src[p + 2]!;
    }
  }
  return out;
}

/** (v / 255 - mean) / std for every byte value and channel: 768 floats instead of a division per pixel. */
function normalisationTable(cfg: ImagePreprocessConfig): Float32Array {
  const lut = new Float32Array(3 * 256);
  for (let c = 0; c < 3; c++) {
    for (let v = 0; v < 256; v++) lut[c * 256 + v] = (v / 255 - cfg.mean[c]!) / cfg.std[c]!;
  }
  return lut;
}

function writeChw(hwc: Buffer, lut: Float32Array, out: Float32Array, offset: number, plane: number): void {
  for (let p = 0, q = 0; p < plane; p++, q += 3) {
    out[offset + p] = lut[hwc[q]!]!;
    out[offset + plane + p] = lut[256 + hwc[q + 1]!]!;
    out[offset + 2 * plane + p] = lut[512 + hwc[q + 2]!]!;
  }
}

function validateConfig(cfg: ImagePreprocessConfig): void {
  if (!Number.isInteger(cfg.size) || cfg.size < 1) throw new RangeError(`image size must be a positive integer, got ${cfg.size}`);
  if (cfg.resizeMode !== 'shortest-edge-crop' && cfg.resizeMode !== 'squash') throw new RangeError(`unknown resizeMode ${String(cfg.resizeMode)}`);
  if (cfg.resizeShortSide !== undefined && !(Number.isInteger(cfg.resizeShortSide) && cfg.resizeShortSide >= cfg.size)) {
    throw new RangeError(`resizeShortSide must be an integer no smaller than size ${cfg.size}, got ${cfg.resizeShortSide}`);
  }
  if (!(cfg.resample in SHARP_KERNEL_FOR)) throw new RangeError(`unknown resample ${String(cfg.resample)}`);
  for (const [name, values] of [['mean', cfg.mean], ['std', cfg.std]] as const) {
    if (!Array.isArray(values) || values.length !== 3 || !values.every((v) => Number.isFinite(v))) {
      throw new RangeError(`${name} must be three finite numbers`);
    }
  }
  if (cfg.std.some((v) => v === 0)) throw new RangeError('std must not contain 0');
}
