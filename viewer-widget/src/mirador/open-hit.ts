/**
 * Opening a hit in Mirador: its canvas in the window that already shows its manifest, else in a
 * new window (or in place of the current manifest), and the region that matched handed to that
 * window's viewer layer to outline and zoom to.
 */
import {
  addWindow,
  focusWindow,
  getManifestoInstance,
  getWindow,
  getWindowIds,
  setCanvas,
  updateWindow,
  type MiradorState,
  type Thunk,
} from 'mirador';
import type { HitTarget } from './hit-target.ts';
import type { OtherManifestMode } from './open-hit-mode.ts';
import { setHighlight, type CanvasRegion } from './state.ts';

export type { OtherManifestMode };

let windowSerial = 0;

function showsManifest(state: MiradorState, windowId: string, target: HitTarget): boolean {
  const window = getWindow(state, { windowId });
  if (!window) return false;
  if (target.manifestAliases.includes(window.manifestId as string)) return true;
  const id = getManifestoInstance(state, { windowId })?.id;
  return id !== undefined && target.manifestAliases.includes(id);
}

function newWindowId(): string {
  windowSerial += 1;
  return `reprise-window-${Date.now().toString(36)}-${windowSerial}`;
}

/** Opens the hit; the thunk returns the id of the window that shows it. */
export function openHit(windowId: string, target: HitTarget, mode: OtherManifestMode = 'new-window'): Thunk {
  return (dispatch, getState) => {
    const state = getState();
    let shownIn: string;
    if (showsManifest(state, windowId, target)) {
      shownIn = windowId;
      dispatch(setCanvas(windowId, target.canvasId));
    } else {
      const other = getWindowIds(state).find((id) => id !== windowId && showsManifest(state, id, target));
      if (other) {
        shownIn = other;
        dispatch(setCanvas(other, target.canvasId));
        dispatch(focusWindow(other, true));
      } else if (mode === 'same-window') {
        shownIn = windowId;
        dispatch(updateWindow(windowId, { manifestId: target.manifestUrl, canvasId: target.canvasId }));
      } else {
        shownIn = newWindowId();
        // Side bar closed: the image gets the room, and the search stays in the window it was run from.
        dispatch(addWindow({ id: shownIn, manifestId: target.manifestUrl, canvasId: target.canvasId, sideBarOpen: false }));
        dispatch(focusWindow(shownIn, true));
      }
    }
    // The viewer layer of that window (region-layer.ts) outlines the region and fits the view to it.
    dispatch(setHighlight(shownIn, target.region ? { canvasId: target.canvasId, box: target.region } : undefined));
    return shownIn;
  };
}

/**
 * A reprint beside the canvas it was found for: the reprint in a window of its own (even when it
 * is in the same manifest), both windows fitted to the part that matched. The thunk returns the
 * new window's id.
 */
export function compareReprint(windowId: string, target: HitTarget, queryRegion: CanvasRegion | undefined): Thunk {
  return (dispatch) => {
    const shownIn = newWindowId();
    dispatch(addWindow({ id: shownIn, manifestId: target.manifestUrl, canvasId: target.canvasId, sideBarOpen: false }));
    dispatch(setHighlight(shownIn, target.region ? { canvasId: target.canvasId, box: target.region } : undefined));
    if (queryRegion) dispatch(setHighlight(windowId, queryRegion));
    return shownIn;
  };
}
