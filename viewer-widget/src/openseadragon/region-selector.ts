import type OpenSeadragon from 'openseadragon';
import type { Box } from '../api/types.ts';

export type OpenSeadragonNamespace = typeof OpenSeadragon;

export interface RegionSelectorOptions {
  OpenSeadragon: OpenSeadragonNamespace;
  /** The button's text and the hint shown while drawing (localised by the caller). */
  labels: () => { button: string; hint: string };
  /** A box was drawn (or the visible area chosen with Enter), in the pixels of the first image. */
  onRegion: (box: Box, image: OpenSeadragon.TiledImage) => void;
}

const OUTLINE = '3px solid #ff9800';

/**
 * Drawing a box on the image of an OpenSeadragon viewer. A toggle button is added to the
 * viewer's controls; while it is on, a layer over the viewer takes the pointer (drag to draw)
 * and the keyboard (Enter: the visible area; Escape: stop). The last box stays on the image as an
 * overlay that follows zoom and pan. Nothing is added to the page's stylesheets.
 */
export class RegionSelector {
  readonly button: HTMLButtonElement;
  private layer: HTMLDivElement | undefined;
  private hint: HTMLDivElement | undefined;
  private box: HTMLDivElement | undefined;
  private overlay: HTMLDivElement | undefined;
  private start: { x: number; y: number } | undefined;
  private pointerId: number | undefined;

  constructor(
    private readonly viewer: OpenSeadragon.Viewer,
    private readonly opts: RegionSelectorOptions,
  ) {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'reprise-region-button';
    button.setAttribute('aria-pressed', 'false');
    Object.assign(button.style, {
      margin: '6px',
      padding: '6px 10px',
      font: '14px system-ui, sans-serif',
      border: '1px solid #555',
      borderRadius: '4px',
      background: '#fff',
      color: '#111',
      cursor: 'pointer',
    } satisfies Partial<CSSStyleDeclaration>);
    button.addEventListener('click', () => (this.active ? this.deactivate() : this.activate()));
    this.button = button;
    this.relabel();
    viewer.addControl(button, { anchor: opts.OpenSeadragon.ControlAnchor.TOP_LEFT });
  }

  get active(): boolean {
    return this.layer !== undefined;
  }

  /** Updates the texts (after a language change). */
  relabel(): void {
    const { button, hint } = this.opts.labels();
    this.button.textContent = `⬚ ${button}`;
    this.button.title = hint;
    if (this.hint) this.hint.textContent = hint;
  }

  activate(): void {
    if (this.layer) return;
    const container = this.viewer.container;
    if (getComputedStyle(container).position === 'static') container.style.position = 'relative';
    const layer = document.createElement('div');
    layer.className = 'reprise-region-layer';
    layer.tabIndex = 0;
    layer.setAttribute('role', 'application');
    layer.setAttribute('aria-label', this.opts.labels().hint);
    Object.assign(layer.style, { position: 'absolute', inset: '0', cursor: 'crosshair', zIndex: '10', touchAction: 'none', outline: 'none' });
    const hint = document.createElement('div');
    hint.textContent = this.opts.labels().hint;
    Object.assign(hint.style, {
      position: 'absolute',
      left: '50%',
      bottom: '10px',
      transform: 'translateX(-50%)',
      padding: '4px 10px',
      borderRadius: '4px',
      background: 'rgba(0,0,0,0.7)',
      color: '#fff',
      font: '13px system-ui, sans-serif',
      pointerEvents: 'none',
      maxWidth: '90%',
      textAlign: 'center',
    });
    layer.append(hint);
    layer.addEventListener('pointerdown', this.onDown);
    layer.addEventListener('pointermove', this.onMove);
    layer.addEventListener('pointerup', this.onUp);
    layer.addEventListener('pointercancel', this.onCancel);
    layer.addEventListener('keydown', this.onKey);
    layer.addEventListener('focus', () => (layer.style.boxShadow = 'inset 0 0 0 3px #0b57d0'));
    layer.addEventListener('blur', () => (layer.style.boxShadow = 'none'));
    container.append(layer);
    this.layer = layer;
    this.hint = hint;
    this.button.setAttribute('aria-pressed', 'true');
    layer.focus();
  }

  deactivate(): void {
    this.layer?.remove();
    this.layer = this.hint = this.box = undefined;
    this.start = undefined;
    this.button.setAttribute('aria-pressed', 'false');
  }

  /** Removes the box left on the image. */
  clear(): void {
    if (this.overlay) this.viewer.removeOverlay(this.overlay);
    this.overlay = undefined;
  }

  destroy(): void {
    this.deactivate();
    this.clear();
    this.button.remove();
  }

  /** Outlines a box (image pixels of the first image) on the image, as an overlay that follows the viewport. */
  show(box: Box): void {
    const image = this.viewer.world.getItemAt(0);
    if (!image) return;
    this.clear();
    const el = document.createElement('div');
    el.className = 'reprise-region-overlay';
    Object.assign(el.style, { outline: OUTLINE, boxShadow: '0 0 0 1px #000', pointerEvents: 'none' });
    this.viewer.addOverlay({ element: el, location: image.imageToViewportRectangle(box.x, box.y, box.w, box.h) });
    this.overlay = el;
  }

  private local(e: PointerEvent): { x: number; y: number } {
    const r = this.layer!.getBoundingClientRect();
    return { x: Math.min(Math.max(e.clientX - r.left, 0), r.width), y: Math.min(Math.max(e.clientY - r.top, 0), r.height) };
  }

  private readonly onDown = (e: PointerEvent) => {
    if (e.button !== 0 || !this.layer) return;
    e.preventDefault();
    e.stopPropagation();
    this.layer.setPointerCapture(e.pointerId);
    this.pointerId = e.pointerId;
    this.start = this.local(e);
    this.box?.remove();
    const box = document.createElement('div');
    Object.assign(box.style, { position: 'absolute', outline: OUTLINE, background: 'rgba(255,152,0,0.15)', pointerEvents: 'none' });
    this.layer.append(box);
    this.box = box;
    this.drawBox(this.start, this.start);
  };

  private readonly onMove = (e: PointerEvent) => {
    if (!this.start || e.pointerId !== this.pointerId) return;
    e.stopPropagation();
    this.drawBox(this.start, this.local(e));
  };

  private readonly onUp = (e: PointerEvent) => {
    if (!this.start || e.pointerId !== this.pointerId) return;
    e.stopPropagation();
    const a = this.start;
    const b = this.local(e);
    this.start = undefined;
    this.box?.remove();
    this.box = undefined;
    // A click, not a drag: keep drawing.
    if (Math.abs(a.x - b.x) < 4 || Math.abs(a.y - b.y) < 4) return;
    this.finish(Math.min(a.x, b.x), Math.min(a.y, b.y), Math.abs(a.x - b.x), Math.abs(a.y - b.y));
  };

  private readonly onCancel = () => {
    this.start = undefined;
    this.box?.remove();
    this.box = undefined;
  };

  private readonly onKey = (e: KeyboardEvent) => {
    if (e.key === 'Escape') {
      e.preventDefault();
      this.deactivate();
      this.button.focus();
    } else if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      const r = this.layer!.getBoundingClientRect();
      this.finish(0, 0, r.width, r.height);
    }
  };

  private drawBox(a: { x: number; y: number }, b: { x: number; y: number }) {
    Object.assign(this.box!.style, {
      left: `${Math.min(a.x, b.x)}px`,
      top: `${Math.min(a.y, b.y)}px`,
      width: `${Math.abs(a.x - b.x)}px`,
      height: `${Math.abs(a.y - b.y)}px`,
    });
  }

  /** A box in layer pixels → image pixels of the first image, clipped to it. */
  private finish(x: number, y: number, w: number, h: number) {
    const image = this.viewer.world.getItemAt(0);
    if (!image) return;
    const { Point } = this.opts.OpenSeadragon;
    const p0 = image.viewerElementToImageCoordinates(new Point(x, y));
    const p1 = image.viewerElementToImageCoordinates(new Point(x + w, y + h));
    const size = image.getContentSize();
    const x0 = Math.max(0, Math.min(p0.x, p1.x));
    const y0 = Math.max(0, Math.min(p0.y, p1.y));
    const x1 = Math.min(size.x, Math.max(p0.x, p1.x));
    const y1 = Math.min(size.y, Math.max(p0.y, p1.y));
    if (x1 - x0 < 1 || y1 - y0 < 1) return;
    const box = { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
    this.deactivate();
    this.show(box);
    this.button.focus();
    this.opts.onRegion(box, image);
  }
}
