import type OpenSeadragon from 'openseadragon';
import { xywhOf } from '../api/hit-display.ts';
import { isReprint, type AnyHit, type Box, type Item, type RegionQuery } from '../api/types.ts';
import type { RepriseSearch } from '../elements/reprise-search.ts';
import type { RepriseSimilar } from '../elements/reprise-similar.ts';
import { pageLanguage, t } from '../i18n/strings.ts';
import { RegionSelector, type OpenSeadragonNamespace } from './region-selector.ts';
import { viewerCanvasOf, type ViewerCanvas } from './tile-source.ts';

export interface AttachOptions {
  /** The search element that runs region queries and whose hits open in the viewer. */
  search?: RepriseSearch;
  /** The similar/reprints element kept on the canvas (and box) shown in the viewer. */
  similar?: RepriseSimilar;
  /** The OpenSeadragon namespace (default: the global `OpenSeadragon` of the UMD build). */
  OpenSeadragon?: OpenSeadragonNamespace;
  /** The API mount (default: the search element's, else "/api"); used to find plain images of hits. */
  api?: string;
  /** The language of the viewer's controls (default: the search element's, else the page's). */
  lang?: () => string;
  /** Open selected hits in this viewer instead of following their links (default true). */
  openHits?: boolean;
  /** Told when a canvas is opened (the first one, a hit, or after a comparison). */
  onOpen?: (canvas: ViewerCanvas) => void;
  /** Told when a comparison is shown (the canvas on the left, the reprint on the right). */
  onCompare?: (left: ViewerCanvas, hit: AnyHit) => void;
}

export interface RepriseViewer {
  /** The canvas shown, when one is (not during a comparison). */
  readonly current: ViewerCanvas | undefined;
  readonly selector: RegionSelector;
  /** Opens a canvas; region queries and similar items follow it. */
  open(canvas: ViewerCanvas): Promise<void>;
  /** Opens a search hit (deep zoom when it has an image service). */
  openHit(hit: Item): Promise<void>;
  /**
   * Shows the canvas shown (or the query's canvas) and a reprint side by side at the same height,
   * both fitted in view, the matched regions outlined, with a close control that stays visible.
   */
  compare(hit: AnyHit, query?: RegionQuery, source?: Item): Promise<void>;
  /** Fits both images of a comparison in view again (after the viewer changed size). */
  fitComparison(): void;
  /** Back from a comparison to the canvas shown before. */
  closeCompare(): Promise<void>;
  /** Re-reads the language of the controls. */
  relabel(): void;
  destroy(): void;
}

/** OpenSeadragon's open() as a promise: an info.json URL, a simple image, or several placed side by side. */
const opened = (viewer: OpenSeadragon.Viewer, sources: string | object | object[]) =>
  new Promise<void>((resolve, reject) => {
    const ok = () => {
      viewer.removeHandler('open-failed', failed);
      resolve();
    };
    const failed = (e: { message?: string }) => {
      viewer.removeHandler('open', ok);
      reject(new Error(`the image could not be opened: ${e?.message ?? 'unknown error'}`));
    };
    viewer.addOnceHandler('open', ok);
    viewer.addOnceHandler('open-failed', failed as never);
    viewer.open(sources as Parameters<OpenSeadragon.Viewer['open']>[0]);
  });

/** Image pixels of an opened image ↔ canvas coordinates: the image is painted over the whole canvas. */
function scaleOf(image: OpenSeadragon.TiledImage, canvas: { width?: number; height?: number }) {
  const size = image.getContentSize();
  return { sx: canvas.width ? canvas.width / size.x : 1, sy: canvas.height ? canvas.height / size.y : 1 };
}

export function imageToCanvas(box: Box, image: OpenSeadragon.TiledImage, canvas: { width?: number; height?: number }): Box {
  const { sx, sy } = scaleOf(image, canvas);
  return { x: box.x * sx, y: box.y * sy, w: box.w * sx, h: box.h * sy };
}

export function canvasToImage(box: Box, image: OpenSeadragon.TiledImage, canvas: { width?: number; height?: number }): Box {
  const { sx, sy } = scaleOf(image, canvas);
  return { x: box.x / sx, y: box.y / sy, w: box.w / sx, h: box.h / sy };
}

function outline(viewer: OpenSeadragon.Viewer, image: OpenSeadragon.TiledImage, box: Box, colour: string): HTMLElement {
  const el = document.createElement('div');
  el.className = 'reprise-match-overlay';
  Object.assign(el.style, { outline: `3px solid ${colour}`, boxShadow: '0 0 0 1px #000', pointerEvents: 'none' });
  viewer.addOverlay({ element: el, location: image.imageToViewportRectangle(box.x, box.y, box.w, box.h) });
  return el;
}

/**
 * Puts Reprise inside an OpenSeadragon viewer: a "search a region" button draws a box that
 * becomes a region query of `search` (and the box of `similar`), selected hits open in the
 * viewer, and `reprise-compare` from `similar` shows a reprint beside the canvas with the matched
 * regions outlined.
 *
 * ```js
 * const viewer = OpenSeadragon({ element: 'viewer', prefixUrl: '/widget/openseadragon/images/' });
 * const reprise = attachReprise(viewer, { search: document.querySelector('reprise-search'), similar: document.querySelector('reprise-similar') });
 * await reprise.open({ canvas, manifest, width, height, tileSource: `${service}/info.json` });
 * ```
 */
export function attachReprise(viewer: OpenSeadragon.Viewer, options: AttachOptions = {}): RepriseViewer {
  const OSD = options.OpenSeadragon ?? (globalThis as unknown as { OpenSeadragon?: OpenSeadragonNamespace }).OpenSeadragon;
  if (!OSD) throw new Error('attachReprise: OpenSeadragon is not loaded; pass it as options.OpenSeadragon');
  const { search, similar } = options;
  const api = () => options.api ?? search?.api ?? similar?.api ?? '/api';
  const lang = () => options.lang?.() ?? (search?.lang || similar?.lang || pageLanguage(viewer.element));
  let current: ViewerCanvas | undefined;
  let comparing = false;
  let closeButton: HTMLButtonElement | undefined;
  const listeners: Array<[EventTarget, string, EventListener]> = [];

  const selector = new RegionSelector(viewer, {
    OpenSeadragon: OSD,
    labels: () => ({ button: t(lang()).drawBox, hint: t(lang()).drawHint }),
    onRegion: (box, image) => {
      if (!current || comparing) return;
      const xywh = xywhOf(imageToCanvas(box, image, current));
      const query: RegionQuery = { canvas: current.canvas, xywh, ...(current.manifest ? { manifest: current.manifest } : {}) };
      void search?.searchRegion(query);
      if (similar) Object.assign(similar, { itemId: undefined, canvas: query.canvas, manifest: query.manifest, xywh });
    },
  });

  // A viewer that changes size (a phone turned, a page reflowed) keeps the pair in view.
  const refitComparison = () => {
    // After OpenSeadragon has applied the new size itself (it does so around the event).
    if (comparing) requestAnimationFrame(() => comparing && handle.fitComparison());
  };
  viewer.addHandler('resize', refitComparison);

  const removeCloseButton = () => {
    if (!closeButton) return;
    closeButton.remove();
    closeButton = undefined;
  };

  const handle: RepriseViewer = {
    get current() {
      return comparing ? undefined : current;
    },
    selector,
    async open(canvas) {
      comparing = false;
      removeCloseButton();
      selector.clear();
      viewer.clearOverlays();
      await opened(viewer, canvas.tileSource);
      current = canvas;
      selector.button.disabled = false;
      selector.button.style.visibility = '';
      if (similar) Object.assign(similar, { itemId: undefined, canvas: canvas.canvas, manifest: canvas.manifest, xywh: undefined });
      options.onOpen?.(canvas);
    },
    async openHit(hit) {
      await handle.open(await viewerCanvasOf(hit, api()));
    },
    async compare(hit, query, source) {
      // The item the reprint was found for: the canvas shown, else the source given (from a results list).
      if (source && source.canvas.id !== current?.canvas) current = await viewerCanvasOf(source, api());
      const left = current;
      if (!left) return;
      const right = await viewerCanvasOf(hit, api());
      selector.deactivate();
      selector.clear();
      viewer.clearOverlays();
      comparing = true;
      selector.button.disabled = true;
      // Out of the way of the close control (on a phone the two would overlap); back when the comparison closes.
      selector.button.style.visibility = 'hidden';
      // Both at the same height, side by side (or at the same width, one above the other, in a viewer
      // taller than wide: a phone): the viewport then fits the pair (the home bounds).
      const aspect = (c: ViewerCanvas) => (c.width && c.height ? c.width / c.height : 1);
      const gap = 0.05;
      // (A viewer not shown yet, whose page shows it once the pair is open, goes by the window's shape.)
      const [w, h] = viewer.element.clientWidth ? [viewer.element.clientWidth, viewer.element.clientHeight] : [window.innerWidth, window.innerHeight];
      const stacked = h > w;
      await opened(
        viewer,
        stacked
          ? [
              { tileSource: left.tileSource, x: 0, y: 0, width: 1 },
              { tileSource: right.tileSource, x: 0, y: 1 / aspect(left) + gap, width: 1 },
            ]
          : [
              { tileSource: left.tileSource, x: 0, y: 0, height: 1 },
              { tileSource: right.tileSource, x: aspect(left) + gap, y: 0, height: 1 },
            ],
      );
      const [a, b] = [viewer.world.getItemAt(0), viewer.world.getItemAt(1)];
      const leftBox = (isReprint(hit) && 'queryRegion' in hit ? hit.queryRegion : undefined) ?? (query && query.xywh && !query.xywh.startsWith('percent:') ? parseBox(query.xywh) : undefined);
      if (a && leftBox) outline(viewer, a, canvasToImage(leftBox, a, left), '#ff9800');
      if (b && hit.region) outline(viewer, b, canvasToImage(hit.region, b, right), '#ff9800');
      // The overview map would cover the second image: hidden while comparing.
      const navigator = (viewer as unknown as { navigator?: { element: HTMLElement } }).navigator;
      if (navigator) navigator.element.style.visibility = 'hidden';
      handle.fitComparison();
      removeCloseButton();
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'reprise-close-compare';
      button.textContent = `✕ ${t(lang()).closeCompare}`;
      Object.assign(button.style, { margin: '6px', padding: '6px 10px', font: '14px system-ui, sans-serif', border: '1px solid #555', borderRadius: '4px', background: '#fff', color: '#111', cursor: 'pointer', whiteSpace: 'nowrap' });
      button.addEventListener('click', () => void handle.closeCompare());
      // autoFade false: the viewer's own controls hide when the pointer leaves, this one must not.
      viewer.addControl(button, { anchor: OSD.ControlAnchor.TOP_RIGHT, autoFade: false } as never);
      closeButton = button;
      button.focus();
    },
    fitComparison() {
      // Both images in view with a margin, so neither touches the viewer's edges (or its controls).
      const home = viewer.world.getHomeBounds();
      const m = 0.04 * Math.max(home.width, home.height);
      viewer.viewport.fitBounds(new OSD.Rect(home.x - m, home.y - m, home.width + 2 * m, home.height + 2 * m), true);
    },
    async closeCompare() {
      const navigator = (viewer as unknown as { navigator?: { element: HTMLElement } }).navigator;
      if (navigator) navigator.element.style.visibility = '';
      if (current) await handle.open(current);
      selector.button.focus();
    },
    relabel() {
      selector.relabel();
      if (closeButton) closeButton.textContent = `✕ ${t(lang()).closeCompare}`;
    },
    destroy() {
      viewer.removeHandler('resize', refitComparison);
      for (const [target, type, fn] of listeners) target.removeEventListener(type, fn);
      removeCloseButton();
      selector.destroy();
    },
  };

  const listen = (target: EventTarget | undefined, type: string, fn: (e: CustomEvent) => void) => {
    if (!target) return;
    const l = fn as EventListener;
    target.addEventListener(type, l);
    listeners.push([target, type, l]);
  };
  if (options.openHits !== false) {
    const onSelect = (e: CustomEvent<{ hit: AnyHit }>) => {
      // The viewer opens it: the hit's link (if any) is not followed.
      e.preventDefault();
      void handle.openHit(e.detail.hit).catch((err: unknown) => reportError(viewer, err));
    };
    listen(search, 'reprise-select', onSelect);
    listen(similar, 'reprise-select', onSelect);
  }
  const onCompare = (e: CustomEvent<{ hit: AnyHit; query?: RegionQuery; source?: Item }>) => {
    void handle
      .compare(e.detail.hit, e.detail.query, e.detail.source)
      .then(() => current && options.onCompare?.(current, e.detail.hit))
      .catch((err: unknown) => reportError(viewer, err));
  };
  listen(similar, 'reprise-compare', onCompare);
  listen(search, 'reprise-compare', onCompare);
  return handle;
}

function parseBox(xywh: string): Box | undefined {
  const m = /^(?:xywh=)?(?:pixel:)?(\d+(?:\.\d+)?),(\d+(?:\.\d+)?),(\d+(?:\.\d+)?),(\d+(?:\.\d+)?)$/.exec(xywh.trim());
  return m ? { x: Number(m[1]), y: Number(m[2]), w: Number(m[3]), h: Number(m[4]) } : undefined;
}

/** Failures to open an image are told to the page the way the elements tell theirs. */
function reportError(viewer: OpenSeadragon.Viewer, err: unknown) {
  viewer.element.dispatchEvent(
    new CustomEvent('reprise-error', {
      bubbles: true,
      composed: true,
      detail: { problem: { type: 'urn:reprise:problem:viewer', title: 'The image could not be opened', status: 0, detail: (err as Error)?.message ?? String(err) } },
    }),
  );
}
