/**
 * When two items of the reprint index are one printing of a photograph, not two: a canvas and a
 * region item of its own (an annotated part of it) show the same pixels, so they would always
 * "match". Search leaves them out of each other's hits, the collection-wide comparison records no
 * pair between them, and a group counts them once (grouping.ts).
 */
import type { Rect } from './features/index.ts';
import type { ReprintItem } from './reprint-index/index.ts';

/** Two boxes overlap enough to be one picture: their intersection covers half of the smaller. */
export function overlapsMostly(a: Rect, b: Rect): boolean {
  const w = Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y);
  return w > 0 && h > 0 && w * h >= 0.5 * Math.min(a.w * a.h, b.w * b.h);
}

/**
 * Whether two indexed items (not parts) are one printing: the same item, a canvas and one of its
 * own region items, or two region items of one canvas over the same place of it (two annotations
 * boxing one photograph). Two regions of a page apart from each other stay two printings.
 */
export function samePrinting(a: { id: string; item: ReprintItem }, b: { id: string; item: ReprintItem }): boolean {
  if (a.id === b.id) return true;
  const ra = a.item.region;
  const rb = b.item.region;
  if (ra?.canvasItemId === b.id || rb?.canvasItemId === a.id) return true;
  return !!ra && !!rb && ra.canvasItemId === rb.canvasItemId && overlapsMostly(ra.box, rb.box);
}
