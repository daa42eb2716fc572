import { LitElement, css, html, nothing, svg } from 'lit';
import { drawableRegion, hitLabel, rightsLabel, wholeThumbnail } from '../api/hit-display.ts';
import type { Hit } from '../api/types.ts';
import { pageLanguage, t } from '../i18n/strings.ts';

export type Mark = '+' | '-' | '';

/** Three decimals in the reader's notation (0.873, 0,873); never "-0.000". */
function formatScore(score: number, lang: string): string {
  const value = Math.abs(score) < 0.0005 ? 0 : score;
  try {
    return new Intl.NumberFormat(lang, { minimumFractionDigits: 3, maximumFractionDigits: 3 }).format(value);
  } catch {
    return value.toFixed(3);
  }
}

/**
 * One search hit as a card: a thumbnail (with the matched region outlined when the hit has
 * one), its label, score, attribution and rights, a control to open it and, when `markable`,
 * + and − buttons for relevance feedback. Used by `<reprise-search>` and `<reprise-similar>`;
 * usable alone.
 *
 * @fires reprise-select - `{hit}` when the hit is opened. Cancelable: cancelling it stops the
 *   link (`href`) from being followed, so a host viewer can open the hit itself.
 * @fires reprise-mark - `{hit, mark}` when + or − is toggled (`mark` is `'+'`, `'-'` or `''`).
 * @fires reprise-compare - `{hit}` when "compare side by side" is asked for (with `comparable`).
 *
 * @csspart card - the whole card
 * @csspart open - the link or button that opens the hit
 * @csspart thumbnail - the image (an `<img>`, or an `<svg>` when a region is drawn)
 * @csspart region - the outline of the matched region
 * @csspart label - the hit's label (the canvas's, else the manifest's)
 * @csspart manifest-label - the manifest's label, under a canvas label
 * @csspart score - the score
 * @csspart attribution - the required statement (attribution)
 * @csspart rights - the rights link
 * @csspart mark-positive - the + button
 * @csspart mark-negative - the − button
 * @csspart compare - the compare button
 *
 * @cssprop --reprise-thumb-height - height of the thumbnail area (default 140px)
 * @cssprop --reprise-label-lines - lines of the label shown before it is cut (default 3; the whole label is the link's title)
 * @cssprop --reprise-accent - accent colour: focus rings
 * @cssprop --reprise-region-color - outline of the matched region (default #ff9800)
 * @cssprop --reprise-card-background - card background
 * @cssprop --reprise-border-color - card border
 * @cssprop --reprise-positive - colour of a result marked +
 * @cssprop --reprise-negative - colour of a result marked −
 */
export class RepriseHit extends LitElement {
  static override properties = {
    hit: { attribute: false },
    lang: { reflect: true },
    href: {},
    mark: { reflect: true },
    markable: { type: Boolean },
    comparable: { type: Boolean },
  };

  static override styles = css`
    :host {
      display: block;
      font: inherit;
      color: inherit;
    }
    article {
      display: flex;
      flex-direction: column;
      gap: 0.25rem;
      height: 100%;
      box-sizing: border-box;
      padding: 0.4rem;
      border: 1px solid var(--reprise-border-color, #c8c8c8);
      border-radius: 6px;
      background: var(--reprise-card-background, #fff);
    }
    :host([mark='+']) article {
      border-color: var(--reprise-positive, #1b7f3b);
      box-shadow: inset 0 0 0 2px var(--reprise-positive, #1b7f3b);
    }
    :host([mark='-']) article {
      border-color: var(--reprise-negative, #b3261e);
      opacity: 0.6;
    }
    .open {
      display: flex;
      flex-direction: column;
      gap: 0.25rem;
      color: inherit;
      text-decoration: none;
      background: none;
      border: 0;
      padding: 0;
      font: inherit;
      text-align: start;
      cursor: pointer;
    }
    .open:focus-visible,
    button:focus-visible,
    a:focus-visible {
      outline: 3px solid var(--reprise-accent, #0b57d0);
      outline-offset: 2px;
    }
    .thumb {
      display: flex;
      align-items: center;
      justify-content: center;
      height: var(--reprise-thumb-height, 140px);
      background: var(--reprise-thumb-background, #eee);
      border-radius: 4px;
      overflow: hidden;
    }
    .thumb img,
    .thumb svg {
      max-width: 100%;
      max-height: 100%;
      width: 100%;
      height: 100%;
      object-fit: contain;
    }
    .region {
      fill: none;
      stroke: var(--reprise-region-color, #ff9800);
      vector-effect: non-scaling-stroke;
      stroke-width: 3;
    }
    .label {
      font-weight: 600;
      line-height: 1.25;
      overflow-wrap: anywhere;
      display: -webkit-box;
      -webkit-box-orient: vertical;
      -webkit-line-clamp: var(--reprise-label-lines, 3);
      line-clamp: var(--reprise-label-lines, 3);
      overflow: hidden;
    }
    .manifest-label {
      font-size: 0.85em;
      color: var(--reprise-muted, #555);
      white-space: nowrap;
      overflow: hidden;
      text-overflow: ellipsis;
    }
    .meta {
      display: flex;
      flex-wrap: wrap;
      gap: 0.25rem 0.6rem;
      font-size: 0.85em;
      color: var(--reprise-muted, #555);
    }
    .meta a {
      color: inherit;
    }
    .attribution {
      font-size: 0.8em;
      color: var(--reprise-muted, #555);
      overflow-wrap: anywhere;
    }
    .actions {
      display: flex;
      gap: 0.3rem;
      margin-top: auto;
    }
    .actions button {
      min-width: 2rem;
      min-height: 2rem;
      border: 1px solid var(--reprise-border-color, #c8c8c8);
      border-radius: 4px;
      background: var(--reprise-button-background, #f7f7f7);
      color: inherit;
      font: inherit;
      cursor: pointer;
    }
    .actions button[aria-pressed='true'].pos {
      background: var(--reprise-positive, #1b7f3b);
      color: #fff;
    }
    .actions button[aria-pressed='true'].neg {
      background: var(--reprise-negative, #b3261e);
      color: #fff;
    }
    .actions .compare {
      margin-inline-start: auto;
      font-size: 0.85em;
    }
  `;

  declare hit: Hit | undefined;
  declare lang: string;
  declare href: string | undefined;
  declare mark: Mark;
  declare markable: boolean;
  declare comparable: boolean;

  constructor() {
    super();
    this.hit = undefined;
    // lang stays unset (not ''): an empty lang attribute, once reflected, would hide the page's language.
    this.href = undefined;
    this.mark = '';
    this.markable = false;
    this.comparable = false;
  }

  private fire(type: string, detail: Record<string, unknown>, cancelable = false): boolean {
    return this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true, cancelable }));
  }

  private onOpen(e: Event) {
    if (!this.hit) return;
    if (!this.fire('reprise-select', { hit: this.hit }, true)) e.preventDefault();
  }

  private toggle(mark: '+' | '-') {
    if (!this.hit) return;
    this.mark = this.mark === mark ? '' : mark;
    this.fire('reprise-mark', { hit: this.hit, mark: this.mark });
  }

  private thumbnail(label: string) {
    const hit = this.hit!;
    const src = wholeThumbnail(hit);
    const { width, height } = hit.canvas;
    const region = drawableRegion(hit.region, width, height);
    if (src && region && width && height) {
      // An SVG keeps the outline on the image whatever the scaling: both live in canvas coordinates.
      return html`<svg part="thumbnail" viewBox="0 0 ${width} ${height}" preserveAspectRatio="xMidYMid meet" role="img" aria-label=${`${label} (${t(this.lang || pageLanguage(this)).matchedRegion})`}>
        ${svg`<image href=${src} x="0" y="0" width=${width} height=${height} preserveAspectRatio="none"></image>
        <rect part="region" class="region" x=${region.x} y=${region.y} width=${region.w} height=${region.h}></rect>`}
      </svg>`;
    }
    return src ? html`<img part="thumbnail" src=${src} alt="" loading="lazy" decoding="async" />` : nothing;
  }

  override render() {
    const hit = this.hit;
    if (!hit) return nothing;
    const s = t(this.lang || pageLanguage(this));
    const label = hitLabel(hit, s.untitled);
    const own = hit.canvas.label?.trim();
    const manifest = hit.manifest.label?.trim();
    const inner = html`<span class="thumb">${this.thumbnail(label)}</span>
      <span class="label" part="label">${own || manifest || s.untitled}</span>
      ${own && manifest && own !== manifest ? html`<span class="manifest-label" part="manifest-label">${manifest}</span>` : nothing}`;
    return html`<article part="card" aria-label=${label}>
      ${this.href
        ? html`<a class="open" part="open" href=${this.href} @click=${this.onOpen} title=${s.openHit(label)}>${inner}</a>`
        : html`<button type="button" class="open" part="open" @click=${this.onOpen} title=${s.openHit(label)}>${inner}</button>`}
      <div class="meta">
        <span part="score" title=${s.score}>${s.score} ${formatScore(hit.score, this.lang || pageLanguage(this))}</span>
        ${hit.inliers !== undefined ? html`<span class="inliers">${s.matchingPoints(hit.inliers)}</span>` : nothing}
        ${hit.rights ? html`<a part="rights" href=${hit.rights} target="_blank" rel="noopener" title=${`${s.rights}: ${hit.rights}`}>${rightsLabel(hit.rights)}</a>` : nothing}
      </div>
      ${hit.requiredStatement ? html`<div class="attribution" part="attribution">${hit.requiredStatement.value}</div>` : nothing}
      ${this.markable || this.comparable
        ? html`<div class="actions">
            ${this.markable
              ? html`<button type="button" class="pos" part="mark-positive" aria-pressed=${this.mark === '+' ? 'true' : 'false'} title=${s.markPositive} aria-label=${s.markPositive} @click=${() => this.toggle('+')}>+</button>
                  <button type="button" class="neg" part="mark-negative" aria-pressed=${this.mark === '-' ? 'true' : 'false'} title=${s.markNegative} aria-label=${s.markNegative} @click=${() => this.toggle('-')}>−</button>`
              : nothing}
            ${this.comparable
              ? html`<button type="button" class="compare" part="compare" @click=${() => this.fire('reprise-compare', { hit })}>${s.compare}</button>`
              : nothing}
          </div>`
        : nothing}
    </article>`;
  }
}
