import { LitElement, css, html, nothing, svg } from 'lit';
import { cardLabels, drawableRegion, fillHref, iiifDragHref, rightsLabel, wholeThumbnail } from '../api/hit-display.ts';
import { formatScore, reprintCertainty, relevanceOf, type QueryKind } from '../api/relevance.ts';
import { isReprint, type AnyHit, type SearchPage } from '../api/types.ts';
import { pageLanguage, t } from '../i18n/strings.ts';

export type Mark = '+' | '-' | '';

/** The actions a card offers, as the `actions` attribute names them. */
export const CARD_ACTIONS = ['similar', 'reprints', 'link', 'copy', 'iiif'] as const;
export type CardAction = (typeof CARD_ACTIONS)[number];

/** The card's parts that every list of cards passes on to the page. */
const CARD_PARTS = ['card', 'open', 'thumbnail', 'region', 'label', 'manifest-label', 'canvas-label', 'relevance', 'score', 'date', 'attribution', 'rights', 'actions', 'item-link', 'copy-link', 'iiif-link'];

/** The `exportparts` of a list of cards: the parts every card has, and those of the controls this list turns on. */
export const cardExportParts = (...controls: string[]): string => [...CARD_PARTS, ...controls].join(', ');

/**
 * One hit as a card a patron understands: a thumbnail (the matched region outlined when the hit
 * has one), its label, manifest label, date, rights and attribution, how good a match it is in
 * words (the raw score only with `show-scores`), a control to open it, and actions: Similar,
 * Reprints, a link to the item's page (else its manifest), copy link, and the IIIF drag-and-drop
 * link. When `markable`, + and − buttons for relevance feedback. A reprint hit (from
 * `POST /reprints`) says how sure the match is instead ("Same photograph"). Used by
 * `<reprise-search>` and `<reprise-similar>`; usable alone.
 *
 * @fires reprise-select - `{hit}` when the hit is opened. Cancelable: cancelling it stops the
 *   link (`href`) from being followed, so a host viewer can open the hit itself.
 * @fires reprise-mark - `{hit, mark}` when + or − is toggled (`mark` is `'+'`, `'-'` or `''`).
 * @fires reprise-compare - `{hit}` when "compare side by side" is asked for (with `comparable`).
 * @fires reprise-find-similar - `{hit}` when Similar is pressed (`<reprise-search>` answers it).
 * @fires reprise-find-reprints - `{hit}` when Reprints is pressed (`<reprise-search>` answers it).
 * @fires reprise-copy-link - `{hit, url}` once a link to the hit is on the clipboard.
 *
 * @csspart card - the whole card
 * @csspart open - the link or button that opens the hit
 * @csspart thumbnail - the image (an `<img>`, or an `<svg>` when a region is drawn)
 * @csspart region - the outline of the matched region
 * @csspart label - the hit's label (a region item's annotation words, else the canvas's, else the manifest's)
 * @csspart manifest-label - the manifest's label, under a canvas label
 * @csspart canvas-label - the canvas's label, under a region item's words
 * @csspart relevance - the match in words ("Strong match", "Same photograph")
 * @csspart score - the raw score (with `show-scores`)
 * @csspart date - the date
 * @csspart actions - the row of actions
 * @csspart find-similar - the Similar button
 * @csspart find-reprints - the Reprints button
 * @csspart item-link - the link to the item's page or manifest
 * @csspart copy-link - the copy-link button
 * @csspart iiif-link - the IIIF drag-and-drop link
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
    shareHref: { attribute: 'share-href' },
    mark: { reflect: true },
    markable: { type: Boolean },
    comparable: { type: Boolean },
    scoreKind: { attribute: 'score-kind' },
    queryKind: { attribute: 'query-kind' },
    showScores: { type: Boolean, attribute: 'show-scores' },
    actions: {},
    _copied: { state: true },
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
    .relevance {
      font-weight: 600;
      color: var(--reprise-relevance-color, #1f4e8c);
    }
    :host([data-relevance='possible']) .relevance {
      color: var(--reprise-muted, #555);
      font-weight: 500;
    }
    .tools {
      display: flex;
      flex-wrap: wrap;
      gap: 0.25rem;
      align-items: center;
      font-size: 0.8em;
    }
    .tools button,
    .tools a {
      display: inline-flex;
      align-items: center;
      min-height: 1.75rem;
      box-sizing: border-box;
      padding: 0.1rem 0.45rem;
      border: 1px solid var(--reprise-border-color, #c8c8c8);
      border-radius: 4px;
      background: var(--reprise-button-background, #f7f7f7);
      color: inherit;
      font: inherit;
      text-decoration: none;
      cursor: pointer;
    }
    .tools a.iiif {
      font-weight: 700;
      color: #fff;
      background: #2467a0;
      border-color: #2467a0;
      cursor: grab;
    }
    .copied {
      font-size: 0.85em;
      color: var(--reprise-positive, #1b7f3b);
    }
  `;

  declare hit: AnyHit | undefined;
  declare lang: string;
  /** Where the card's open control leads; without it, a button that fires reprise-select only. */
  declare href: string | undefined;
  /** The link "copy link" puts on the clipboard: a template as `hit-href` ({id}, {canvas}, {manifest}, {homepage}); default the item's page, else its manifest. */
  declare shareHref: string | undefined;
  declare mark: Mark;
  declare markable: boolean;
  declare comparable: boolean;
  /** The page's scoreKind (cosine or ranking): how to read `hit.score`. */
  declare scoreKind: SearchPage['scoreKind'];
  /** What was asked (text, image, keyword): the bands of the relevance words differ. */
  declare queryKind: QueryKind;
  /** Show the raw score beside the words, for specialists. */
  declare showScores: boolean;
  /** Space-separated actions to offer: similar reprints link copy iiif (the default: all). */
  declare actions: string;
  declare _copied: boolean;

  constructor() {
    super();
    this.hit = undefined;
    // lang stays unset (not ''): an empty lang attribute, once reflected, would hide the page's language.
    this.href = undefined;
    this.shareHref = undefined;
    this.mark = '';
    this.markable = false;
    this.comparable = false;
    this.scoreKind = 'cosine';
    this.queryKind = 'text';
    this.showScores = false;
    this.actions = CARD_ACTIONS.join(' ');
    this._copied = false;
  }

  private offers(action: CardAction): boolean {
    return this.actions.split(/\s+/).includes(action);
  }

  /** The link to the item: its page on the portal when the manifest names one, else the manifest. */
  private itemLink(): string | undefined {
    const hit = this.hit!;
    return hit.homepage || hit.manifest.url || hit.manifest.id || undefined;
  }

  private async copyLink() {
    const hit = this.hit!;
    const url = new URL(fillHref(this.shareHref, hit) ?? this.itemLink() ?? '', document.baseURI).href;
    try {
      await navigator.clipboard.writeText(url);
    } catch {
      // Without clipboard permission (an insecure page, an old browser): the link is selected in a prompt instead.
      window.prompt(t(this.lang || pageLanguage(this)).copyLink, url);
    }
    this._copied = true;
    setTimeout(() => (this._copied = false), 2500);
    this.fire('reprise-copy-link', { hit, url });
  }

  private relevance(s: ReturnType<typeof t>, lang: string) {
    const hit = this.hit!;
    if (isReprint(hit)) {
      const band = reprintCertainty(hit);
      this.dataset.relevance = band;
      return html`<span class="relevance" part="relevance" title=${s.matchingPoints(hit.inliers)}>${s.certainty[band]}</span>
        ${this.showScores ? html`<span part="score" class="inliers">${s.matchingPoints(hit.inliers)} · ${formatScore(hit.confidence, lang)}</span>` : nothing}`;
    }
    // Browsing lists items without ranking them: nothing to say about relevance.
    if (this.queryKind === 'keyword' && hit.score === 1) {
      delete this.dataset.relevance;
      return nothing;
    }
    const band = relevanceOf(hit.score, this.scoreKind, this.queryKind);
    this.dataset.relevance = band;
    return html`<span class="relevance" part="relevance" title=${s.relevanceTitle}>${s.relevance[band]}</span>
      ${this.showScores ? html`<span part="score" title=${s.score}>${s.score} ${formatScore(hit.score, lang)}</span>` : nothing}`;
  }

  private tools(s: ReturnType<typeof t>, label: string) {
    const hit = this.hit!;
    const link = this.offers('link') ? this.itemLink() : undefined;
    const buttons = [
      this.offers('similar') ? html`<button type="button" part="find-similar" aria-label=${s.findSimilarLabel(label)} @click=${() => this.fire('reprise-find-similar', { hit })}>${s.findSimilar}</button>` : nothing,
      this.offers('reprints') ? html`<button type="button" part="find-reprints" aria-label=${s.findReprintsLabel(label)} @click=${() => this.fire('reprise-find-reprints', { hit })}>${s.findReprints}</button>` : nothing,
      link ? html`<a part="item-link" href=${link} target="_blank" rel="noopener">${hit.homepage ? s.itemPage : s.manifestLink}</a>` : nothing,
      this.offers('copy') ? html`<button type="button" part="copy-link" aria-label=${s.copyLinkLabel(label)} @click=${() => void this.copyLink()}>${s.copyLink}</button>` : nothing,
      this.offers('iiif') && (hit.manifest.url || hit.manifest.id)
        ? html`<a class="iiif" part="iiif-link" href=${iiifDragHref(hit)} draggable="true" title=${s.iiifDrag} aria-label=${`IIIF: ${s.iiifDrag}`}>IIIF</a>`
        : nothing,
    ];
    if (buttons.every((b) => b === nothing)) return nothing;
    return html`<div class="tools" part="actions">${buttons}${this._copied ? html`<span class="copied" role="status">${s.linkCopied}</span>` : nothing}</div>`;
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
    const lang = this.lang || pageLanguage(this);
    const s = t(lang);
    const names = cardLabels(hit, s.untitled);
    const label = names.name;
    const inner = html`<span class="thumb">${this.thumbnail(label)}</span>
      <span class="label" part="label">${names.label}</span>
      ${names.secondary ? html`<span class="manifest-label" part=${`${names.secondaryIs}-label`}>${names.secondary}</span>` : nothing}`;
    return html`<article part="card" aria-label=${label}>
      ${this.href
        ? html`<a class="open" part="open" href=${this.href} @click=${this.onOpen} title=${s.openHit(label)}>${inner}</a>`
        : html`<button type="button" class="open" part="open" @click=${this.onOpen} title=${s.openHit(label)}>${inner}</button>`}
      <div class="meta">
        ${this.relevance(s, lang)}
        ${hit.date ? html`<span part="date">${hit.date.slice(0, 10)}</span>` : nothing}
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
      ${this.tools(s, label)}
    </article>`;
  }
}
