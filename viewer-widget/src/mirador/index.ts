/**
 * reprise-mirador.js: Mirador 4 with the Reprise plugin, as one ES module. `mirador()` is the
 * one call a portal needs; `Mirador` and `repriseMiradorPlugin` are there for pages that build
 * their own viewer config.
 */
import Mirador, { type MiradorViewerInstance } from 'mirador';
import { repriseMiradorPlugin } from './plugin.ts';
import { checkSettings, RepriseMiradorConfigError, type RepriseMiradorSettings } from './settings.ts';
import { COMPANION_WINDOW_KEY } from './sidebar-button.ts';
import { SEARCH_ELEMENT } from './panel.ts';

const PANEL_WIDTH = 360;

export { Mirador, repriseMiradorPlugin, checkSettings, RepriseMiradorConfigError };
export type { RepriseMiradorSettings };

export interface RepriseMiradorOptions extends RepriseMiradorSettings {
  /** Id of the element Mirador fills (give it a size: Mirador takes all of it). */
  id: string;
  /** Manifest URLs: all are offered in Mirador's catalog, the first opens in a window. */
  manifests?: string[];
  /** Mirador window configs, instead of one window for manifests[0]. */
  windows?: Array<Record<string, unknown>>;
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
      // Room for two columns of results beside the image.
      defaultSidebarPanelWidth: PANEL_WIDTH,
      ...(openPanel ? { sideBarOpen: true, defaultSideBarPanel: COMPANION_WINDOW_KEY } : {}),
      ...((extra.window as Record<string, unknown> | undefined) ?? {}),
    },
  };
  return Mirador.viewer(config, repriseMiradorPlugin(settings));
}

declare global {
  interface Window {
    Reprise?: Record<string, unknown>;
  }
}

// For pages that use a classic script after this module has run.
window.Reprise = { ...(window.Reprise ?? {}), mirador, repriseMiradorPlugin, Mirador };
