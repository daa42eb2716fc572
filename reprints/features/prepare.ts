import sharp, { type Sharp } from 'sharp';
import { openImage, readPixels } from '../../common/index.ts';
import { FeatureInputError } from './errors.ts';
import { localFeatures } from './native.ts';
import type { AnalysisFrame } from './types.ts';

/** Grey pixels ready for the detector, and where they came from. */
export interface PreparedImage {
  gray: Uint8Array;
  frame: AnalysisFrame;
  /** Set when the image holds nothing a reprint could be found in. */
  empty?: string;
}

export interface PrepareOptions {
  /** Long side of the analysed content: SIFT at 640 px measured best (keypoint sizes are relative to it). */
  longSide: number;
  /** Images with a shorter side (before trimming) are refused: too small to hold a photograph. */
  minSide: number;
  /**
   * Blur a halftone screen away before detection (a Gaussian tuned to the screen's period, found in
   * the image's spectrum): re-screened prints otherwise give SIFT their dots instead of the picture.
   */
  descreen: boolean | DescreenOptions;
}

/** How a screen is found and blurred (native/local_features.cc, descreen): the binding's defaults otherwise. */
export interface DescreenOptions {
  minPeriod?: number;
  maxPeriod?: number;
  minStrength?: number;
  smallPeriod?: number;
  minStrengthSmall?: number;
  sigmaPerPeriod?: number;
  minSigma?: number;
}

export const DEFAULT_PREPARE: PrepareOptions = { longSide: 640, minSide: 48, descreen: true };

/** Raw pixels, interleaved, 8-bit, any channel count (1 grey, 3 RGB, 4 RGBA). */
export interface RawPixels {
  data: Uint8Array;
  width: number;
  height: number;
  channels: number;
}

// A border line is "uniform" when its pixels barely vary and its level stays close to the edge's:
// white padding, black film borders, flat mounts. Bounded so that a dark sky is not trimmed away.
const UNIFORM_STD = 7;
const UNIFORM_LEVEL_DRIFT = 24;
const MAX_TRIM_FRACTION = 0.4;
// Below this grey-level spread the content is blank (an empty page, a flat fill): stretching would only amplify noise.
const MIN_CONTENT_SPREAD = 24;

function lineStats(gray: Uint8Array, width: number, start: number, step: number, count: number): { mean: number; std: number } {
  let sum = 0;
  let sq = 0;
  for (let i = 0, p = start; i < count; i++, p += step) {
    const v = gray[p]!;
    sum += v;
    sq += v * v;
  }
  const mean = sum / count;
  return { mean, std: Math.sqrt(Math.max(0, sq / count - mean * mean)) };
}

/** Bounds of the content inside uniform borders (padding, mounts, film edges), in the given grey image. */
export function contentBounds(gray: Uint8Array, width: number, height: number): { left: number; top: number; right: number; bottom: number } {
  const row = (y: number, x0: number, x1: number) => lineStats(gray, width, y * width + x0, 1, x1 - x0);
  const col = (x: number, y0: number, y1: number) => lineStats(gray, width, y0 * width + x, width, y1 - y0);
  let left = 0;
  let top = 0;
  let right = width;
  let bottom = height;
  const trim = (line: (i: number) => { mean: number; std: number }, from: number, dir: 1 | -1, limit: number): number => {
    const edge = line(from);
    if (edge.std > UNIFORM_STD) return from;
    let i = from;
    while (Math.abs(i - from) < limit) {
      const s = line(i);
      if (s.std > UNIFORM_STD || Math.abs(s.mean - edge.mean) > UNIFORM_LEVEL_DRIFT) break;
      i += dir;
    }
    return i;
  };
  // Two passes: a trimmed side changes the lines the other sides see (an L-shaped border).
  for (let pass = 0; pass < 2; pass++) {
    top = trim((y) => row(y, left, right), top, 1, Math.floor(height * MAX_TRIM_FRACTION));
    bottom = trim((y) => row(y, left, right), bottom - 1, -1, Math.floor(height * MAX_TRIM_FRACTION)) + 1;
    if (bottom - top < 8) return { left: 0, top: 0, right: width, bottom: height };
    left = trim((x) => col(x, top, bottom), left, 1, Math.floor(width * MAX_TRIM_FRACTION));
    right = trim((x) => col(x, top, bottom), right - 1, -1, Math.floor(width * MAX_TRIM_FRACTION)) + 1;
    if (right - left < 8) return { left: 0, top: 0, right: width, bottom: height };
  }
  return { left, top, right, bottom };
}

/** Stretches grey levels between the 0.5th and 99.5th percentiles, so dark or faded prints give keypoints too. */
function stretch(gray: Uint8Array): number {
  const histogram = new Uint32Array(256);
  for (let i = 0; i < gray.length; i++) histogram[gray[i]!]!++;
  const cut = gray.length * 0.005;
  let lo = 0;
  let hi = 255;
  for (let acc = 0; lo < 255 && acc + histogram[lo]! <= cut; lo++) acc += histogram[lo]!;
  for (let acc = 0; hi > 0 && acc + histogram[hi]! <= cut; hi--) acc += histogram[hi]!;
  const spread = hi - lo;
  if (spread < MIN_CONTENT_SPREAD || spread >= 250) return spread;
  const lut = new Uint8Array(256);
  for (let v = 0; v < 256; v++) lut[v] = Math.max(0, Math.min(255, Math.round(((v - lo) * 255) / spread)));
  for (let i = 0; i < gray.length; i++) gray[i] = lut[gray[i]!]!;
  return spread;
}

// The grey image borders are found on is at most this many times the analysis size: enough for a
// sharp resize of the content, and a harvested image (already at the analysis size) is greyed in
// one pass and, without borders, used as it is.
const WORKING_OVERSAMPLING = 2;

/**
 * An encoded image opened by the common decoder (orientation, sRGB, white under transparency,
 * the pixel limit), or raw pixels as they are; with the size they come in.
 */
export async function openInput(input: Buffer | RawPixels): Promise<{ pipeline: Sharp; width: number; height: number }> {
  if (Buffer.isBuffer(input)) return openImage(input);
  if (input.data.length !== input.width * input.height * input.channels) throw new FeatureInputError('raw pixels do not match width × height × channels');
  const pipeline = sharp(input.data, { raw: { width: input.width, height: input.height, channels: input.channels as 1 | 2 | 3 | 4 } });
  return { pipeline, width: input.width, height: input.height };
}

/**
 * Grey content at the analysis size: decoded, greyed, uniform borders trimmed, resized so the
 * content's long side is `longSide` (small images enlarged, so keypoint sizes mean the same
 * everywhere), levels stretched.
 */
export async function prepareImage(input: Buffer | RawPixels, options: PrepareOptions = DEFAULT_PREPARE): Promise<PreparedImage> {
  const { pipeline, width: sourceWidth, height: sourceHeight } = await openInput(input);
  if (Math.min(sourceWidth, sourceHeight) < options.minSide) {
    return { gray: new Uint8Array(0), frame: emptyFrame(sourceWidth, sourceHeight), empty: `too small (${sourceWidth}×${sourceHeight}, at least ${options.minSide} px a side)` };
  }
  const workScale = Math.min(1, (WORKING_OVERSAMPLING * options.longSide) / Math.max(sourceWidth, sourceHeight));
  const ww = Math.max(1, Math.round(sourceWidth * workScale));
  const wh = Math.max(1, Math.round(sourceHeight * workScale));
  const { data: work } = await readPixels(pipeline.flatten({ background: '#ffffff' }).greyscale().resize(ww, wh, { fit: 'fill', kernel: 'lanczos3' }).extractChannel(0));
  const workGray = new Uint8Array(work.buffer, work.byteOffset, ww * wh);
  // At the working size, before the content is resized: the screen's period is measured where its dots are still resolved.
  if (options.descreen) localFeatures().descreen(workGray, ww, wh, options.descreen === true ? undefined : options.descreen);
  const b = contentBounds(workGray, ww, wh);
  const cw = b.right - b.left;
  const ch = b.bottom - b.top;
  const resize = options.longSide / Math.max(cw, ch);
  const width = Math.max(1, Math.round(cw * resize));
  const height = Math.max(1, Math.round(ch * resize));
  let gray: Uint8Array;
  if (width === ww && height === wh) {
    gray = workGray;
  } else {
    const content = await sharp(workGray, { raw: { width: ww, height: wh, channels: 1 } })
      .extract({ left: b.left, top: b.top, width: cw, height: ch })
      .resize(width, height, { fit: 'fill', kernel: 'lanczos3' })
      .extractChannel(0)
      .raw()
      .toBuffer();
    gray = new Uint8Array(content.buffer, content.byteOffset, width * height);
  }
  const frame: AnalysisFrame = {
    sourceWidth,
    sourceHeight,
    scale: cw / workScale / width,
    offsetX: b.left / workScale,
    offsetY: b.top / workScale,
    width,
    height,
  };
  const spread = stretch(gray);
  if (spread < MIN_CONTENT_SPREAD) return { gray, frame, empty: 'blank (no contrast)' };
  return { gray, frame };
}

function emptyFrame(sourceWidth: number, sourceHeight: number): AnalysisFrame {
  return { sourceWidth, sourceHeight, scale: 1, offsetX: 0, offsetY: 0, width: sourceWidth, height: sourceHeight };
}
