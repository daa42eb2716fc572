/** The part of a canvas in view, from the live OpenSeadragon viewer of a Mirador window. */
import { getCurrentCanvasWorld, getViewer, OSDReferences, type Thunk } from 'mirador';
import { rectToBox, regionOnCanvases } from './canvas-world.ts';
import type { CanvasRegion } from './state.ts';

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
