/**
 * Boxes between the three coordinate systems the plugin meets: a canvas's own coordinates (what
 * the API takes and returns as xywh), Mirador's world (the visible canvases laid side by side,
 * scaled to a common height, which is also OpenSeadragon's viewport space), and the pixels of the
 * viewer element (where the user draws).
 */

export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Where one canvas sits in Mirador's world, and its own size. */
export interface CanvasPlacement {
  /** [x, y, w, h] in world coordinates, as CanvasWorld.canvasToWorldCoordinates gives it. */
  world: Box;
  width: number;
  height: number;
}

/** Smaller regions than this (canvas pixels) are treated as a click, not a box. */
export const MIN_REGION_SIDE = 8;

export function parseXywh(text: string): Box | undefined {
  const m = /^(?:xywh=)?(?:pixel:)?\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*,\s*(\d+(?:\.\d+)?)\s*,\s*(\d+(?:\.\d+)?)\s*$/.exec(text.trim());
  if (!m) return undefined;
  const [x, y, w, h] = m.slice(1, 5).map(Number) as [number, number, number, number];
  return w > 0 && h > 0 ? { x, y, w, h } : undefined;
}

export function formatXywh(box: Box): string {
  return [box.x, box.y, box.w, box.h].map((v) => Math.round(v)).join(',');
}

export function intersect(a: Box, b: Box): Box | undefined {
  const x = Math.max(a.x, b.x);
  const y = Math.max(a.y, b.y);
  const right = Math.min(a.x + a.w, b.x + b.w);
  const bottom = Math.min(a.y + a.h, b.y + b.h);
  return right > x && bottom > y ? { x, y, w: right - x, h: bottom - y } : undefined;
}

/** A box spanning two corner points, in any order. */
export function boxFromCorners(ax: number, ay: number, bx: number, by: number): Box {
  return { x: Math.min(ax, bx), y: Math.min(ay, by), w: Math.abs(bx - ax), h: Math.abs(by - ay) };
}

/**
 * The part of a world box that falls on a canvas, in the canvas's coordinates, rounded to whole
 * pixels; undefined when the box misses the canvas.
 */
export function worldToCanvas(world: Box, placement: CanvasPlacement): Box | undefined {
  const on = intersect(world, placement.world);
  if (!on || placement.world.w <= 0 || placement.world.h <= 0) return undefined;
  const sx = placement.width / placement.world.w;
  const sy = placement.height / placement.world.h;
  const x = Math.max(0, Math.round((on.x - placement.world.x) * sx));
  const y = Math.max(0, Math.round((on.y - placement.world.y) * sy));
  const w = Math.min(placement.width - x, Math.round(on.w * sx));
  const h = Math.min(placement.height - y, Math.round(on.h * sy));
  return w > 0 && h > 0 ? { x, y, w, h } : undefined;
}

export function canvasToWorld(box: Box, placement: CanvasPlacement): Box {
  const sx = placement.world.w / placement.width;
  const sy = placement.world.h / placement.height;
  return { x: placement.world.x + box.x * sx, y: placement.world.y + box.y * sy, w: box.w * sx, h: box.h * sy };
}

/** The box grown by a fraction of its size on every side, so that a region is shown in context. */
export function pad(box: Box, fraction: number): Box {
  const dx = box.w * fraction;
  const dy = box.h * fraction;
  return { x: box.x - dx, y: box.y - dy, w: box.w + 2 * dx, h: box.h + 2 * dy };
}

/**
 * Element pixels to world coordinates, given the world box the element shows (OpenSeadragon's
 * viewport bounds) and the element's size. Valid without rotation, which is what the drawing
 * tool asks for.
 */
export function elementToWorld(px: Box, bounds: Box, element: { width: number; height: number }): Box {
  const sx = bounds.w / element.width;
  const sy = bounds.h / element.height;
  return { x: bounds.x + px.x * sx, y: bounds.y + px.y * sy, w: px.w * sx, h: px.h * sy };
}

export function worldToElement(world: Box, bounds: Box, element: { width: number; height: number }): Box {
  const sx = element.width / bounds.w;
  const sy = element.height / bounds.h;
  return { x: (world.x - bounds.x) * sx, y: (world.y - bounds.y) * sy, w: world.w * sx, h: world.h * sy };
}
