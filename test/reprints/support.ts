import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { extractFeatures, localFeaturesAvailable, type ImageFeatures, type Rect } from '../../models/local-features/index.ts';
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
