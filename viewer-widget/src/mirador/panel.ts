/**
 * The companion window, in three tabs: Search (<reprise-search> with two ways to query by image
 * from the viewer: the part of the canvas in view, or a box drawn over it), Similar and Reprints
 * (<reprise-similar> of the canvas the window shows, one section each). A hit chosen in any of
 * them opens in Mirador; "compare side by side" on a reprint opens it in a window beside this
 * one, both fitted to the part that matched, with the panel folded away. The elements come from reprise-widget.js; this panel only drives them. In a narrow window
 * (a phone) a hit opens in this window and the panel folds away so that the image shows.
 */
import { createElement as h, useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import Button from '@mui/material/Button';
import Tab from '@mui/material/Tab';
import Tabs from '@mui/material/Tabs';
import CenterFocusWeakIcon from '@mui/icons-material/CenterFocusWeakSharp';
import HighlightAltIcon from '@mui/icons-material/HighlightAltSharp';
import { ConnectedCompanionWindow, useTranslation } from 'mirador';
import { formatXywh } from './geometry.ts';
import { hitTarget, type HitTarget } from './hit-target.ts';
import type { OtherManifestMode } from './open-hit.ts';
import type { CanvasRegion, WindowSearchState } from './state.ts';

export const SEARCH_ELEMENT = 'reprise-search';
const SIMILAR_ELEMENT = 'reprise-similar';
/** How long the panel waits for <reprise-search> to be defined before saying how to load it. */
const DEFINE_TIMEOUT_MS = 10_000;
/** A Mirador window narrower than this has no room for the panel and the image side by side. */
export const NARROW_WINDOW_PX = 640;

/**
 * The panel never wider than the screen leaves room for (a phone turned, a window made narrower):
 * Mirador sizes it once, inline (a max-width too), so a page-wide rule caps it.
 */
const STYLE_ID = 'reprise-mirador-panel-style';
const PANEL_STYLE = `.mirador-companion-window-left:has(.reprise-mirador-panel) > div { max-width: calc(100vw - 92px) !important; }`;
function addPanelStyle(): void {
  if (document.getElementById(STYLE_ID)) return;
  const style = document.createElement('style');
  style.id = STYLE_ID;
  style.textContent = PANEL_STYLE;
  document.head.append(style);
}

type PanelTab = 'search' | 'similar' | 'reprints';
const TABS: readonly PanelTab[] = ['search', 'similar', 'reprints'];
const TAB_LABEL: Record<PanelTab, string> = { search: 'repriseTabSearch', similar: 'repriseTabSimilar', reprints: 'repriseTabReprints' };

/** The widget element's side of the contract, as far as the panel uses it. */
interface SearchElement extends HTMLElement {
  searchRegion(query: { canvas: string; manifest?: string; xywh: string }): unknown;
}

export interface PanelProps {
  id: string;
  windowId: string;
  api?: string;
  lang: 'en' | 'fr';
  limit?: number;
  minScore?: 'auto' | 'none' | number;
  manifestId?: string;
  /** The canvas the window shows (the first of a book view): what Similar and Reprints are about. */
  canvasId?: string;
  otherManifest?: OtherManifestMode;
  drawing: boolean;
  drawn?: WindowSearchState['drawn'];
  openHitIn(target: HitTarget, mode?: OtherManifestMode): void;
  compareReprint(target: HitTarget, queryRegion: CanvasRegion | undefined): void;
  /** Folds the side panel away (Mirador keeps it, and its results, for when it is unfolded). */
  foldPanel(): void;
  setDrawing(drawing: boolean): void;
  clearQueryOutline(): void;
  visibleRegion(): CanvasRegion | undefined;
}

/**
 * Whether the server has a model, asked once per panel: without one, text search looks in the
 * descriptions, and what needs image vectors (searching the view or a drawn box, similar images) is
 * not offered. Undefined until it answers (or when it cannot be asked: everything is offered then).
 */
function useModelLoaded(api: string | undefined): boolean | undefined {
  const [loaded, setLoaded] = useState<boolean | undefined>(undefined);
  useEffect(() => {
    if (!api) return undefined;
    const abort = new AbortController();
    const base = new URL(api, document.baseURI).href.replace(/\/?$/, '/');
    fetch(new URL('stats', base), { signal: abort.signal, headers: { Accept: 'application/json' } })
      .then((res) => (res.ok ? (res.json() as Promise<{ model?: { loaded?: boolean } }>) : undefined))
      .then((stats) => stats?.model && setLoaded(stats.model.loaded !== false))
      .catch(() => undefined);
    return () => abort.abort();
  }, [api]);
  return loaded;
}

type Definition = 'waiting' | 'defined' | 'missing';

function useDefinition(tag: string): Definition {
  const [state, setState] = useState<Definition>(() => (customElements.get(tag) ? 'defined' : 'waiting'));
  useEffect(() => {
    if (state !== 'waiting') return undefined;
    let live = true;
    const timer = setTimeout(() => live && setState('missing'), DEFINE_TIMEOUT_MS);
    void customElements.whenDefined(tag).then(() => live && setState('defined'));
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [tag, state]);
  return state;
}

/** The part of a box of canvas coordinates a reprint hit says matched in its query. */
function queryRegionOf(hit: unknown, canvasId: string | undefined): CanvasRegion | undefined {
  const r = (hit as { queryRegion?: { x?: unknown; y?: unknown; w?: unknown; h?: unknown } } | undefined)?.queryRegion;
  if (!canvasId || !r || ![r.x, r.y, r.w, r.h].every((n) => typeof n === 'number' && Number.isFinite(n))) return undefined;
  return { canvasId, box: { x: r.x as number, y: r.y as number, w: r.w as number, h: r.h as number } };
}

export function ReprisePanel(props: PanelProps): ReactNode {
  const { id, windowId, api, lang, limit, minScore, manifestId, canvasId, otherManifest, drawing, drawn, openHitIn, compareReprint, foldPanel, setDrawing, clearQueryOutline, visibleRegion } = props;
  const { t } = useTranslation();
  const definition = useDefinition(SEARCH_ELEMENT);
  const element = useRef<SearchElement | null>(null);
  const panel = useRef<HTMLDivElement | null>(null);
  const [notice, setNotice] = useState<string | undefined>();
  const [tab, setTab] = useState<PanelTab>('search');
  const modelLoaded = useModelLoaded(api);
  const shownTabs = modelLoaded === false ? TABS.filter((name) => name !== 'similar') : TABS;
  // Similar and Reprints ask the server only once their tab has been opened, then follow the canvas.
  const [opened, setOpened] = useState<ReadonlySet<PanelTab>>(() => new Set<PanelTab>(['search']));
  useEffect(addPanelStyle, []);
  const chooseTab = (next: PanelTab) => {
    setTab(next);
    if (!opened.has(next)) setOpened(new Set([...opened, next]));
  };

  const searchRegion = useCallback(
    (region: CanvasRegion) => {
      setNotice(undefined);
      void customElements.whenDefined(SEARCH_ELEMENT).then(() =>
        element.current?.searchRegion({ canvas: region.canvasId, xywh: formatXywh(region.box), ...(manifestId ? { manifest: manifestId } : {}) }),
      );
    },
    [manifestId],
  );

  const drawnRef = useRef(drawn);
  drawnRef.current = drawn;
  // Hits opened from any tab (the events bubble to the panel).
  useEffect(() => {
    const root = panel.current;
    if (!root) return undefined;
    const narrow = () => (document.getElementById(windowId)?.clientWidth ?? Infinity) < NARROW_WINDOW_PX;
    const onSelect = (event: Event) => {
      const target = hitTarget((event as CustomEvent<{ hit?: unknown }>).detail?.hit);
      if (!target) return;
      // Handled here: a hit-href link on the element must not navigate away from the viewer.
      event.preventDefault();
      if (!narrow()) return openHitIn(target, otherManifest);
      // No room for a second window, nor for the image beside the panel: here, with the panel folded.
      openHitIn(target, 'same-window');
      foldPanel();
    };
    const onCompare = (event: Event) => {
      const detail = (event as CustomEvent<{ hit?: unknown; query?: { canvas?: string } }>).detail;
      const target = hitTarget(detail?.hit);
      if (!target) return;
      if (narrow()) openHitIn(target, 'same-window');
      else compareReprint(target, queryRegionOf(detail?.hit, detail?.query?.canvas));
      // Both images get the room; the panel unfolds again from its side-bar tab or the fold button.
      foldPanel();
    };
    root.addEventListener('reprise-select', onSelect);
    root.addEventListener('reprise-compare', onCompare);
    return () => {
      root.removeEventListener('reprise-select', onSelect);
      root.removeEventListener('reprise-compare', onCompare);
    };
  }, [windowId, openHitIn, compareReprint, foldPanel, otherManifest, definition]);

  useEffect(() => {
    const el = element.current;
    if (!el) return undefined;
    // The dashed outline of a drawn box belongs to that box's results only.
    const onResults = (event: Event) => {
      const query = (event as CustomEvent<{ query?: { kind?: string; canvas?: string; xywh?: string } }>).detail?.query;
      const outlined = drawnRef.current;
      if (!outlined || query?.kind !== 'region' || query.canvas !== outlined.canvasId || query.xywh !== formatXywh(outlined.box)) clearQueryOutline();
    };
    el.addEventListener('reprise-results', onResults);
    return () => el.removeEventListener('reprise-results', onResults);
  }, [clearQueryOutline, definition]);

  // A box drawn over the viewer (by the layer in region-layer.ts) runs as soon as it lands.
  const lastSerial = useRef(drawn?.serial ?? 0);
  useEffect(() => {
    if (!drawn || drawn.serial === lastSerial.current) return;
    lastSerial.current = drawn.serial;
    searchRegion(drawn);
  }, [drawn, searchRegion]);

  // When drawing ends (a box, Enter or Escape) the surface that had focus is gone: focus returns to the tool.
  const drawButton = useRef<HTMLButtonElement | null>(null);
  const wasDrawing = useRef(drawing);
  useEffect(() => {
    if (wasDrawing.current && !drawing && (!document.activeElement || document.activeElement === document.body)) drawButton.current?.focus();
    wasDrawing.current = drawing;
  }, [drawing]);

  // Leaving the panel leaves the viewer as it was.
  useEffect(() => () => setDrawing(false), [setDrawing]);

  const searchView = () => {
    const region = visibleRegion();
    if (region) searchRegion(region);
    else setNotice(t('repriseNoRegion'));
  };

  // A search from the viewer shows in the Search tab.
  useEffect(() => {
    if (drawing) setTab('search');
  }, [drawing]);

  const controls = modelLoaded === false ? null : h(
    'div',
    { className: 'reprise-mirador-controls', style: { display: 'flex', flexWrap: 'wrap', gap: 4, padding: '4px 8px' } },
    h(
      Button,
      { size: 'small', startIcon: h(CenterFocusWeakIcon), onClick: searchView, title: t('repriseSearchViewHint'), className: 'reprise-search-view' },
      t('repriseSearchView'),
    ),
    h(
      Button,
      {
        ref: drawButton,
        size: 'small',
        startIcon: h(HighlightAltIcon),
        variant: drawing ? 'contained' : 'text',
        'aria-pressed': drawing,
        onClick: () => setDrawing(!drawing),
        title: t('repriseDrawRegionHint'),
        className: 'reprise-draw-region',
      },
      drawing ? t('repriseCancelDrawing') : t('repriseDrawRegion'),
    ),
  );

  const tabId = (name: PanelTab) => `${id}-tab-${name}`;
  const panelId = (name: PanelTab) => `${id}-panel-${name}`;
  const tabs = h(
    Tabs,
    {
      value: tab,
      onChange: (_e: unknown, value: PanelTab) => chooseTab(value),
      variant: 'fullWidth',
      'aria-label': t('repriseTitle'),
      className: 'reprise-tabs',
      sx: { minHeight: 40, borderBottom: 1, borderColor: 'divider' },
    },
    // Each tab as wide as its label, then the room left shared out (fullWidth alone makes them equal:
    // on a phone "Réimpressions" then overflows its third and touches the panel's edge).
    ...shownTabs.map((name) =>
      h(Tab, { key: name, value: name, label: t(TAB_LABEL[name]), id: tabId(name), 'aria-controls': panelId(name), className: `reprise-tab-${name}`, sx: { flex: '1 1 auto', minHeight: 40, minWidth: 0, px: 0.5, textTransform: 'none', fontSize: '0.875rem', letterSpacing: 0, whiteSpace: 'nowrap' } }),
    ),
  );
  const tabPanel = (name: PanelTab, ...children: ReactNode[]) =>
    h('div', { key: name, role: 'tabpanel', id: panelId(name), 'aria-labelledby': tabId(name), hidden: tab !== name, className: `reprise-panel-${name}` }, ...children);
  const similarElement = (section: 'similar' | 'reprints') =>
    h(SIMILAR_ELEMENT, {
      api,
      lang,
      sections: section,
      // Set once the tab has been opened: until then nothing is asked of the server.
      ...(opened.has(section) && canvasId ? { canvas: canvasId, ...(manifestId ? { manifest: manifestId } : {}) } : {}),
      ...(limit ? { limit: String(limit) } : {}),
      style: { display: 'block', padding: '8px' },
    });

  return h(
    ConnectedCompanionWindow,
    { id, windowId, title: t('repriseTitle'), ariaLabel: t('repriseTitle') },
    h(
      'div',
      {
        ref: panel,
        className: 'reprise-mirador-panel',
        // Cards at least 180 px wide, as on the demo pages: at the default 150 px two cards share Mirador's
        // narrow panel and their buttons ("Réimpressions") stack one per line.
        style: { minWidth: 0, '--reprise-card-min-width': '180px' },
      },
      tabs,
      definition === 'missing'
        ? h('p', { role: 'alert', style: { margin: '4px 8px' } }, t('repriseWidgetMissing'))
        : [
            tabPanel(
              'search',
              controls,
              notice ? h('p', { key: 'notice', role: 'status', style: { margin: '4px 8px' } }, notice) : null,
              h(SEARCH_ELEMENT, {
                key: 'search',
                ref: element,
                api,
                lang,
                ...(limit ? { limit: String(limit) } : {}),
                ...(minScore !== undefined ? { 'min-score': String(minScore) } : {}),
                ...(modelLoaded === false ? { 'keyword-only': '' } : {}),
                style: { display: 'block', padding: '0 8px 8px' },
              }),
            ),
            modelLoaded === false ? null : tabPanel('similar', similarElement('similar')),
            tabPanel('reprints', similarElement('reprints')),
          ],
    ),
  );
}
