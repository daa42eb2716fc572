import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { Task } from '@lit/task';
import { problemOf, RepriseClient } from '../api/client.ts';
import { fillHref, placeOnCanvas } from '../api/hit-display.ts';
import { logProblem, problemForPatrons } from '../api/problem-words.ts';
import type { AnyHit, Printing, Problem, RegionQuery, ReprintsPage, SearchPage } from '../api/types.ts';
import { pageLanguage, t, type Strings } from '../i18n/strings.ts';
import { resultStyles } from './shared-styles.ts';
import { cardExportParts } from './reprise-hit.ts';

/** The whole canvas, as a Media Fragment box the API reads. */
export const WHOLE_CANVAS = 'percent:0,0,100,100';

type ReprintsResult = { available: true; page: ReprintsPage; query: RegionQuery } | { available: false };
/** The other printings listed so far (pages appended by "show more"), of which item, out of how many. */
interface PrintingsList {
  item: string;
  /** What `reprise-results` says was asked: the item, and the canvas it was looked up from. */
  query: Record<string, string>;
  printings: Printing[];
  total: number;
}

/**
 * Items similar to a canvas (or to a box on it), and its reprints: other printings of the same
 * photograph, with the matched region drawn on each thumbnail. Give `item-id` (an indexed item),
 * or `canvas` (with `manifest`, and optionally `xywh` for a box). The reprints section appears
 * when the server offers reprint detection (`POST /reprints`); when it answers 404 a note says
 * it is not available. The "other printings" section lists the item's reprint group as the
 * comparison after each harvest found it (`GET /items/{id}/reprints`): each with where the
 * photograph is on it and how sure, a page at a time ("show more"); it appears only when there are
 * some. `sections` names the sections to show (and ask for), space-separated: `similar`,
 * `reprints`, `printings` (default: all three), for hosts that give each a tab of its own.
 *
 * ```html
 * <reprise-similar api="/api" canvas="https://…/canvas/1" manifest="https://…/manifest.json"></reprise-similar>
 * ```
 *
 * @fires reprise-results - `{query, hits, total}` for each section that answers; `query.kind` is
 *   `similar`, `reprints` or `printings` (`query.itemId`: whose printings, with the `canvas` and
 *   `manifest` it was looked up from; `query.offset`: once for each page shown).
 * @fires reprise-select - `{hit}` when a hit is opened (cancelable).
 * @fires reprise-open-printing - `{hit, itemId}` when another printing is opened, before its
 *   `reprise-select` (`hit` a Printing: the item, `region` where the photograph is on it,
 *   `confidence`); cancelable: cancelling it stops the card's link, so a host viewer can open it.
 * @fires reprise-compare - `{hit, query}` when a reprint is to be shown side by side with the
 *   query canvas (`query` is `{canvas, manifest, xywh}`; the hit carries `region` and `queryRegion`).
 * @fires reprise-error - `{problem}` when a section fails.
 *
 * @csspart section - each section (similar, reprints)
 * @csspart heading - the section headings
 * @csspart results - the lists of hits
 * @csspart hit - each `<reprise-hit>`
 * @csspart notice - the "not available" and "nothing found" notes
 * @csspart printing-place - under each other printing, where the photograph is on it
 * @csspart more - "show more printings"
 * @csspart error - an error message
 *
 * @cssprop --reprise-accent - accent colour (focus rings, region outlines)
 * @cssprop --reprise-card-min-width - smallest card width (default 150px)
 * @cssprop --reprise-heading-size - size of the section headings (default 1em)
 */
export class RepriseSimilar extends LitElement {
  static override properties = {
    api: {},
    lang: { reflect: true },
    canvas: {},
    manifest: {},
    xywh: {},
    itemId: { attribute: 'item-id' },
    limit: { type: Number },
    hitHref: { attribute: 'hit-href' },
    showScores: { type: Boolean, attribute: 'show-scores' },
    sections: {},
    noCompare: { type: Boolean, attribute: 'no-compare' },
    _more: { state: true },
    _loadingMore: { state: true },
    _moreError: { state: true },
  };

  static override styles = [
    resultStyles,
    css`
      section + section {
        margin-top: 0.8rem;
      }
      h3 {
        font-size: var(--reprise-heading-size, 1em);
        margin: 0 0 0.3rem;
      }
      .notice {
        font-size: 0.9em;
        color: var(--reprise-muted, #555);
        margin: 0.2rem 0;
      }
      .printings li {
        display: flex;
        flex-direction: column;
        gap: 0.2rem;
      }
      .printings reprise-hit {
        flex: 1;
      }
      .place {
        font-size: 0.85em;
        color: var(--reprise-muted, #555);
      }
      .printings .status {
        margin: 0.3rem 0 0;
        min-height: 0;
      }
      /* Border, colours and focus ring: resultStyles' buttons. */
      .more {
        margin-top: 0.3rem;
        min-height: 2rem;
        padding: 0.2rem 0.8rem;
      }
    `,
  ];

  declare api: string;
  declare lang: string;
  declare canvas: string | undefined;
  declare manifest: string | undefined;
  /** A box on the canvas ("x,y,w,h" in canvas coordinates); the whole canvas when unset. */
  declare xywh: string | undefined;
  declare itemId: string | undefined;
  declare limit: number;
  declare hitHref: string | undefined;
  /** Show raw scores beside the relevance words (for specialists). */
  declare showScores: boolean;
  /** Which sections to show, space-separated: "similar reprints printings" (default), or some of them. */
  declare sections: string;
  /** Hide "compare side by side" on reprints (a host whose viewer cannot show two images). */
  declare noCompare: boolean;
  /** The printings listed after "show more": the task's first page (`base`) with the pages after it. */
  declare _more: { base: PrintingsList; list: PrintingsList } | undefined;
  declare _loadingMore: boolean;
  /** A "show more" that failed, for the list it was asked for. */
  declare _moreError: { base: PrintingsList; problem: Problem } | undefined;

  constructor() {
    super();
    this.api = '/api';
    // lang stays unset (not ''): an empty lang attribute, once reflected, would hide the page's language.
    this.canvas = undefined;
    this.manifest = undefined;
    this.xywh = undefined;
    this.itemId = undefined;
    this.limit = 12;
    this.hitHref = undefined;
    this.showScores = false;
    this.sections = 'similar reprints printings';
    this.noCompare = false;
    this._more = undefined;
    this._loadingMore = false;
    this._moreError = undefined;
  }

  private shows(section: 'similar' | 'reprints' | 'printings'): boolean {
    const asked = (this.sections ?? '').split(/\s+/).filter(Boolean);
    return asked.length === 0 || asked.includes(section);
  }

  private get language(): string {
    return this.lang || pageLanguage(this);
  }

  private get limitValue(): number {
    const n = Math.floor(Number(this.limit));
    return Number.isFinite(n) && n >= 1 ? Math.min(n, 100) : 12;
  }

  private emit(type: string, detail: Record<string, unknown>) {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }

  private regionQuery(): RegionQuery | undefined {
    if (!this.canvas) return undefined;
    return { canvas: this.canvas, xywh: this.xywh || WHOLE_CANVAS, ...(this.manifest ? { manifest: this.manifest } : {}) };
  }

  private readonly similarTask = new Task(this, {
    task: async ([api, itemId, canvas, manifest, xywh, limit, shown], { signal }): Promise<SearchPage | undefined> => {
      if (!shown) return undefined;
      const client = new RepriseClient(api);
      let page: SearchPage;
      if (itemId && !xywh) page = await client.similar(itemId, { limit }, signal);
      else if (canvas) {
        // The canvas itself is its own nearest neighbour when the whole of it is the query: leave it out.
        page = await client.region({ canvas, xywh: xywh || WHOLE_CANVAS, ...(manifest ? { manifest } : {}) }, { limit: xywh ? limit : limit + 1 }, signal);
        if (!xywh) page = { ...page, hits: page.hits.filter((h) => h.canvas.id !== canvas).slice(0, limit) };
      } else return undefined;
      this.emit('reprise-results', { query: { kind: 'similar', itemId, canvas, manifest, xywh }, hits: page.hits, total: page.total });
      return page;
    },
    args: () => [this.api, this.itemId, this.canvas, this.manifest, this.xywh, this.limitValue, this.shows('similar')] as const,
    onError: (err) => this.reportError(err),
  });

  private readonly reprintsTask = new Task(this, {
    task: async ([api, itemId, canvas, manifest, xywh, limit, shown], { signal }): Promise<ReprintsResult | undefined> => {
      if (!shown) return undefined;
      const client = new RepriseClient(api);
      let query: RegionQuery | undefined = canvas ? { canvas, xywh: xywh || WHOLE_CANVAS, ...(manifest ? { manifest } : {}) } : undefined;
      if (!query && itemId) {
        // Reprint search takes a canvas, as image search does: look the item's up.
        const item = await client.item(itemId, signal);
        query = { canvas: item.canvas.id, manifest: item.manifest.url || item.manifest.id, xywh: WHOLE_CANVAS };
      }
      if (!query) return undefined;
      const page = await client.reprints(query, { limit }, signal);
      if (!page) return { available: false };
      this.emit('reprise-results', { query: { kind: 'reprints', ...query }, hits: page.hits, total: page.hits.length });
      return { available: true, page, query };
    },
    args: () => [this.api, this.itemId, this.canvas, this.manifest, this.xywh, this.limitValue, this.shows('reprints')] as const,
    onError: (err) => this.reportError(err),
  });

  private readonly printingsTask = new Task(this, {
    task: async ([api, itemId, canvas, manifest, limit, shown], { signal }): Promise<PrintingsList | undefined> => {
      if (!shown) return undefined;
      const client = new RepriseClient(api);
      // The group is the item's: a canvas is looked up among its manifest's items.
      const item = itemId || (canvas && manifest ? await client.itemIdOfCanvas(canvas, manifest, signal) : undefined);
      if (!item) return undefined;
      const page = await client.printings(item, { limit }, signal);
      if (!page) return undefined;
      const query = { kind: 'printings', itemId: item, ...(canvas ? { canvas, ...(manifest ? { manifest } : {}) } : {}) };
      this.emit('reprise-results', { query: { ...query, offset: 0 }, hits: page.printings, total: page.total });
      return { item, query, printings: page.printings, total: page.total };
    },
    args: () => [this.api, this.itemId, this.canvas, this.manifest, this.limitValue, this.shows('printings')] as const,
    onError: (err) => this.reportError(err),
  });

  /** The next page of other printings, after those shown; focus goes to the first new one, for keyboard readers. */
  private shownPrintings(base: PrintingsList | undefined): PrintingsList | undefined {
    return base && this._more?.base === base ? this._more.list : base;
  }

  private async morePrintings(base: PrintingsList) {
    const list = this.shownPrintings(base)!;
    if (this._loadingMore) return;
    this._loadingMore = true;
    this._moreError = undefined;
    const first = list.printings.length;
    try {
      const page = await new RepriseClient(this.api).printings(list.item, { limit: this.limitValue, offset: first });
      if (this.printingsTask.value !== base) return; // another item since
      const printings = [...list.printings, ...(page?.printings ?? [])];
      const next = { ...list, printings, total: page?.total ?? printings.length };
      this._more = { base, list: next };
      this.emit('reprise-results', { query: { ...list.query, offset: first }, hits: page?.printings ?? [], total: next.total });
      await this.updateComplete;
      const card = this.renderRoot.querySelectorAll<HTMLElement>('.printings reprise-hit')[first];
      (card?.shadowRoot?.querySelector<HTMLElement>('[part=open]') ?? card)?.focus();
    } catch (err) {
      this._moreError = { base, problem: problemOf(err) };
      this.reportError(err);
    } finally {
      this._loadingMore = false;
    }
  }

  /** Opening another printing says so first, with whose printing it is; cancelling that stops the card's own link too. */
  private onOpenPrinting(e: CustomEvent<{ hit: AnyHit }>, itemId: string) {
    const open = new CustomEvent('reprise-open-printing', { detail: { hit: e.detail.hit, itemId }, bubbles: true, composed: true, cancelable: true });
    if (!this.dispatchEvent(open)) e.preventDefault();
  }

  private onCompare(e: CustomEvent<{ hit: AnyHit }>, query: RegionQuery) {
    // Re-sent from this element with the query the reprint was found for.
    e.stopPropagation();
    this.emit('reprise-compare', { hit: e.detail.hit, query });
  }

  private grid(hits: AnyHit[], comparable: boolean, query?: RegionQuery, scoreKind: SearchPage['scoreKind'] = 'cosine'): TemplateResult {
    return html`<ul class="grid" part="results" role="list" @reprise-compare=${(e: CustomEvent<{ hit: AnyHit }>) => query && this.onCompare(e, query)}>
      ${hits.map(
        (hit) => html`<li>
          <reprise-hit
            part="hit"
            exportparts=${cardExportParts('compare')}
            .hit=${hit}
            lang=${this.language}
            .href=${fillHref(this.hitHref, hit)}
            .scoreKind=${scoreKind}
            query-kind="image"
            actions="link copy iiif"
            ?show-scores=${this.showScores}
            ?comparable=${comparable && !this.noCompare}
          ></reprise-hit>
        </li>`,
      )}
    </ul>`;
  }

  private reportError(err: unknown) {
    const problem = problemOf(err);
    logProblem('reprise-similar', problem);
    this.emit('reprise-error', { problem });
  }

  private error(s: Strings, problem: Problem) {
    const shown = problemForPatrons(problem, s);
    return html`<div class="error" part="error" role="alert"><strong>${shown.title}</strong> <span>${shown.detail}</span></div>`;
  }

  private loading(s: Strings) {
    return html`<p class="status" role="status"><span class="spinner" aria-hidden="true"></span>${s.loading}</p>`;
  }

  override render() {
    const s = t(this.language);
    if (!this.itemId && !this.canvas) return html`<p class="notice" part="notice">${s.chooseCanvas}</p>`;
    return html`
      ${this.shows('similar')
        ? html`<section part="section" class="similar" aria-labelledby="similar-heading">
            <h3 id="similar-heading" part="heading">${s.similar}</h3>
            ${this.similarTask.render({
              pending: () => this.loading(s),
              error: (err) => this.error(s, problemOf(err)),
              complete: (page) => (page && page.hits.length ? this.grid(page.hits, false, undefined, page.scoreKind) : html`<p class="notice" part="notice">${s.noSimilar}</p>`),
            })}
          </section>`
        : nothing}
      ${this.shows('reprints') ? this.renderReprints(s) : nothing}
      ${this.shows('printings') ? this.renderPrintings(s) : nothing}
    `;
  }

  /** Shown only once there are other printings to list: most items have none, and a note saying so on each would be noise. */
  private renderPrintings(s: Strings) {
    return this.printingsTask.render({
      pending: () => nothing,
      error: (err) =>
        html`<section part="section" class="printings" aria-labelledby="printings-heading"><h3 id="printings-heading" part="heading">${s.otherPrintings}</h3>${this.error(s, problemOf(err))}</section>`,
      complete: (base) => {
        const list = this.shownPrintings(base);
        if (!base || !list || !list.printings.length) return nothing;
        const left = list.total - list.printings.length;
        return html`<section part="section" class="printings" aria-labelledby="printings-heading">
          <h3 id="printings-heading" part="heading">${s.otherPrintings}</h3>
          <ul class="grid" part="results" role="list" @reprise-select=${(e: CustomEvent<{ hit: AnyHit }>) => this.onOpenPrinting(e, list.item)}>
            ${list.printings.map((printing) => {
              const place = placeOnCanvas(printing.region, printing.canvas.width, printing.canvas.height);
              return html`<li>
                <reprise-hit
                  part="hit"
                  exportparts=${cardExportParts()}
                  .hit=${printing}
                  lang=${this.language}
                  .href=${fillHref(this.hitHref, printing)}
                  actions="link copy iiif"
                  ?show-scores=${this.showScores}
                ></reprise-hit>
                ${place ? html`<span class="place" part="printing-place">${s.placeOnCanvas[place]}</span>` : nothing}
              </li>`;
            })}
          </ul>
          <p class="status" role="status">${list.printings.length > base.printings.length ? s.printingsShown(list.printings.length, list.total) : ''}</p>
          ${this._moreError?.base === base ? this.error(s, this._moreError.problem) : nothing}
          ${left > 0
            ? html`<button type="button" class="more" part="more" ?disabled=${this._loadingMore} @click=${() => void this.morePrintings(base)}>
                ${this._loadingMore ? s.loading : s.morePrintings(left)}
              </button>`
            : nothing}
        </section>`;
      },
    });
  }

  private renderReprints(s: Strings) {
    return html`
      ${this.reprintsTask.render({
        pending: () => html`<section part="section" class="reprints" aria-labelledby="reprints-heading"><h3 id="reprints-heading" part="heading">${s.reprints}</h3>${this.loading(s)}</section>`,
        error: (err) =>
          html`<section part="section" class="reprints" aria-labelledby="reprints-heading"><h3 id="reprints-heading" part="heading">${s.reprints}</h3>${this.error(s, problemOf(err))}</section>`,
        complete: (result) => {
          if (!result) return nothing;
          if (!result.available) return html`<p class="notice reprints-unavailable" part="notice">${s.reprintsUnavailable}</p>`;
          return html`<section part="section" class="reprints" aria-labelledby="reprints-heading">
            <h3 id="reprints-heading" part="heading">${s.reprints}</h3>
            ${result.page.hits.length ? this.grid(result.page.hits, true, result.query) : html`<p class="notice" part="notice">${s.noReprints}</p>`}
          </section>`;
        },
      })}
    `;
  }
}
