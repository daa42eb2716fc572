/**
 * Drawn over Mirador's OpenSeadragon viewer: the outline of the region of the hit last opened,
 * and, while the drawing tool is on, a surface to drag a box on. Pixel boxes become world boxes
 * through the viewer's bounds, then canvas regions through the canvas world Mirador passes in.
 */
import { createElement as h, useCallback, useEffect, useRef, useState, type KeyboardEvent as ReactKeyboardEvent, type PointerEvent as ReactPointerEvent, type ReactNode } from 'react';
import { useTranslation, type CanvasWorld, type OsdViewer } from 'mirador';
import { boxFromCorners, canvasToWorld, elementToWorld, pad, worldToElement, type Box } from './geometry.ts';
import { placements, rectToBox, regionOnCanvases } from './canvas-world.ts';
import type { CanvasRegion } from './state.ts';

export interface RegionLayerProps {
  windowId: string;
  viewer: OsdViewer | null;
  canvasWorld?: CanvasWorld;
  drawing: boolean;
  highlight?: CanvasRegion & { serial: number };
  queryOutline?: CanvasRegion;
  regionDrawn(region: CanvasRegion): void;
  setDrawing(drawing: boolean): void;
}

const OUTLINE = '#ffb300';
/** Context around a hit's region when the view is fitted to it: a quarter of its size on every side. */
const REGION_CONTEXT = 0.25;
/** How long after a hit is opened the view is fitted again when the viewer resets it (new image, first tiles). */
const FIT_WINDOW_MS = 5_000;
/** The user taking over the view ends the fitting. */
const USER_EVENTS = ['canvas-press', 'canvas-scroll', 'canvas-drag', 'canvas-pinch', 'canvas-key'];

/**
 * Fits the view to the region of a hit once per opening. OpenSeadragon goes home when a new
 * image is added and Mirador when the first tiles of a new viewer arrive, and the viewer changes
 * size when a window is added beside it or the side panel folds away (on a phone), so the fit is
 * applied now and again after each of those, until the user moves the view or FIT_WINDOW_MS pass.
 */
function useFitToHighlight(viewer: OsdViewer | null, canvasWorld: CanvasWorld | undefined, highlight: RegionLayerProps['highlight']): void {
  // Not an effect's cleanup: a new canvas world (the same opening, later) must not end the fitting.
  const active = useRef<{ serial: number; stop(): void } | undefined>(undefined);
  useEffect(() => () => active.current?.stop(), []);
  useEffect(() => {
    if (!viewer || !canvasWorld || !highlight || active.current?.serial === highlight.serial) return;
    const placement = placements(canvasWorld).find((p) => p.canvasId === highlight.canvasId)?.placement;
    if (!placement) return;
    active.current?.stop();
    const { x, y, w, h } = pad(canvasToWorld(highlight.box, placement), REGION_CONTEXT);
    // OpenSeadragon wants its own Rect: getBounds() returns a fresh one to reshape, which spares
    // bundling a second OpenSeadragon (its prototype has no usable constructor).
    const fit = () => viewer.viewport.fitBounds(Object.assign(viewer.viewport.getBounds(), { x, y, width: w, height: h, degrees: 0 }), false);
    let armed = false;
    const timers: number[] = [];
    const later = () => timers.push(window.setTimeout(fit, 0));
    const onAdd = () => {
      armed = true;
      later();
    };
    const onTile = () => {
      if (!armed) return;
      armed = false;
      later();
    };
    const world = viewer.world;
    const stop = () => {
      world.removeHandler('add-item', onAdd);
      viewer.removeHandler('tile-loaded', onTile);
      viewer.removeHandler('resize', later);
      for (const e of USER_EVENTS) viewer.removeHandler(e, stop);
      for (const t of timers) clearTimeout(t);
    };
    world.addHandler('add-item', onAdd);
    viewer.addHandler('tile-loaded', onTile);
    viewer.addHandler('resize', later);
    for (const e of USER_EVENTS) viewer.addHandler(e, stop);
    timers.push(window.setTimeout(stop, FIT_WINDOW_MS));
    armed = world.getItemCount() === 0;
    active.current = { serial: highlight.serial, stop };
    fit();
  }, [viewer, canvasWorld, highlight]);
}

/** Re-renders whenever the viewer moves, so that boxes in world coordinates stay in place. */
function useViewportTick(viewer: OsdViewer | null): number {
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (!viewer) return undefined;
    let frame = 0;
    const onChange = () => {
      if (frame) return;
      frame = requestAnimationFrame(() => {
        frame = 0;
        setTick((n) => n + 1);
      });
    };
    for (const event of ['update-viewport', 'resize', 'open']) viewer.addHandler(event, onChange);
    return () => {
      if (frame) cancelAnimationFrame(frame);
      for (const event of ['update-viewport', 'resize', 'open']) viewer.removeHandler(event, onChange);
    };
  }, [viewer]);
  return tick;
}

function elementSize(viewer: OsdViewer): { width: number; height: number } | undefined {
  const { clientWidth: width, clientHeight: height } = viewer.element;
  return width > 0 && height > 0 ? { width, height } : undefined;
}

export function RegionLayer(props: RegionLayerProps): ReactNode {
  const { viewer, canvasWorld, drawing, highlight, queryOutline, regionDrawn, setDrawing } = props;
  const { t } = useTranslation();
  useViewportTick(viewer);
  useFitToHighlight(viewer, canvasWorld, highlight);
  // Stable, so that React calls it when the surface appears, not on every render.
  const focusOnMount = useCallback((el: HTMLDivElement | null) => el?.focus({ preventScroll: true }), []);
  const [drag, setDrag] = useState<{ x0: number; y0: number; x1: number; y1: number } | undefined>();

  useEffect(() => {
    if (!drawing) return undefined;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        setDrag(undefined);
        setDrawing(false);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [drawing, setDrawing]);

  if (!viewer || !canvasWorld) return null;
  const size = elementSize(viewer);
  if (!size) return null;
  const bounds = rectToBox(viewer.viewport.getBounds(true));

  const children: ReactNode[] = [];
  const outline = (region: CanvasRegion | undefined, key: string, className: string, label: string, style: string) => {
    const placement = region && placements(canvasWorld).find((p) => p.canvasId === region.canvasId)?.placement;
    if (!region || !placement) return;
    const px = worldToElement(canvasToWorld(region.box, placement), bounds, size);
    children.push(
      h('div', {
        key,
        className,
        role: 'img',
        'aria-label': label,
        style: { position: 'absolute', left: px.x, top: px.y, width: px.w, height: px.h, outline: style, boxShadow: '0 0 0 1px #000', pointerEvents: 'none', zIndex: 1 },
      }),
    );
  };
  outline(queryOutline, 'query', 'reprise-query-region', t('repriseQueryRegion'), `2px dashed ${OUTLINE}`);
  outline(highlight, 'highlight', 'reprise-hit-region', t('repriseHitRegion'), `3px solid ${OUTLINE}`);

  if (drawing) {
    const local = (e: ReactPointerEvent<HTMLDivElement>) => {
      const rect = e.currentTarget.getBoundingClientRect();
      return { x: e.clientX - rect.left, y: e.clientY - rect.top };
    };
    const finish = (px: Box) => {
      setDrag(undefined);
      const region = regionOnCanvases(elementToWorld(px, bounds, size), canvasWorld);
      if (region) regionDrawn(region);
    };
    children.push(
      h(
        'div',
        {
          key: 'surface',
          className: 'reprise-draw-surface',
          title: t('repriseDrawingOverlay'),
          'aria-label': t('repriseDrawingOverlay'),
          role: 'application',
          tabIndex: 0,
          // Focused when drawing starts, so that the keyboard route (Enter: the part in view) works at once.
          ref: focusOnMount,
          onKeyDown: (e: ReactKeyboardEvent<HTMLDivElement>) => {
            if (e.key !== 'Enter') return;
            e.preventDefault();
            const region = regionOnCanvases(bounds, canvasWorld);
            if (region) regionDrawn(region);
          },
          style: { position: 'absolute', inset: 0, cursor: 'crosshair', zIndex: 2, pointerEvents: 'auto', touchAction: 'none', background: 'rgba(0,0,0,0.08)' },
          onPointerDown: (e: ReactPointerEvent<HTMLDivElement>) => {
            e.stopPropagation();
            e.currentTarget.setPointerCapture(e.pointerId);
            const p = local(e);
            setDrag({ x0: p.x, y0: p.y, x1: p.x, y1: p.y });
          },
          onPointerMove: (e: ReactPointerEvent<HTMLDivElement>) => {
            if (!drag) return;
            const p = local(e);
            setDrag({ ...drag, x1: p.x, y1: p.y });
          },
          onPointerUp: (e: ReactPointerEvent<HTMLDivElement>) => {
            if (!drag) return;
            const p = local(e);
            finish(boxFromCorners(drag.x0, drag.y0, p.x, p.y));
          },
          onPointerCancel: () => setDrag(undefined),
        },
        drag
          ? h('div', {
              className: 'reprise-draw-box',
              style: {
                position: 'absolute',
                ...(({ x, y, w, h: height }) => ({ left: x, top: y, width: w, height }))(boxFromCorners(drag.x0, drag.y0, drag.x1, drag.y1)),
                outline: `2px dashed ${OUTLINE}`,
                background: 'rgba(255,179,0,0.15)',
                pointerEvents: 'none',
              },
            })
          : null,
      ),
    );
  }

  return children.length
    ? h('div', { className: 'reprise-mirador-layer', style: { position: 'absolute', inset: 0, pointerEvents: 'none', zIndex: 3 } }, ...children)
    : null;
}
