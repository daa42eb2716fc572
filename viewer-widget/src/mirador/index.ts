/**
 * reprise-mirador.js: Mirador 4 with the Reprise plugin, as one ES module. `mirador()` is the
 * one call a portal needs; `Mirador` and `repriseMiradorPlugin` are there for pages that build
 * their own viewer config.
 */
import Mirador, { addOrUpdateCompanionWindow, getWindowIds, updateWindow, type MiradorViewerInstance } from 'mirador';
import { repriseMiradorPlugin } from './plugin.ts';
import { checkSettings, RepriseMiradorConfigError, type RepriseMiradorSettings } from './settings.ts';
import { COMPANION_WINDOW_KEY } from './sidebar-button.ts';
import { SEARCH_ELEMENT } from './panel.ts';
import { parseXywh } from './geometry.ts';
import { setHighlight } from './state.ts';

const PANEL_WIDTH = 360;
/**
 * Mirador's narrowest side panel, and the room the side-bar icons, the window's edges and the
 * button that folds the panel away (at the panel's right edge) take.
 */
const MIN_PANEL_WIDTH = 235;
const WINDOW_CHROME = 92;

/** Two columns of results where there is room; on a phone, what the window leaves beside its icons. */
function panelWidth(element: HTMLElement): number {
  const width = element.clientWidth;
  return width > 0 ? Math.max(MIN_PANEL_WIDTH, Math.min(PANEL_WIDTH, width - WINDOW_CHROME)) : PANEL_WIDTH;
}

export { Mirador, repriseMiradorPlugin, checkSettings, RepriseMiradorConfigError };

/** How long focusSearch waits for the panel's search box to appear. */
const FOCUS_TIMEOUT_MS = 5_000;

/**
 * Opens the Visual search panel of a window (the first by default) and puts the keyboard in its
 * search box: what a page's "skip to the search" link does, since the box sits behind Mirador's own
 * controls in the tab order. Resolves with whether the box got focus.
 */
export async function focusSearch(viewer: MiradorViewerInstance, windowId?: string): Promise<boolean> {
  const id = windowId ?? getWindowIds(viewer.store.getState())[0];
  if (!id) return false;
  viewer.store.dispatch(updateWindow(id, { sideBarOpen: true, sideBarPanel: COMPANION_WINDOW_KEY, companionAreaOpen: true }));
  viewer.store.dispatch(addOrUpdateCompanionWindow(id, { content: COMPANION_WINDOW_KEY, position: 'left' }));
  const end = performance.now() + FOCUS_TIMEOUT_MS;
  while (performance.now() < end) {
    const win = document.getElementById(id);
    const input = win?.querySelector(SEARCH_ELEMENT)?.shadowRoot?.querySelector<HTMLInputElement>('input[type=search]');
    if (input) {
      // The box may be in the Search tab while Similar or Reprints shows.
      if (!input.checkVisibility()) win?.querySelector<HTMLElement>('.reprise-tab-search')?.click();
      await new Promise((r) => requestAnimationFrame(r));
      input.focus();
      return true;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}
export type { RepriseMiradorSettings };

export interface RepriseMiradorOptions extends RepriseMiradorSettings {
  /** Id of the element Mirador fills (give it a size: Mirador takes all of it). */
  id: string;
  /** Manifest URLs: all are offered in Mirador's catalog, the first opens in a window. */
  manifests?: string[];
  /** Mirador window configs, instead of one window for manifests[0]. */
  windows?: Array<Record<string, unknown>>;
  /**
   * A region to show in the first window: its canvas (the window's `canvasId`, or the canvas the
   * window opens on) and `xywh` in canvas coordinates; the view is fitted to it and it is
   * outlined, as when a hit is opened.
   */
  region?: { canvas: string; xywh: string };
  /** Open new windows with the Reprise panel showing (default true). */
  openPanel?: boolean;
  /** Further Mirador config, merged over the defaults set here (its `window` key too). */
  config?: Record<string, unknown>;
  /**
   * URL of reprise-widget.js, loaded when <reprise-search> is not yet defined on the page; false
   * to load it yourself. Default: reprise-widget.js beside this file.
   */
  widgetScript?: string | false;
}

/** Loads the widget elements once, unless the page already defines or loads them. */
function ensureWidget(src: string | false | undefined): void {
  if (src === false || customElements.get(SEARCH_ELEMENT)) return;
  const url = new URL(src ?? 'reprise-widget.js', src ? document.baseURI : import.meta.url).href;
  const loaded = [...document.querySelectorAll<HTMLScriptElement>('script[src]')].some((s) => s.src === url);
  if (loaded) return;
  const script = document.createElement('script');
  script.type = 'module';
  script.src = url;
  document.head.append(script);
}

function checkManifests(manifests: unknown): string[] {
  if (manifests === undefined) return [];
  if (!Array.isArray(manifests) || !manifests.every((m) => typeof m === 'string' && m.length > 0)) {
    throw new RepriseMiradorConfigError('Reprise for Mirador: "manifests" must be a list of manifest URLs');
  }
  return manifests;
}

/** Starts Mirador in the element `options.id`, with the Reprise panel in every window. */
export function mirador(options: RepriseMiradorOptions): MiradorViewerInstance {
  const settings = checkSettings(options);
  if (typeof options.id !== 'string' || !document.getElementById(options.id)) {
    throw new RepriseMiradorConfigError(
      `Reprise for Mirador: no element with id ${JSON.stringify(options.id)} on this page: give "id" of the (sized) element Mirador should fill`,
    );
  }
  const element = document.getElementById(options.id)!;
  const manifests = checkManifests(options.manifests);
  const openPanel = options.openPanel ?? true;
  const extra = options.config ?? {};
  ensureWidget(options.widgetScript);
  const config: Record<string, unknown> = {
    id: options.id,
    ...(settings.lang ? { language: settings.lang } : {}),
    windows: options.windows ?? (manifests[0] ? [{ manifestId: manifests[0] }] : []),
    catalog: manifests.map((manifestId) => ({ manifestId })),
    ...extra,
    window: {
      // Room for two columns of results beside the image, or all there is on a phone.
      defaultSidebarPanelWidth: panelWidth(element),
      ...(openPanel ? { sideBarOpen: true, defaultSideBarPanel: COMPANION_WINDOW_KEY } : {}),
      ...((extra.window as Record<string, unknown> | undefined) ?? {}),
    },
  };
  const viewer = Mirador.viewer(config, repriseMiradorPlugin(settings));
  const region = options.region && parseXywh(options.region.xywh);
  const first = getWindowIds(viewer.store.getState())[0];
  if (options.region && !region) console.warn(`Reprise for Mirador: "region.xywh" must be "x,y,w,h" in canvas coordinates (got ${JSON.stringify(options.region.xywh)}); ignored`);
  else if (region && first) viewer.store.dispatch(setHighlight(first, { canvasId: options.region!.canvas, box: region }));
  return viewer;
}

declare global {
  interface Window {
    Reprise?: Record<string, unknown>;
  }
}

// For pages that use a classic script after this module has run.
window.Reprise = { ...(window.Reprise ?? {}), mirador, repriseMiradorPlugin, Mirador, focusSearch };
