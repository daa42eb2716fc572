/**
 * The companion window: <reprise-search> with two ways to query by image from the viewer (the
 * part of the canvas in view, or a box drawn over it). A hit chosen in the results opens in
 * Mirador. The element comes from reprise-widget.js; this panel only drives it.
 */
import { createElement as h, useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import Button from '@mui/material/Button';
import CenterFocusWeakIcon from '@mui/icons-material/CenterFocusWeakSharp';
import HighlightAltIcon from '@mui/icons-material/HighlightAltSharp';
import { ConnectedCompanionWindow, useTranslation } from 'mirador';
import { formatXywh } from './geometry.ts';
import { hitTarget, type HitTarget } from './hit-target.ts';
import type { OtherManifestMode } from './open-hit.ts';
import type { CanvasRegion, WindowSearchState } from './state.ts';

export const SEARCH_ELEMENT = 'reprise-search';
/** How long the panel waits for <reprise-search> to be defined before saying how to load it. */
const DEFINE_TIMEOUT_MS = 10_000;

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
  manifestId?: string;
  otherManifest?: OtherManifestMode;
  drawing: boolean;
  drawn?: WindowSearchState['drawn'];
  openHitIn(target: HitTarget, mode?: OtherManifestMode): void;
  setDrawing(drawing: boolean): void;
  clearQueryOutline(): void;
  visibleRegion(): CanvasRegion | undefined;
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

export function ReprisePanel(props: PanelProps): ReactNode {
  const { id, windowId, api, lang, limit, manifestId, otherManifest, drawing, drawn, openHitIn, setDrawing, clearQueryOutline, visibleRegion } = props;
  const { t } = useTranslation();
  const definition = useDefinition(SEARCH_ELEMENT);
  const element = useRef<SearchElement | null>(null);
  const [notice, setNotice] = useState<string | undefined>();

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
  useEffect(() => {
    const el = element.current;
    if (!el) return undefined;
    const onSelect = (event: Event) => {
      const target = hitTarget((event as CustomEvent<{ hit?: unknown }>).detail?.hit);
      if (!target) return;
      // Handled here: a hit-href link on the element must not navigate away from the viewer.
      event.preventDefault();
      openHitIn(target, otherManifest);
    };
    // The dashed outline of a drawn box belongs to that box's results only.
    const onResults = (event: Event) => {
      const query = (event as CustomEvent<{ query?: { kind?: string; canvas?: string; xywh?: string } }>).detail?.query;
      const outlined = drawnRef.current;
      if (!outlined || query?.kind !== 'region' || query.canvas !== outlined.canvasId || query.xywh !== formatXywh(outlined.box)) clearQueryOutline();
    };
    el.addEventListener('reprise-select', onSelect);
    el.addEventListener('reprise-results', onResults);
    return () => {
      el.removeEventListener('reprise-select', onSelect);
      el.removeEventListener('reprise-results', onResults);
    };
  }, [openHitIn, otherManifest, clearQueryOutline, definition]);

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

  const controls = h(
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

  return h(
    ConnectedCompanionWindow,
    { id, windowId, title: t('repriseTitle'), ariaLabel: t('repriseTitle') },
    controls,
    notice ? h('p', { role: 'status', style: { margin: '4px 8px' } }, notice) : null,
    definition === 'missing'
      ? h('p', { role: 'alert', style: { margin: '4px 8px' } }, t('repriseWidgetMissing'))
      : h(SEARCH_ELEMENT, {
          ref: element,
          api,
          lang,
          ...(limit ? { limit: String(limit) } : {}),
          style: { display: 'block', padding: '0 8px 8px' },
        }),
  );
}
