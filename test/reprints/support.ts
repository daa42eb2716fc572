import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { extractFeatures, localFeaturesAvailable, type ImageFeatures, type Rect } from '../../reprints/features/index.ts';
import type { ReprintEntry, ReprintIndex } from '../../reprints/reprint-index/index.ts';
import { rng } from '../bench/reprints-degrade.ts';
import { fixture, requireFixtures } from '../support/fixtures.ts';

/**
 * Skips a suite when the native binding is not built (no OpenCV on this machine), saying why;
 * with REPRISE_LOCAL_FEATURES=required (CI) a missing binding fails instead of skipping.
 */
export function requireLocalFeatures(suite: Mocha.Suite): void {
  requireFixtures(suite);
  suite.beforeAll(function () {
    if (localFeaturesAvailable()) return;
    if (process.env.REPRISE_LOCAL_FEATURES === 'required') throw new Error('the local-features binding is not built (npm run build:local-features)');
    console.warn('skipping: the local-features binding is not built (npm run build:local-features; see docs/reprints.md)');
    this.skip();
  });
}

export const image = (...parts: string[]): string => fixture('images', ...parts);
export const bytesOf = (...parts: string[]): Buffer => readFileSync(image(...parts));
export const featuresOf = (...parts: string[]): Promise<ImageFeatures> => extractFeatures(bytesOf(...parts));
export const tempDir = (prefix = 'reprise-reprints-'): string => mkdtempSync(path.join(os.tmpdir(), prefix));

/** Intersection over union of two boxes. */
export function iou(a: Rect, b: Rect): number {
  const x0 = Math.max(a.x, b.x);
  const y0 = Math.max(a.y, b.y);
  const x1 = Math.min(a.x + a.w, b.x + b.w);
  const y1 = Math.min(a.y + a.h, b.y + b.h);
  const inter = Math.max(0, x1 - x0) * Math.max(0, y1 - y0);
  return inter / (a.w * a.h + b.w * b.h - inter);
}

/**
 * Fills a reprint index with `count` synthetic entries in batches, as bench:reprints makes its
 * distractors: real RootSIFT descriptors (and their words) drawn at random from a few shared
 * photographs, at random positions, so that candidates and verification do real-sized work while
 * no entry contains a photograph. Seconds for thousands, instead of a harvest of thousands.
 */
export async function addSyntheticEntries(index: ReprintIndex, count: number, options: { seed?: number; idPrefix?: string; keypoints?: number } = {}): Promise<void> {
  const photos = [];
  for (const name of readdirSync(image('fsa-owi')).filter((f) => /\.jpe?g$/i.test(f)).sort().slice(0, 6)) {
    const features = await featuresOf('fsa-owi', name);
    if (!features.empty) photos.push({ features, words: index.vocabulary.assign(features.descriptors) });
  }
  const pool = photos.flatMap((p) => Array.from({ length: p.words.length }, (_, k) => ({ p, k })));
  const random = rng(options.seed ?? 42);
  const prefix = options.idPrefix ?? 'synthetic';
  const frame = { sourceWidth: 640, sourceHeight: 480, scale: 1, offsetX: 0, offsetY: 0, width: 640, height: 480 };
  for (let start = 0; start < count; start += 500) {
    const batch: ReprintEntry[] = [];
    for (let i = start; i < Math.min(count, start + 500); i++) {
      // Verification is quadratic in keypoints: more make each comparison slower.
      const n = options.keypoints ?? 150 + Math.floor(random() * 51);
      const descriptors = new Uint8Array(n * 128);
      const keypoints = new Float32Array(n * 4);
      const words = new Uint16Array(n);
      for (let j = 0; j < n; j++) {
        const { p, k } = pool[Math.floor(random() * pool.length)]!;
        descriptors.set(p.features.descriptors.subarray(k * 128, (k + 1) * 128), j * 128);
        keypoints[j * 4] = random() * 640;
        keypoints[j * 4 + 1] = random() * 480;
        keypoints[j * 4 + 2] = 4;
        words[j] = p.words[k]!;
      }
      batch.push({ id: `${prefix}-${i}`, item: { label: `${prefix} ${i}` }, features: { frame, keypoints, descriptors }, words });
    }
    index.upsert(batch);
  }
}
