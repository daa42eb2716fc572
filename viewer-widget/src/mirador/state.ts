/**
 * The plugin's slice of Mirador's store (state.reprise), per window: the region drawn for a
 * query, whether the drawing tool is on, and the hit region to outline after opening a hit.
 * Kept in the store, not in component state, because the panel and the viewer layer are
 * separate plugin components that must agree.
 */
import type { Box } from './geometry.ts';

export interface CanvasRegion {
  canvasId: string;
  box: Box;
}

export interface WindowSearchState {
  /** The drawing tool is on: the next box drawn over the viewer becomes a region query. */
  drawing: boolean;
  /** The last box drawn, with a serial number so that the same box drawn twice still runs again. */
  drawn?: CanvasRegion & { serial: number };
  /** Outlined (dashed) while the results of a search with the box drawn are shown. */
  queryOutline?: CanvasRegion;
  /**
   * Outlined on the viewer while its canvas is shown: the region of the hit last opened. Each
   * opening has a new serial: the viewer is fitted to the region once per serial.
   */
  highlight?: CanvasRegion & { serial: number };
}

export type RepriseState = Record<string, WindowSearchState>;

export const STATE_KEY = 'reprise';

// Redux shapes, declared here so that this module (tested in Node) needs nothing of Mirador.
type AnyAction = { type: string; [key: string]: unknown };
type MiradorState = Record<string, unknown>;

const SET_DRAWING = 'reprise/SET_DRAWING';
const REGION_DRAWN = 'reprise/REGION_DRAWN';
const SET_HIGHLIGHT = 'reprise/SET_HIGHLIGHT';
const CLEAR_QUERY_OUTLINE = 'reprise/CLEAR_QUERY_OUTLINE';
// Mirador's own action types, read so that a closed window leaves nothing behind.
const REMOVE_WINDOW = 'mirador/REMOVE_WINDOW';

export const setDrawing = (windowId: string, drawing: boolean): AnyAction => ({ type: SET_DRAWING, windowId, drawing });
export const regionDrawn = (windowId: string, region: CanvasRegion): AnyAction => ({ type: REGION_DRAWN, windowId, region });
export const clearQueryOutline = (windowId: string): AnyAction => ({ type: CLEAR_QUERY_OUTLINE, windowId });
export const setHighlight = (windowId: string, highlight: CanvasRegion | undefined): AnyAction => ({ type: SET_HIGHLIGHT, windowId, highlight });

const EMPTY: WindowSearchState = { drawing: false };

export function repriseReducer(state: RepriseState = {}, action: AnyAction): RepriseState {
  const windowId = action.windowId as string | undefined;
  const current = (windowId && state[windowId]) || EMPTY;
  switch (action.type) {
    case SET_DRAWING:
      return { ...state, [windowId!]: { ...current, drawing: Boolean(action.drawing) } };
    case REGION_DRAWN: {
      const region = action.region as CanvasRegion;
      return {
        ...state,
        [windowId!]: { ...current, drawing: false, drawn: { ...region, serial: (current.drawn?.serial ?? 0) + 1 }, queryOutline: region },
      };
    }
    case CLEAR_QUERY_OUTLINE: {
      if (!current.queryOutline) return state;
      const { queryOutline: _cleared, ...rest } = current;
      return { ...state, [windowId!]: rest };
    }
    case SET_HIGHLIGHT: {
      const highlight = action.highlight as CanvasRegion | undefined;
      const serial = (current.highlight?.serial ?? 0) + 1;
      return { ...state, [windowId!]: { ...current, highlight: highlight ? { ...highlight, serial } : undefined } };
    }
    case REMOVE_WINDOW: {
      if (!windowId || !(windowId in state)) return state;
      const { [windowId]: _removed, ...rest } = state;
      return rest;
    }
    default:
      return state;
  }
}

export function windowSearchState(state: MiradorState, windowId: string): WindowSearchState {
  return ((state[STATE_KEY] as RepriseState | undefined) ?? {})[windowId] ?? EMPTY;
}
