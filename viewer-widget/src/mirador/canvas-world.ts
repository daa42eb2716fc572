/**
 * Mirador's canvas world (the canvases of a view laid side by side) as placements, and a world
 * box as a region of the canvas it covers most. Pure: tested in Node without Mirador.
 */
import { intersect, MIN_REGION_SIDE, worldToCanvas, type Box, type CanvasPlacement } from './geometry.ts';
import type { CanvasRegion } from './state.ts';

/** What this module reads of Mirador's CanvasWorld. */
export interface CanvasWorldLike {
  canvases: Array<{ id: string; getWidth(): number; getHeight(): number }>;
  canvasToWorldCoordinates(canvasId: string): [number, number, number, number];
}

export interface OsdRectLike {
  x: number;
  y: number;
  width: number;
  height: number;
}

export function placements(world: CanvasWorldLike): Array<{ canvasId: string; placement: CanvasPlacement }> {
  return world.canvases.flatMap((canvas) => {
    if (!(canvas.getWidth() > 0 && canvas.getHeight() > 0)) return [];
    const [x, y, w, h] = world.canvasToWorldCoordinates(canvas.id);
    return [{ canvasId: canvas.id, placement: { world: { x, y, w, h }, width: canvas.getWidth(), height: canvas.getHeight() } }];
  });
}

/**
 * The canvas a world box covers most of (two are visible side by side in the book view), and the
 * part of it covered. Undefined when the box misses every canvas or is too small to search with.
 */
export function regionOnCanvases(box: Box, world: CanvasWorldLike): CanvasRegion | undefined {
  let best: CanvasRegion | undefined;
  let bestArea = 0;
  for (const { canvasId, placement } of placements(world)) {
    // Compared on screen (world units): canvases of one view can have very different pixel sizes.
    const on = intersect(box, placement.world);
    const region = on && worldToCanvas(box, placement);
    if (on && region && on.w * on.h > bestArea) {
      best = { canvasId, box: region };
      bestArea = on.w * on.h;
    }
  }
  return best && best.box.w >= MIN_REGION_SIDE && best.box.h >= MIN_REGION_SIDE ? best : undefined;
}

export const rectToBox = (r: OsdRectLike): Box => ({ x: r.x, y: r.y, w: r.width, h: r.height });
