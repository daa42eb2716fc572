/** From a box in Mirador's world to a region of one canvas, which is what the API searches with. */
import { getCurrentCanvasWorld, getViewer, OSDReferences, type CanvasWorld, type OsdRect, type Thunk } from 'mirador';
import { MIN_REGION_SIDE, worldToCanvas, type Box, type CanvasPlacement } from './geometry.ts';
import type { CanvasRegion } from './state.ts';

export function placements(world: CanvasWorld): Array<{ canvasId: string; placement: CanvasPlacement }> {
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
export function regionOnCanvases(box: Box, world: CanvasWorld): CanvasRegion | undefined {
  let best: CanvasRegion | undefined;
  for (const { canvasId, placement } of placements(world)) {
    const region = worldToCanvas(box, placement);
    if (region && (!best || region.w * region.h > best.box.w * best.box.h)) best = { canvasId, box: region };
  }
  return best && best.box.w >= MIN_REGION_SIDE && best.box.h >= MIN_REGION_SIDE ? best : undefined;
}

export const rectToBox = (r: OsdRect): Box => ({ x: r.x, y: r.y, w: r.width, h: r.height });

/** What the window's viewer shows now: OpenSeadragon's live bounds, else the last ones Mirador stored. */
export function visibleRegion(windowId: string): Thunk {
  return (_dispatch, getState): CanvasRegion | undefined => {
    const state = getState();
    const live = OSDReferences.get(windowId)?.current?.viewport.getBounds(true);
    const bounds = live ?? getViewer(state, { windowId })?.bounds;
    if (!bounds) return undefined;
    return regionOnCanvases(rectToBox(bounds), getCurrentCanvasWorld(state, { windowId }));
  };
}
