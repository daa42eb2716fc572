import { LitElement, css, html, nothing } from 'lit';
import type { OwnImage } from '../api/client.ts';
import type { Box } from '../api/types.ts';
import { pageLanguage, t } from '../i18n/strings.ts';
import { resultStyles } from './shared-styles.ts';

/** Types the API reads; a file of another type is refused before it is sent. */
const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/tiff'];
/** Files larger than this are not previewed or sent (the server's default api.maxUploadBytes is smaller still). */
const MAX_FILE_BYTES = 50 * 1024 * 1024;
/** A drawn box smaller than this (in screen pixels) is a click, not a region. */
const MIN_DRAG = 8;

export type ImageQueryMode = 'similar' | 'reprints';

/** The image chosen and the part outlined on it, ready to send. */
interface Chosen {
  source: OwnImage;
  /** Where the preview loads from (an object URL for files). */
  preview: string;
  name: string;
}

/**
 * Searching with an image of one's own: a file picker, drag-and-drop, paste (Ctrl+V) and an image
 * address; a preview on which a box may be drawn (drag) to search only part of the image; then
 * "Find similar images" or "Find reprints of this photograph". The box is cut out in the browser
 * and only that part is sent. `<reprise-search>` includes one; usable alone.
 *
 * @fires reprise-image-query - `{image, mode, region}`: `image` is `{kind: 'file', file}` or
 *   `{kind: 'url', url}` (already cut to the region when one was drawn), `mode` is `similar` or
 *   `reprints`, `region` the box drawn in the image's pixels (or undefined).
 * @fires reprise-error - `{problem}` when the file is not an image.
 *
 * @csspart dropzone - the area that takes a dropped or pasted image
 * @csspart file-button - the "choose a file" control
 * @csspart url - the image address field
 * @csspart preview - the preview of the image
 * @csspart region - the box drawn on the preview
 * @csspart search-similar - the "find similar images" button
 * @csspart search-reprints - the "find reprints" button
 */
export class RepriseImageQuery extends LitElement {
  static override properties = {
    lang: { reflect: true },
    reprints: { type: Boolean },
    similar: { type: Boolean },
    _chosen: { state: true },
    _box: { state: true },
    _notice: { state: true },
    _over: { state: true },
  };

  static override styles = [
    resultStyles,
    css`
      .dropzone {
        display: flex;
        flex-direction: column;
        gap: 0.5rem;
        padding: 0.75rem;
        border: 2px dashed var(--reprise-border-color, #8a8a8a);
        border-radius: 6px;
        background: var(--reprise-dropzone-background, #fafafa);
      }
      .dropzone.over {
        border-color: var(--reprise-accent, #0b57d0);
        background: #eef3fd;
      }
      .hint {
        margin: 0;
        font-size: 0.9em;
      }
      .row {
        display: flex;
        flex-wrap: wrap;
        gap: 0.4rem;
        align-items: center;
      }
      .row input[type='url'] {
        flex: 1 1 12rem;
        min-width: 0;
        font: inherit;
        padding: 0.35rem 0.5rem;
        border: 1px solid var(--reprise-border-color, #8a8a8a);
        border-radius: 4px;
      }
      label.file {
        position: relative;
        display: inline-block;
        padding: 0.35rem 0.7rem;
        border: 1px solid var(--reprise-border-color, #c8c8c8);
        border-radius: 4px;
        background: var(--reprise-button-background, #f7f7f7);
        cursor: pointer;
      }
      label.file:focus-within {
        outline: 3px solid var(--reprise-accent, #0b57d0);
        outline-offset: 2px;
      }
      label.file input {
        position: absolute;
        inset: 0;
        opacity: 0;
        width: 100%;
        cursor: pointer;
      }
      .preview {
        position: relative;
        align-self: flex-start;
        max-width: 100%;
        line-height: 0;
        touch-action: none;
        cursor: crosshair;
        user-select: none;
      }
      .preview img {
        max-width: 100%;
        max-height: 320px;
        border-radius: 4px;
      }
      .box {
        position: absolute;
        outline: 3px solid var(--reprise-region-color, #ff9800);
        box-shadow: 0 0 0 9999px rgba(0, 0, 0, 0.35);
        pointer-events: none;
      }
      .notice {
        font-size: 0.9em;
        color: var(--reprise-muted, #555);
        margin: 0;
      }
    `,
  ];

  declare lang: string;
  /** Offer "find reprints" (default true). */
  declare reprints: boolean;
  /** Offer "find similar images" (default true; off where no model can embed the image). */
  declare similar: boolean;
  declare _chosen: Chosen | undefined;
  /** The box drawn, in the preview's displayed pixels. */
  declare _box: Box | undefined;
  declare _notice: string;
  declare _over: boolean;

  private drag: { x: number; y: number; id: number } | undefined;

  constructor() {
    super();
    this.reprints = true;
    this.similar = true;
    this._chosen = undefined;
    this._box = undefined;
    this._notice = '';
    this._over = false;
  }

  private get s() {
    return t(this.lang || pageLanguage(this));
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.release();
  }

  private release() {
    if (this._chosen?.source.kind === 'file') URL.revokeObjectURL(this._chosen.preview);
  }

  /** Takes a file (picked, dropped or pasted): refused with a message when it is not an image the API reads. */
  useFile(file: File | Blob, name = (file as File).name ?? 'image'): boolean {
    if (!IMAGE_TYPES.includes(file.type) || file.size > MAX_FILE_BYTES) {
      this._notice = this.s.notAnImage;
      this.dispatchEvent(
        new CustomEvent('reprise-error', {
          detail: { problem: { type: 'urn:reprise:problem:widget', title: this.s.notAnImage, status: 0, detail: `${name}: ${file.type || 'unknown type'}, ${file.size} bytes` } },
          bubbles: true,
          composed: true,
        }),
      );
      return false;
    }
    this.release();
    this._chosen = { source: { kind: 'file', file, name }, preview: URL.createObjectURL(file), name };
    this._box = undefined;
    this._notice = '';
    return true;
  }

  /** Takes an image address (fetched by the server when searched). */
  useUrl(url: string): boolean {
    let parsed: URL;
    try {
      parsed = new URL(url.trim());
    } catch {
      return false;
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return false;
    this.release();
    this._chosen = { source: { kind: 'url', url: parsed.href }, preview: parsed.href, name: parsed.pathname.split('/').pop() || parsed.host };
    this._box = undefined;
    this._notice = '';
    return true;
  }

  /** The first image file of a drop or a paste. */
  static imageFile(data: DataTransfer | null): File | undefined {
    if (!data) return undefined;
    for (const item of data.items ?? []) {
      if (item.kind === 'file') {
        const file = item.getAsFile();
        if (file) return file;
      }
    }
    return data.files?.[0];
  }

  private onDrop(e: DragEvent) {
    e.preventDefault();
    this._over = false;
    const file = RepriseImageQuery.imageFile(e.dataTransfer);
    if (file) this.useFile(file);
    else {
      const url = e.dataTransfer?.getData('text/uri-list') || e.dataTransfer?.getData('text/plain');
      if (url) this.useUrl(url.split('\n')[0]!);
    }
  }

  private onPaste(e: ClipboardEvent) {
    const file = RepriseImageQuery.imageFile(e.clipboardData);
    if (file) {
      e.preventDefault();
      this.useFile(file, 'pasted image');
    }
  }

  private onUrl(e: SubmitEvent) {
    e.preventDefault();
    const input = this.renderRoot.querySelector<HTMLInputElement>('input[type=url]');
    if (input && !this.useUrl(input.value)) input.reportValidity();
  }

  private point(e: PointerEvent) {
    const r = (e.currentTarget as HTMLElement).getBoundingClientRect();
    return { x: Math.max(0, Math.min(r.width, e.clientX - r.left)), y: Math.max(0, Math.min(r.height, e.clientY - r.top)) };
  }

  private onDown(e: PointerEvent) {
    if (e.button !== 0) return;
    const p = this.point(e);
    this.drag = { ...p, id: e.pointerId };
    (e.currentTarget as HTMLElement).setPointerCapture(e.pointerId);
    this._box = undefined;
  }

  private onMove(e: PointerEvent) {
    if (!this.drag || e.pointerId !== this.drag.id) return;
    const p = this.point(e);
    const box = { x: Math.min(p.x, this.drag.x), y: Math.min(p.y, this.drag.y), w: Math.abs(p.x - this.drag.x), h: Math.abs(p.y - this.drag.y) };
    this._box = box.w >= MIN_DRAG && box.h >= MIN_DRAG ? box : undefined;
  }

  private onUp(e: PointerEvent) {
    if (this.drag?.id === e.pointerId) this.drag = undefined;
  }

  /** The drawn box in the image's own pixels. */
  private naturalBox(): Box | undefined {
    const img = this.renderRoot.querySelector<HTMLImageElement>('.preview img');
    if (!this._box || !img || !img.naturalWidth) return undefined;
    const sx = img.naturalWidth / img.clientWidth;
    const sy = img.naturalHeight / img.clientHeight;
    return { x: Math.round(this._box.x * sx), y: Math.round(this._box.y * sy), w: Math.round(this._box.w * sx), h: Math.round(this._box.h * sy) };
  }

  /** The region cut out in the browser, as a JPEG; undefined when the image's site does not allow it. */
  private async cut(box: Box): Promise<Blob | undefined> {
    const chosen = this._chosen!;
    let bitmap: ImageBitmap;
    try {
      const blob = chosen.source.kind === 'file' ? chosen.source.file : await (await fetch(chosen.source.url, { mode: 'cors' })).blob();
      bitmap = await createImageBitmap(blob);
    } catch {
      return undefined;
    }
    const canvas = document.createElement('canvas');
    canvas.width = box.w;
    canvas.height = box.h;
    canvas.getContext('2d')!.drawImage(bitmap, box.x, box.y, box.w, box.h, 0, 0, box.w, box.h);
    bitmap.close();
    return new Promise((resolve) => canvas.toBlob((b) => resolve(b ?? undefined), 'image/jpeg', 0.92));
  }

  private async submit(mode: ImageQueryMode) {
    const chosen = this._chosen;
    if (!chosen) return;
    const region = this.naturalBox();
    let image: OwnImage = chosen.source;
    if (region) {
      const part = await this.cut(region);
      if (part) image = { kind: 'file', file: part, name: `${chosen.name}-region.jpg` };
      else this._notice = this.s.urlWholeImage;
    }
    this.dispatchEvent(new CustomEvent('reprise-image-query', { detail: { image, mode, region, preview: chosen.preview }, bubbles: true, composed: true }));
  }

  override render() {
    const s = this.s;
    const chosen = this._chosen;
    const box = this._box;
    return html`<div
      class="dropzone ${this._over ? 'over' : ''}"
      part="dropzone"
      @dragover=${(e: DragEvent) => (e.preventDefault(), (this._over = true))}
      @dragleave=${() => (this._over = false)}
      @drop=${this.onDrop}
      @paste=${this.onPaste}
    >
      <p class="hint" id="hint">${s.imageSearchHint}</p>
      <div class="row">
        <label class="file" part="file-button"
          >${s.chooseFile}<input type="file" accept=${IMAGE_TYPES.join(',')} @change=${(e: Event) => {
            const file = (e.target as HTMLInputElement).files?.[0];
            if (file) this.useFile(file);
          }}
        /></label>
      </div>
      <form class="row" @submit=${this.onUrl}>
        <label class="visually-hidden" for="url">${s.imageUrl}</label>
        <input id="url" part="url" type="url" placeholder=${s.imageUrl} required />
        <button type="submit">${s.useUrl}</button>
      </form>
      ${chosen
        ? html`<p class="hint">${s.regionHint}</p>
            <div class="preview" part="preview" @pointerdown=${this.onDown} @pointermove=${this.onMove} @pointerup=${this.onUp} @pointercancel=${this.onUp}>
              <img src=${chosen.preview} alt=${s.queryImage} draggable="false" />
              ${box ? html`<div class="box" part="region" style="left:${box.x}px;top:${box.y}px;width:${box.w}px;height:${box.h}px"></div>` : nothing}
            </div>
            <div class="row">
              ${box ? html`<span class="notice">${s.regionChosen}</span> <button type="button" @click=${() => (this._box = undefined)}>${s.wholeImage}</button>` : nothing}
            </div>
            <div class="row">
              ${this.similar ? html`<button type="button" class="primary" part="search-similar" @click=${() => void this.submit('similar')}>${s.findSimilarImages}</button>` : nothing}
              ${this.reprints ? html`<button type="button" part="search-reprints" @click=${() => void this.submit('reprints')}>${s.findReprintsOfPhoto}</button>` : nothing}
            </div>`
        : nothing}
      ${this._notice ? html`<p class="notice" role="alert">${this._notice}</p>` : nothing}
    </div>`;
  }
}
