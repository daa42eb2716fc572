import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import { problemOf, RepriseClient, type CollectionMap } from '../api/client.ts';
import { fillHref } from '../api/hit-display.ts';
import type { Filters, Hit, Item, Problem, SearchQuery } from '../api/types.ts';
import { pageLanguage } from '../i18n/strings.ts';

/** Points in view below which thumbnails replace dots. */
const THUMBNAILS_BELOW = 150;
/** Thumbnails asked for at once (GET /map/items takes 200). */
const ITEMS_BATCH = 100;
/** Items whose thumbnails are kept; the oldest go first. */
const THUMBNAIL_CACHE = 600;
const MIN_ZOOM = 1;
const MAX_ZOOM = 400;
/** Pixels a pointer may move between press and release and still count as a click. */
const CLICK_SLOP = 5;
/** How far from a point (CSS pixels) a click still picks it. */
const PICK_RADIUS = 12;

interface View {
  zoom: number;
  /** The map coordinate (0…1) at the canvas centre. */
  cx: number;
  cy: number;
}

interface Thumb {
  item: Item;
  image?: HTMLImageElement;
}

/**
 * A zoomable map of a collection (GET /map): every image a point, similar images near each other.
 * Zoomed in, points become thumbnails. Search results (`reprise-results` from a `<reprise-search>`
 * on the page, or the `highlight` property) are drawn larger in the accent colour, and items the
 * results' filters leave out are dimmed. A click opens the item under the pointer.
 *
 * ```html
 * <reprise-map api="/api" collection="Photographs" hit-href="/item?canvas={canvas}"></reprise-map>
 * ```
 *
 * @fires reprise-select - `{hit}` when an item is opened (cancelable: cancelling it keeps the page
 *   where it is; without `hit-href` the event is all that happens).
 * @fires reprise-map-ready - `{points}` once the map is drawn.
 * @fires reprise-error - `{problem}` when the map cannot be had.
 *
 * @csspart canvas - the drawing surface
 * @csspart controls - the zoom buttons
 * @csspart status - progress and error messages
 *
 * @cssprop --reprise-map-height - height of the map (default 480px)
 * @cssprop --reprise-accent - colour of highlighted items
 * @cssprop --reprise-map-point - colour of the other points
 * @cssprop --reprise-map-background - background of the map
 */
export class RepriseMap extends LitElement {
  static override properties = {
    api: {},
    lang: { reflect: true },
    collection: {},
    hitHref: { attribute: 'hit-href' },
    /** Ignore `reprise-results` from the page: highlight only what the `highlight` property says. */
    ignoreResults: { type: Boolean, attribute: 'ignore-results' },
    highlight: { attribute: false },
    filters: { attribute: false },
    _map: { state: true },
    _status: { state: true },
    _problem: { state: true },
  };

  static override styles = css`
    :host {
      display: block;
      position: relative;
      font-family: var(--reprise-font-family, inherit);
    }
    :host([hidden]) {
      display: none;
    }
    canvas {
      display: block;
      width: 100%;
      height: var(--reprise-map-height, 480px);
      background: var(--reprise-map-background, #f4f4f2);
      border-radius: 4px;
      touch-action: none;
      cursor: grab;
    }
    canvas:focus-visible {
      outline: 2px solid var(--reprise-accent, #0b57d0);
      outline-offset: 2px;
    }
    canvas.dragging {
      cursor: grabbing;
    }
    .controls {
      position: absolute;
      top: 0.5rem;
      right: 0.5rem;
      display: flex;
      flex-direction: column;
      gap: 0.25rem;
    }
    .controls button {
      font: inherit;
      width: 2rem;
      height: 2rem;
      border: 1px solid #bbb;
      border-radius: 4px;
      background: #fff;
      cursor: pointer;
    }
    .status {
      font-size: 0.9em;
      color: var(--reprise-muted, #555);
      min-height: 1.4em;
      margin-top: 0.25rem;
    }
    .error {
      color: var(--reprise-negative, #b3261e);
    }
  `;

  declare api: string;
  declare lang: string;
  declare collection: string | undefined;
  declare hitHref: string | undefined;
  declare ignoreResults: boolean;
  /** Item ids drawn highlighted (search hits). */
  declare highlight: string[];
  /** Filters: the items they leave out are dimmed. */
  declare filters: Filters | undefined;
  declare _map: CollectionMap | undefined;
  declare _status: string;
  declare _problem: Problem | undefined;

  private client?: RepriseClient;
  private positions = new Float32Array(0);
  private index = new Map<string, number>();
  private highlighted = new Uint8Array(0);
  /** 1 where a point passes the filters; undefined when nothing is filtered. */
  private passing: Uint8Array | undefined;
  private view: View = { zoom: 1, cx: 0.5, cy: 0.5 };
  private readonly thumbs = new Map<string, Thumb>();
  private readonly asked = new Set<string>();
  private loading?: AbortController;
  private frame = 0;
  private poll?: ReturnType<typeof setTimeout>;
  private drag?: { x: number; y: number; view: View; moved: boolean; id: number };
  private resizer?: ResizeObserver;

  constructor() {
    super();
    this.api = '/api';
    this.lang = '';
    this.ignoreResults = false;
    this.highlight = [];
    this._status = '';
  }

  private readonly onResults = (e: Event) => {
    if (this.ignoreResults) return;
    const detail = (e as CustomEvent<{ query?: SearchQuery; hits?: Array<{ id: string }> }>).detail;
    if (!detail?.hits) return;
    this.highlight = detail.hits.map((h) => h.id);
    const filters = (detail.query as { filters?: Filters } | undefined)?.filters;
    this.filters = filters && Object.keys(filters).length ? filters : undefined;
  };

  override connectedCallback(): void {
    super.connectedCallback();
    document.addEventListener('reprise-results', this.onResults);
    if (!this.lang) this.lang = pageLanguage(this);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    document.removeEventListener('reprise-results', this.onResults);
    this.loading?.abort();
    clearTimeout(this.poll);
    this.resizer?.disconnect();
    cancelAnimationFrame(this.frame);
  }

  protected override firstUpdated(): void {
    this.resizer = new ResizeObserver(() => this.scheduleDraw());
    this.resizer.observe(this.canvas);
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (changed.has('api') || changed.has('collection')) void this.load();
    if (changed.has('highlight') || changed.has('_map')) this.markHighlighted();
    if (changed.has('filters') || changed.has('_map')) void this.loadMatches();
  }

  private get canvas(): HTMLCanvasElement {
    return this.renderRoot.querySelector('canvas')!;
  }

  // --- data ------------------------------------------------------------------

  private async load(): Promise<void> {
    this.loading?.abort();
    clearTimeout(this.poll);
    const controller = (this.loading = new AbortController());
    this.client = new RepriseClient(this.api);
    try {
      const answer = await this.client.map(this.collection, controller.signal);
      if (answer.status === 'computing') {
        const { phase, progress } = answer.job;
        this._status = `Laying out the collection (${phase}${phase === 'queued' ? '' : ` ${Math.round(progress * 100)}%`})…`;
        this.poll = setTimeout(() => void this.load(), 3000);
        return;
      }
      this.adopt(answer);
      if (answer.stale) this.poll = setTimeout(() => void this.load(), 10_000);
    } catch (err) {
      if ((err as Error)?.name === 'AbortError') return;
      this._problem = problemOf(err);
      this._status = '';
      this.dispatchEvent(new CustomEvent('reprise-error', { detail: { problem: this._problem }, bubbles: true, composed: true }));
    }
  }

  private adopt(map: CollectionMap): void {
    const n = map.ids.length;
    this.positions = new Float32Array(n * 2);
    for (let i = 0; i < n * 2; i++) this.positions[i] = map.xy[i]! / map.scale;
    this.index = new Map(map.ids.map((id, i) => [id, i]));
    this._problem = undefined;
    this._status = `${n} images${map.stale ? ' (updating)' : ''}`;
    this._map = map;
    this.scheduleDraw();
    this.updateComplete.then(() => this.dispatchEvent(new CustomEvent('reprise-map-ready', { detail: { points: n }, bubbles: true, composed: true })));
  }

  private markHighlighted(): void {
    this.highlighted = new Uint8Array(this.positions.length / 2);
    for (const id of this.highlight ?? []) {
      const i = this.index.get(id);
      if (i !== undefined) this.highlighted[i] = 1;
    }
    this.scheduleDraw();
  }

  private async loadMatches(): Promise<void> {
    const filters = this.filters;
    if (!this._map || !this.client || !filters || !Object.keys(filters).length) {
      this.passing = undefined;
      this.scheduleDraw();
      return;
    }
    try {
      const found = await this.client.mapMatches(this.collection, filters);
      if (found.computedAt !== this._map.computedAt || filters !== this.filters) return;
      this.passing = new Uint8Array(this._map.ids.length);
      for (const i of found.indices) this.passing[i] = 1;
      this.scheduleDraw();
    } catch {
      // Dimming is a help, not the map: without it, every point stays as it is.
      this.passing = undefined;
    }
  }

  /** Thumbnails of the points in view, asked for in batches. */
  private async fetchThumbnails(ids: string[]): Promise<void> {
    const missing = ids.filter((id) => !this.asked.has(id)).slice(0, ITEMS_BATCH);
    if (!missing.length || !this.client) return;
    for (const id of missing) this.asked.add(id);
    try {
      const { items } = await this.client.mapItems(missing);
      for (const item of items) {
        const thumb: Thumb = { item };
        if (item.thumbnail) {
          const image = new Image();
          image.decoding = 'async';
          image.onload = () => this.scheduleDraw();
          image.src = item.thumbnail;
          thumb.image = image;
        }
        this.thumbs.set(item.id, thumb);
      }
      while (this.thumbs.size > THUMBNAIL_CACHE) {
        const oldest = this.thumbs.keys().next().value!;
        this.thumbs.delete(oldest);
        this.asked.delete(oldest);
      }
      this.scheduleDraw();
    } catch {
      for (const id of missing) this.asked.delete(id);
    }
  }

  // --- drawing -----------------------------------------------------------------

  private scheduleDraw(): void {
    cancelAnimationFrame(this.frame);
    this.frame = requestAnimationFrame(() => this.draw());
  }

  /** Canvas pixels per map unit, and the map point at the top left. */
  private transform(width: number, height: number): { scale: number; x0: number; y0: number } {
    // A margin for the thumbnails drawn centred on the outermost points.
    const scale = Math.max(1, Math.min(width, height) - 110) * this.view.zoom;
    return { scale, x0: this.view.cx - width / 2 / scale, y0: this.view.cy - height / 2 / scale };
  }

  private draw(): void {
    const canvas = this.renderRoot.querySelector('canvas');
    if (!canvas) return;
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth;
    const height = canvas.clientHeight;
    if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
    }
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    const style = getComputedStyle(this);
    const accent = style.getPropertyValue('--reprise-accent').trim() || '#0b57d0';
    const pointColour = style.getPropertyValue('--reprise-map-point').trim() || '#6b6b6b';
    const { scale, x0, y0 } = this.transform(width, height);
    const n = this.positions.length / 2;
    const visible: number[] = [];
    for (let i = 0; i < n; i++) {
      const x = (this.positions[2 * i]! - x0) * scale;
      const y = (this.positions[2 * i + 1]! - y0) * scale;
      if (x >= -40 && y >= -40 && x <= width + 40 && y <= height + 40) visible.push(i);
    }
    const thumbnails = visible.length <= THUMBNAILS_BELOW;
    if (thumbnails && this._map) void this.fetchThumbnails(visible.map((i) => this._map!.ids[i]!));
    const size = thumbnails ? Math.max(24, Math.min(96, Math.sqrt((width * height) / Math.max(1, visible.length)) * 0.6)) : 0;
    // Highlighted points last, so that they lie on top.
    const order = visible.filter((i) => !this.highlighted[i]).concat(visible.filter((i) => this.highlighted[i]));
    for (const i of order) {
      const x = (this.positions[2 * i]! - x0) * scale;
      const y = (this.positions[2 * i + 1]! - y0) * scale;
      const on = this.highlighted[i] === 1;
      ctx.globalAlpha = this.passing && !this.passing[i] && !on ? 0.15 : 1;
      const thumb = thumbnails ? this.thumbs.get(this._map!.ids[i]!) : undefined;
      const image = thumb?.image;
      if (image?.complete && image.naturalWidth) {
        const k = size / Math.max(image.naturalWidth, image.naturalHeight);
        const w = image.naturalWidth * k;
        const h = image.naturalHeight * k;
        ctx.drawImage(image, x - w / 2, y - h / 2, w, h);
        if (on) {
          ctx.lineWidth = 3;
          ctx.strokeStyle = accent;
          ctx.strokeRect(x - w / 2 - 1.5, y - h / 2 - 1.5, w + 3, h + 3);
        }
        continue;
      }
      ctx.fillStyle = on ? accent : pointColour;
      ctx.beginPath();
      ctx.arc(x, y, on ? 5 : n > 20_000 ? 1.2 : 2.5, 0, 2 * Math.PI);
      ctx.fill();
    }
    ctx.globalAlpha = 1;
  }

  // --- interaction ---------------------------------------------------------------

  private zoomAt(factor: number, px: number, py: number): void {
    const canvas = this.canvas;
    const { scale, x0, y0 } = this.transform(canvas.clientWidth, canvas.clientHeight);
    // The map point under the pointer stays under it.
    const mx = x0 + px / scale;
    const my = y0 + py / scale;
    const zoom = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, this.view.zoom * factor));
    const next = scale * (zoom / this.view.zoom);
    this.view = { zoom, cx: mx - (px - canvas.clientWidth / 2) / next, cy: my - (py - canvas.clientHeight / 2) / next };
    this.scheduleDraw();
  }

  private onWheel(e: WheelEvent): void {
    e.preventDefault();
    const rect = this.canvas.getBoundingClientRect();
    this.zoomAt(Math.exp(-e.deltaY * 0.002), e.clientX - rect.left, e.clientY - rect.top);
  }

  private onPointerDown(e: PointerEvent): void {
    this.canvas.setPointerCapture(e.pointerId);
    this.drag = { x: e.clientX, y: e.clientY, view: { ...this.view }, moved: false, id: e.pointerId };
  }

  private onPointerMove(e: PointerEvent): void {
    const drag = this.drag;
    if (!drag || drag.id !== e.pointerId) return;
    const dx = e.clientX - drag.x;
    const dy = e.clientY - drag.y;
    if (!drag.moved && Math.hypot(dx, dy) < CLICK_SLOP) return;
    drag.moved = true;
    this.canvas.classList.add('dragging');
    const { scale } = this.transform(this.canvas.clientWidth, this.canvas.clientHeight);
    this.view = { ...drag.view, cx: drag.view.cx - dx / scale, cy: drag.view.cy - dy / scale };
    this.scheduleDraw();
  }

  private onPointerUp(e: PointerEvent): void {
    const drag = this.drag;
    this.drag = undefined;
    this.canvas.classList.remove('dragging');
    if (!drag || drag.moved) return;
    const rect = this.canvas.getBoundingClientRect();
    const i = this.pointAt(e.clientX - rect.left, e.clientY - rect.top);
    if (i !== undefined) void this.open(i);
  }

  /** The point nearest a canvas position, within PICK_RADIUS (or under its thumbnail). */
  private pointAt(px: number, py: number): number | undefined {
    const { scale, x0, y0 } = this.transform(this.canvas.clientWidth, this.canvas.clientHeight);
    let best: number | undefined;
    let bestDistance = PICK_RADIUS;
    for (let i = 0; i < this.positions.length / 2; i++) {
      const d = Math.hypot((this.positions[2 * i]! - x0) * scale - px, (this.positions[2 * i + 1]! - y0) * scale - py);
      // Highlighted points win ties: they are what the person is looking at.
      if (d < bestDistance || (d === bestDistance && this.highlighted[i])) {
        best = i;
        bestDistance = d;
      }
    }
    return best;
  }

  private onKey(e: KeyboardEvent): void {
    const canvas = this.canvas;
    const step = 0.1 / this.view.zoom;
    const moves: Record<string, [number, number]> = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    if (e.key === '+' || e.key === '=') this.zoomAt(1.5, canvas.clientWidth / 2, canvas.clientHeight / 2);
    else if (e.key === '-') this.zoomAt(1 / 1.5, canvas.clientWidth / 2, canvas.clientHeight / 2);
    else if (e.key === '0') this.reset();
    else if (e.key === 'Enter') {
      const i = this.pointAt(canvas.clientWidth / 2, canvas.clientHeight / 2);
      if (i !== undefined) void this.open(i);
    } else if (moves[e.key]) {
      const [dx, dy] = moves[e.key]!;
      this.view = { ...this.view, cx: this.view.cx + dx, cy: this.view.cy + dy };
      this.scheduleDraw();
    } else return;
    e.preventDefault();
  }

  private reset(): void {
    this.view = { zoom: 1, cx: 0.5, cy: 0.5 };
    this.scheduleDraw();
  }

  /** Opens an item: reprise-select, then the hit-href page unless the event was cancelled. */
  private async open(i: number): Promise<void> {
    const id = this._map?.ids[i];
    if (!id || !this.client) return;
    let item = this.thumbs.get(id)?.item;
    if (!item) item = (await this.client.mapItems([id]).catch(() => ({ items: [] as Item[] }))).items[0];
    if (!item) return;
    const hit: Hit = { ...item, score: 1 };
    const go = this.dispatchEvent(new CustomEvent('reprise-select', { detail: { hit }, bubbles: true, composed: true, cancelable: true }));
    const href = go ? fillHref(this.hitHref, hit) : undefined;
    if (href) window.location.assign(new URL(href, document.baseURI).href);
  }

  protected override render() {
    return html`
      <canvas
        part="canvas"
        tabindex="0"
        role="img"
        aria-label=${`Map of ${this.collection ?? 'the collection'}: similar images lie near each other. Arrow keys move, + and − zoom, Enter opens the image at the centre.`}
        @wheel=${this.onWheel}
        @pointerdown=${this.onPointerDown}
        @pointermove=${this.onPointerMove}
        @pointerup=${this.onPointerUp}
        @pointercancel=${() => ((this.drag = undefined), this.canvas.classList.remove('dragging'))}
        @keydown=${this.onKey}
      ></canvas>
      <div class="controls" part="controls">
        <button type="button" aria-label="Zoom in" @click=${() => this.zoomAt(1.5, this.canvas.clientWidth / 2, this.canvas.clientHeight / 2)}>+</button>
        <button type="button" aria-label="Zoom out" @click=${() => this.zoomAt(1 / 1.5, this.canvas.clientWidth / 2, this.canvas.clientHeight / 2)}>−</button>
        <button type="button" aria-label="Show everything" @click=${() => this.reset()}>⤢</button>
      </div>
      <div class="status ${this._problem ? 'error' : ''}" part="status" role="status">
        ${this._problem ? html`<strong>${this._problem.title}</strong> ${this._problem.detail}` : this._status || nothing}
      </div>
    `;
  }
}
