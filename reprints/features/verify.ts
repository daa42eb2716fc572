import { localFeatures } from './native.ts';
import type { AnalysisFrame, ImageFeatures, Rect } from './types.ts';

export interface VerifyOptions {
  /** Lowe's ratio test. */
  ratio: number;
  /** RANSAC reprojection threshold, analysed pixels. */
  ransacThreshold: number;
  /** Accepted similarity scales between the two analysed images (a photo on a page is smaller, never 20× so). */
  minScale: number;
  maxScale: number;
}

export const DEFAULT_VERIFY: VerifyOptions = { ratio: 0.8, ransacThreshold: 5, minScale: 1 / 12, maxScale: 12 };

/** Geometry as the verification sees it: keypoint positions, descriptors and the frame. */
export type VerifiableFeatures = Pick<ImageFeatures, 'frame' | 'keypoints' | 'descriptors'>;

/** A similarity transform [a, -b, tx; b, a, ty] mapping query source pixels to candidate source pixels. */
export interface Similarity {
  scale: number;
  /** Degrees, counter-clockwise in image coordinates (y down). */
  rotation: number;
  tx: number;
  ty: number;
  /** Row-major 2×3 matrix. */
  matrix: [number, number, number, number, number, number];
}

export interface PairMatch {
  /** Geometrically consistent matches (distinct positions in both images). */
  inliers: number;
  /** Matches that passed the ratio test. */
  matches: number;
  transform: Similarity;
  /** The overlap: query content mapped into the candidate, in candidate source pixels. */
  region: Rect;
  /** The overlap: candidate content mapped into the query, in query source pixels. */
  queryRegion: Rect;
}

/** 2×3 affine mapping analysed pixels of a frame to its source pixels. */
const frameToSource = (f: AnalysisFrame): number[] => [f.scale, 0, f.offsetX, 0, f.scale, f.offsetY];
const sourceToFrame = (f: AnalysisFrame): number[] => [1 / f.scale, 0, -f.offsetX / f.scale, 0, 1 / f.scale, -f.offsetY / f.scale];

/** m1 ∘ m2 (apply m2 first). */
function compose(m1: ArrayLike<number>, m2: ArrayLike<number>): number[] {
  return [
    m1[0]! * m2[0]! + m1[1]! * m2[3]!,
    m1[0]! * m2[1]! + m1[1]! * m2[4]!,
    m1[0]! * m2[2]! + m1[1]! * m2[5]! + m1[2]!,
    m1[3]! * m2[0]! + m1[4]! * m2[3]!,
    m1[3]! * m2[1]! + m1[4]! * m2[4]!,
    m1[3]! * m2[2]! + m1[4]! * m2[5]! + m1[5]!,
  ];
}

function invert(m: ArrayLike<number>): number[] {
  const det = m[0]! * m[4]! - m[1]! * m[3]!;
  const a = m[4]! / det;
  const b = -m[1]! / det;
  const d = -m[3]! / det;
  const e = m[0]! / det;
  return [a, b, -(a * m[2]! + b * m[5]!), d, e, -(d * m[2]! + e * m[5]!)];
}

/** Bounding box of a rectangle mapped through m, clipped to [0, width] × [0, height]. */
function mapRect(m: ArrayLike<number>, r: Rect, width: number, height: number): Rect {
  const corners = [
    [r.x, r.y],
    [r.x + r.w, r.y],
    [r.x, r.y + r.h],
    [r.x + r.w, r.y + r.h],
  ].map(([x, y]) => [m[0]! * x! + m[1]! * y! + m[2]!, m[3]! * x! + m[4]! * y! + m[5]!] as const);
  const x0 = Math.max(0, Math.min(...corners.map((c) => c[0])));
  const y0 = Math.max(0, Math.min(...corners.map((c) => c[1])));
  const x1 = Math.min(width, Math.max(...corners.map((c) => c[0])));
  const y1 = Math.min(height, Math.max(...corners.map((c) => c[1])));
  return { x: Math.round(x0), y: Math.round(y0), w: Math.max(0, Math.round(x1 - x0)), h: Math.max(0, Math.round(y1 - y0)) };
}

const contentRect = (f: AnalysisFrame): Rect => ({ x: f.offsetX, y: f.offsetY, w: f.width * f.scale, h: f.height * f.scale });

/** Positions counted once: duplicate keypoints (one per orientation) must not vote twice. */
function distinctPositions(keypoints: Float32Array, indices: Int32Array, offset: number): number {
  const seen = new Set<number>();
  for (let i = offset; i < indices.length; i += 2) {
    const k = indices[i]!;
    seen.add(Math.round(keypoints[k * 4]! * 2) * 65536 + Math.round(keypoints[k * 4 + 1]! * 2));
  }
  return seen.size;
}

/**
 * Matches two images' local features: ratio test, one match per candidate keypoint, similarity
 * RANSAC. Undefined when no plausible transform exists; the caller decides on the inlier count.
 */
export function verifyPair(
  query: VerifiableFeatures,
  candidate: VerifiableFeatures,
  options: VerifyOptions = DEFAULT_VERIFY,
  /** Pairs with fewer ratio-test matches cannot reach the caller's threshold: RANSAC is skipped for them. */
  minMatches = 3,
): PairMatch | undefined {
  if (query.descriptors.length === 0 || candidate.descriptors.length === 0) return undefined;
  const result = localFeatures().verify(query.keypoints, query.descriptors, candidate.keypoints, candidate.descriptors, {
    ratio: options.ratio,
    ransacThreshold: options.ransacThreshold,
    minMatches,
  });
  if (!result.transform || result.inliers < 3) return undefined;
  const t = result.transform;
  const scale = Math.hypot(t[0]!, t[3]!);
  if (!(scale >= options.minScale && scale <= options.maxScale)) return undefined;
  const inliers = Math.min(distinctPositions(query.keypoints, result.pairs, 0), distinctPositions(candidate.keypoints, result.pairs, 1));
  // Query source → query analysed → candidate analysed → candidate source.
  const m = compose(frameToSource(candidate.frame), compose(t, sourceToFrame(query.frame)));
  const inverse = invert(m);
  const region = mapRect(m, contentRect(query.frame), candidate.frame.sourceWidth, candidate.frame.sourceHeight);
  const queryRegion = mapRect(inverse, contentRect(candidate.frame), query.frame.sourceWidth, query.frame.sourceHeight);
  const sourceScale = Math.hypot(m[0]!, m[3]!);
  return {
    inliers,
    matches: result.matches,
    transform: {
      scale: sourceScale,
      rotation: (Math.atan2(m[3]!, m[0]!) * 180) / Math.PI,
      tx: m[2]!,
      ty: m[5]!,
      matrix: m as Similarity['matrix'],
    },
    region,
    queryRegion,
  };
}

/**
 * How sure a verified pair is the same photograph, 0–1, from its inlier count. Calibrated on the
 * shared photographs (eval:reprints): different photographs stayed at or below 8 inliers, so
 * 10 (the default threshold) reads 0.75 and 16 reads above 0.99.
 */
export function confidence(inliers: number): number {
  return 1 / (1 + Math.exp(-(inliers - 9) / 0.9));
}

export const DEFAULT_MIN_INLIERS = 9;
