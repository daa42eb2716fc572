import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import { Task, TaskStatus } from '@lit/task';
import { problemOf, RepriseApiError, RepriseClient, type PageOptions } from '../api/client.ts';
import { fillHref, hitLabel, rightsLabel } from '../api/hit-display.ts';
import { logProblem, problemForPatrons } from '../api/problem-words.ts';
import { DEFAULT_MIN_SCORE, type QueryKind } from '../api/relevance.ts';
import type { AnyHit, FacetField, FacetNames, Facets, Filters, Hit, Item, OwnImage, Problem, RegionQuery, SearchPage, SearchQuery } from '../api/types.ts';
import { facetName } from '../i18n/facet-names.ts';
import { pageLanguage, t, type Strings } from '../i18n/strings.ts';
import { cardExportParts, type Mark } from './reprise-hit.ts';
import { RepriseImageQuery, type ImageQueryMode } from './reprise-image-query.ts';
import { resultStyles } from './shared-styles.ts';
import { readUrlState, urlOf, writeUrlState } from './url-state.ts';

/** What the results list shows: a page of search hits or the reprints found (one page). */
interface Shown {
  hits: AnyHit[];
  total?: number;
  limit: number;
  offset: number;
  scoreKind: SearchPage['scoreKind'];
  /** The canvas reprints were found for, when the query was an indexed item. */
  queryCanvas?: string;
}

const WHOLE_CANVAS = 'percent:0,0,100,100';
const isModelUnavailable = (err: unknown) => err instanceof RepriseApiError && err.status === 503 && /model/.test(err.problem.type);

/**
 * The `filters` attribute: a JSON object such as {"collection": ["Maps"]}. A value that is not
 * one is reported on the console and ignored, rather than breaking the element.
 */
function parseFilters(value: string | null): Filters {
  if (!value) return {};
  try {
    const parsed = JSON.parse(value) as unknown;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Filters;
  } catch {
    // reported below
  }
  console.warn(`reprise-search: the filters attribute must be a JSON object such as {"collection": ["Maps"]}; ignored ${JSON.stringify(value)}`);
  return {};
}

const FACET_FIELDS: readonly FacetField[] = ['manifest', 'collection', 'rights', 'labels', 'source', 'decade', 'year'];
const FACET_SIZE = 20;
/** Stores page at most this deep (the API's offset + limit bound). */
const MAX_WINDOW = 1000;

/**
 * A search box with filters and a grid of results from the Reprise API: text queries, searches
 * with an image of one's own (file, drag-and-drop, paste or address, with a region drawn on a
 * preview: "similar images" or "reprints of this photograph"), region queries (a box on an
 * indexed canvas, from `searchRegion()` or the `canvas`, `manifest` and `region` attributes), the
 * Similar and Reprints of any result, relevance feedback (mark results + or −, then search
 * again), and the collection itself (`browse`) while nothing is asked. Hits below a cut-off
 * (`min-score`) are left out and the total counts those kept. A newer search cancels the one in
 * flight. When the server has no model, text queries search the descriptions instead (a note says
 * so to the reader). With `url-state`, the query, filters and page live in the page's address:
 * back and forward work and a link reproduces the view.
 *
 * ```html
 * <reprise-search api="/api" lang="fr" limit="24" facets="collection rights" browse url-state></reprise-search>
 * ```
 *
 * @fires reprise-results - `{query, hits, total}` when a search answers (`query` is what ran: a
 *   SearchQuery of kind `text`, `browse`, `region`, `feedback`, `similar`, `reprints`, `image` or
 *   `image-reprints`).
 * @fires reprise-select - `{hit}` when a result is opened (from the `<reprise-hit>` inside; cancelable).
 * @fires reprise-compare - `{hit, query, source}` when a reprint is to be shown beside the item it
 *   was found for (`query` is `{canvas, manifest, xywh}` of that item, `source` the item's hit).
 * @fires reprise-error - `{problem}` when a search fails (an RFC 9457 problem).
 *
 * @slot empty - shown instead of the built-in message when a search finds nothing (in the status line)
 * @slot tools - the host's own controls, between the filters and the results (a collection menu, a status line)
 *
 * @csspart form - the search form
 * @csspart input - the text field
 * @csspart search-button - the submit button
 * @csspart image-button - the "search with an image" toggle
 * @csspart image-query - the `<reprise-image-query>` panel
 * @csspart back - "back to the search" (after Similar or Reprints)
 * @csspart filters - the filters disclosure
 * @csspart status - the live status line (loading, counts)
 * @csspart empty - the built-in "nothing found" message in the status line (a host that says it otherwise hides it)
 * @csspart error - the error message
 * @csspart results - the results list
 * @csspart pagination - previous / next
 * @csspart feedback - the "search again" bar
 * @csspart hit - each `<reprise-hit>` (its own parts are reachable through `exportparts`)
 *
 * @cssprop --reprise-accent - accent colour (buttons, focus rings, region outlines)
 * @cssprop --reprise-card-min-width - smallest card width in the grid (default 150px)
 * @cssprop --reprise-gap - space between cards
 * @cssprop --reprise-muted - secondary text colour
 * @cssprop --reprise-font-family - font (default: inherited)
 */
export class RepriseSearch extends LitElement {
  static override properties = {
    api: {},
    lang: { reflect: true },
    limit: { type: Number },
    filters: { converter: { fromAttribute: parseFilters } },
    query: {},
    canvas: {},
    manifest: {},
    region: {},
    facets: {},
    hitHref: { attribute: 'hit-href' },
    shareHref: { attribute: 'share-href' },
    minScore: { attribute: 'min-score' },
    showScores: { type: Boolean, attribute: 'show-scores' },
    semanticRatio: { type: Number, attribute: 'semantic-ratio' },
    browse: { type: Boolean },
    urlState: { type: Boolean, attribute: 'url-state' },
    noImageSearch: { type: Boolean, attribute: 'no-image-search' },
    noCompare: { type: Boolean, attribute: 'no-compare' },
    _request: { state: true },
    _marks: { state: true },
    _notice: { state: true },
    _imageOpen: { state: true },
    keywordOnly: { type: Boolean, attribute: 'keyword-only' },
  };

  static override styles = [
    resultStyles,
    css`
      form {
        display: flex;
        flex-wrap: wrap;
        gap: 0.4rem;
      }
      input[type='search'] {
        flex: 1 1 12rem;
        min-width: 0;
        font: inherit;
        padding: 0.4rem 0.6rem;
        border: 1px solid var(--reprise-border-color, #8a8a8a);
        border-radius: 4px;
      }
      details {
        margin-top: 0.5rem;
      }
      summary {
        cursor: pointer;
      }
      fieldset {
        border: 0;
        margin: 0.3rem 0;
        padding: 0;
        max-height: 12rem;
        overflow: auto;
      }
      legend {
        font-weight: 600;
        padding: 0;
      }
      .facet-value {
        display: flex;
        gap: 0.35rem;
        align-items: baseline;
        font-size: 0.9em;
      }
      .facet-value span {
        overflow-wrap: anywhere;
      }
      .count {
        color: var(--reprise-muted, #555);
      }
      nav,
      .feedback {
        display: flex;
        flex-wrap: wrap;
        gap: 0.4rem;
        align-items: center;
      }
      .feedback {
        margin: 0.3rem 0;
      }
      .notice {
        font-size: 0.9em;
        color: var(--reprise-muted, #555);
      }
      reprise-image-query {
        margin-top: 0.5rem;
      }
      .heading {
        display: flex;
        flex-wrap: wrap;
        gap: 0.4rem;
        align-items: center;
      }
      .query-preview {
        height: 3rem;
        border-radius: 3px;
      }
      button[aria-expanded='true'] {
        background: #e3ebfb;
      }
    `,
  ];

  /** Where the API is mounted (absolute, or relative to the page). */
  declare api: string;
  /** "en" or "fr" (others fall back to English); the page's language when unset. */
  declare lang: string;
  /** Results per page (the server caps it at api.maxLimit). */
  declare limit: number;
  /** Filters applied to every search; the filter checkboxes edit them. */
  declare filters: Filters;
  /** The text query; setting it (or the attribute) runs the search. */
  declare query: string;
  /** Region queries: the canvas id, its manifest, and the box ("x,y,w,h" in canvas coordinates). */
  declare canvas: string | undefined;
  declare manifest: string | undefined;
  declare region: string | undefined;
  /** Space-separated facet fields offered as filters ("collection rights" by default; "" for none). */
  declare facets: string;
  /** A link for each hit: `{id}`, `{canvas}`, `{manifest}`, `{homepage}` are filled in. Without it, hits open through `reprise-select` only. */
  declare hitHref: string | undefined;
  /** The link each card's "copy link" copies (same fields as `hit-href`); default the item's page, else its manifest. */
  declare shareHref: string | undefined;
  /** The cut-off below which hits are left out: "auto" (default: per query kind, relevance.ts), a number (the API's minScore), or "none". */
  declare minScore: string;
  /** Show raw scores beside the relevance words (for specialists). */
  declare showScores: boolean;
  /** Hybrid text search: 0 searches the descriptions only (no model needed), 1 the images only (unset: images only). */
  declare semanticRatio: number | undefined;
  /** Show the collection (GET /items, paged) while nothing is asked. */
  declare browse: boolean;
  /** Keep the query, filters and page in the page's address (history entries; back and forward work). */
  declare urlState: boolean;
  /** Hide "search with an image". */
  declare noImageSearch: boolean;
  /** Hide "compare side by side" on reprints (a host whose viewer cannot show two images). */
  declare noCompare: boolean;
  declare _request: SearchQuery | undefined;
  declare _marks: Map<string, Mark>;
  declare _notice: string;
  declare _imageOpen: boolean;
  /** The server has no model: text queries search the descriptions, Similar is not offered (set by itself when a text search answers 503 for want of a model). */
  declare keywordOnly: boolean;

  /** The hits of the last answer, kept while the next page loads. */
  private shown: Shown | undefined;
  /** The search to go back to from Similar or Reprints. */
  private previous: SearchQuery | undefined;

  private readonly searchTask = new Task(this, {
    task: async ([request, api], { signal }): Promise<Shown | undefined> => {
      if (!request) return undefined;
      const client = new RepriseClient(api);
      const page: PageOptions = { filters: request.filters, limit: request.limit, offset: request.offset };
      const cut = (kind: QueryKind): PageOptions => {
        const min = this.cutOff(kind);
        return min === undefined ? page : { ...page, minScore: min };
      };
      switch (request.kind) {
        case 'text': {
          const ratio = request.semanticRatio ?? (this.keywordOnly ? 0 : undefined);
          if (ratio !== undefined) return client.text(request.q, { ...page, semanticRatio: ratio }, signal);
          try {
            return await client.text(request.q, cut('text'), signal);
          } catch (err) {
            // No model on the server: the descriptions can still be searched, and the reader is told so.
            if (!isModelUnavailable(err)) throw err;
            this.keywordOnly = true;
            return client.text(request.q, { ...page, semanticRatio: 0 }, signal);
          }
        }
        case 'browse':
          return client.browse(page, signal);
        case 'region':
          return client.region(request, cut('image'), signal);
        case 'feedback':
          return client.examples(request.positive, request.negative, cut('image'), signal);
        case 'similar':
          return client.similar(request.itemId, cut('image'), signal);
        case 'image':
          return client.image(request.image, cut('image'), signal);
        case 'reprints': {
          const found = await client.reprintsOfItem(request.itemId, request.limit, signal);
          return { hits: found.hits, total: found.hits.length, limit: request.limit, offset: 0, scoreKind: 'cosine', ...(found.queryCanvas ? { queryCanvas: found.queryCanvas } : {}) };
        }
        case 'image-reprints': {
          const found = await client.reprintsOf(request.image, request.limit, signal);
          return { hits: found.hits, total: found.hits.length, limit: request.limit, offset: 0, scoreKind: 'cosine' };
        }
      }
    },
    args: () => [this._request, this.api] as const,
    onComplete: (page) => {
      if (!page || !this._request) return;
      this.shown = page;
      this.emit('reprise-results', { query: this._request, hits: page.hits, total: page.total });
    },
    onError: (err) => {
      this.shown = undefined;
      const problem = problemOf(err);
      logProblem('reprise-search', problem);
      this.emit('reprise-error', { problem });
    },
  });

  /** The minScore sent for a query kind, from the `min-score` attribute. */
  private cutOff(kind: QueryKind): number | undefined {
    const value = (this.minScore ?? 'auto').trim();
    if (value === 'none') return undefined;
    if (value === 'auto' || value === '') return DEFAULT_MIN_SCORE[kind];
    const n = Number(value);
    return Number.isFinite(n) ? n : DEFAULT_MIN_SCORE[kind];
  }

  private readonly facetsTask = new Task(this, {
    task: async ([api, fields], { signal }): Promise<{ facets: Facets; names: FacetNames } | undefined> => {
      // The fixed fields, and metadata facets (meta.creator, …) as the server's configuration names them.
      const wanted = fields.split(/\s+/).filter((f): f is FacetField => (FACET_FIELDS as readonly string[]).includes(f) || /^meta\.[a-z][a-z0-9_-]*$/.test(f));
      if (!wanted.length) return undefined;
      return new RepriseClient(api).facetsWithNames(wanted, undefined, FACET_SIZE, signal);
    },
    args: () => [this.api, this.facets] as const,
  });

  constructor() {
    super();
    this.api = '/api';
    // lang stays unset (not ''): an empty lang attribute, once reflected, would hide the page's language.
    this.limit = 24;
    this.filters = {};
    this.query = '';
    this.canvas = undefined;
    this.manifest = undefined;
    this.region = undefined;
    this.facets = 'collection rights';
    this.hitHref = undefined;
    this.shareHref = undefined;
    this.minScore = 'auto';
    this.showScores = false;
    this.semanticRatio = undefined;
    this.browse = false;
    this.urlState = false;
    this.noImageSearch = false;
    this.noCompare = false;
    this._request = undefined;
    this._marks = new Map();
    this._notice = '';
    this._imageOpen = false;
    this.keywordOnly = false;
  }

  private readonly onPopState = () => {
    const request = readUrlState(location.href, this.filtersBase(), this.limitValue);
    // Only what the address says about this search matters (the host's own parameters may have changed).
    const same = (a: SearchQuery | undefined, b: SearchQuery | undefined) => (a && b ? urlOf(location.href, a) === urlOf(location.href, b) && a.kind === b.kind : a === b);
    if (same(request, this._request) || (!request && this._request?.kind === 'browse' && !Object.keys(this._request.filters).length && !this._request.offset)) return;
    this.restoring = true;
    if (request) this.start(request);
    else if (this.browse) this.start({ kind: 'browse', filters: {}, offset: 0, limit: this.limitValue });
    else this._request = undefined;
    if (request?.kind === 'text') this.query = request.q;
    this.filters = request?.filters ?? {};
  };

  /** Set while a request comes from the address (back, forward, a link): it is not written back. */
  private restoring = false;

  private readonly onPaste = (e: Event) => {
    const file = RepriseImageQuery.imageFile((e as ClipboardEvent).clipboardData);
    if (!file || this.noImageSearch) return;
    e.preventDefault();
    void this.openImageQuery().then((panel) => panel?.useFile(file, 'pasted image'));
  };

  private readonly onDragOver = (e: Event) => {
    const d = (e as DragEvent).dataTransfer;
    if (!this.noImageSearch && d && [...d.types].includes('Files')) e.preventDefault();
  };

  private readonly onDrop = (e: Event) => {
    const file = RepriseImageQuery.imageFile((e as DragEvent).dataTransfer);
    if (!file || this.noImageSearch || e.defaultPrevented) return;
    e.preventDefault();
    void this.openImageQuery().then((panel) => panel?.useFile(file));
  };

  override connectedCallback(): void {
    super.connectedCallback();
    this.addEventListener('paste', this.onPaste);
    this.addEventListener('dragover', this.onDragOver);
    this.addEventListener('drop', this.onDrop);
    if (this.urlState) window.addEventListener('popstate', this.onPopState);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.removeEventListener('paste', this.onPaste);
    this.removeEventListener('dragover', this.onDragOver);
    this.removeEventListener('drop', this.onDrop);
    window.removeEventListener('popstate', this.onPopState);
  }

  protected override firstUpdated(): void {
    if (this.urlState) {
      const request = readUrlState(location.href, this.filters, this.limitValue);
      if (request) {
        this.restoring = true;
        if (request.kind === 'text') this.query = request.q;
        this.filters = request.filters;
        this.start(request);
        return;
      }
    }
    if (!this._request && this.browse) this.start({ kind: 'browse', filters: this.filters, offset: 0, limit: this.limitValue });
  }

  private filtersBase(): Filters {
    return {};
  }

  /** Runs the current search again (the collection changed: a harvest added images). */
  refresh(): void {
    if (this._request) this._request = { ...this._request };
  }

  /** Focus goes to the search box. */
  override focus(options?: FocusOptions): void {
    this.renderRoot.querySelector<HTMLInputElement>('input[type=search]')?.focus(options);
  }

  /** Opens the image panel and resolves with it once rendered. */
  async openImageQuery(): Promise<RepriseImageQuery | undefined> {
    this._imageOpen = true;
    await this.updateComplete;
    return this.renderRoot.querySelector<RepriseImageQuery>('reprise-image-query') ?? undefined;
  }

  private emit(type: string, detail: Record<string, unknown>) {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }

  private get limitValue(): number {
    const n = Math.floor(Number(this.limit));
    return Number.isFinite(n) && n >= 1 ? Math.min(n, 100) : 24;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    const limit = this.limitValue;
    if ((changed.has('canvas') || changed.has('region') || changed.has('manifest')) && this.canvas && this.region) {
      this.start({ kind: 'region', canvas: this.canvas, xywh: this.region, ...(this.manifest ? { manifest: this.manifest } : {}), filters: this.filters, offset: 0, limit });
    } else if (changed.has('query') && this.query.trim()) {
      this.start({ kind: 'text', q: this.query.trim(), filters: this.filters, offset: 0, limit });
    } else if ((changed.has('filters') || changed.has('limit')) && this._request && this.hasUpdated && !this.restoring) {
      this._request = { ...this._request, filters: this.filters, limit, offset: 0 };
      this.remember(this._request);
    }
  }

  protected override updated(): void {
    this.restoring = false;
  }

  /** A new search: marks belong to the results of the previous one. */
  private start(request: SearchQuery) {
    if (request.kind !== 'feedback') this._marks = new Map();
    if ((request.kind === 'similar' || request.kind === 'reprints') && this._request && this._request.kind !== 'similar' && this._request.kind !== 'reprints') {
      this.previous = this._request;
    }
    this._notice = '';
    this._request = request;
    this.remember(request);
  }

  /** The request in the page's address (with url-state), unless it came from there. */
  private remember(request: SearchQuery) {
    if (this.urlState && !this.restoring) writeUrlState(request);
  }

  /** Items similar to a hit (or an item id): shown in this element's results, with a way back. */
  async findSimilar(hit: AnyHit | string): Promise<void> {
    const [itemId, label] = typeof hit === 'string' ? [hit, undefined] : [hit.id, hitLabel(hit, t(this.language).untitled)];
    this.start({ kind: 'similar', itemId, ...(label ? { label } : {}), filters: this.filters, offset: 0, limit: this.limitValue });
    await this.settled();
  }

  /** Other printings of the photograph of a hit (or an item id). */
  async findReprints(hit: AnyHit | string): Promise<void> {
    const [itemId, label] = typeof hit === 'string' ? [hit, undefined] : [hit.id, hitLabel(hit, t(this.language).untitled)];
    this.start({ kind: 'reprints', itemId, ...(label ? { label } : {}), filters: {}, offset: 0, limit: this.limitValue });
    await this.settled();
  }

  /** Searches with an image of one's own: similar images, or reprints of the photograph. */
  async searchImage(image: OwnImage, mode: ImageQueryMode = 'similar', preview?: string): Promise<void> {
    const kind = mode === 'reprints' ? 'image-reprints' : 'image';
    this.start({ kind, image, ...(preview ? { preview } : {}), filters: mode === 'reprints' ? {} : this.filters, offset: 0, limit: this.limitValue });
    await this.settled();
  }

  /** Back from Similar or Reprints to the search they were asked from. */
  back(): void {
    const previous = this.previous;
    this.previous = undefined;
    if (previous) this.start(previous);
    else if (this.browse) this.start({ kind: 'browse', filters: this.filters, offset: 0, limit: this.limitValue });
  }

  /** Runs a text search, as if typed in the box. Resolves when it has answered. */
  async search(q: string): Promise<Shown | undefined> {
    this.query = q;
    this.start({ kind: 'text', q: q.trim(), ...(this.semanticRatio !== undefined ? { semanticRatio: this.semanticRatio } : {}), filters: this.filters, offset: 0, limit: this.limitValue });
    return this.settled();
  }

  /** Runs an image search on a box drawn on an indexed canvas (`xywh` in canvas coordinates). Resolves when it has answered. */
  async searchRegion(query: RegionQuery): Promise<Shown | undefined> {
    this.canvas = query.canvas;
    this.manifest = query.manifest;
    this.region = query.xywh;
    this.start({ kind: 'region', canvas: query.canvas, xywh: query.xywh, ...(query.manifest ? { manifest: query.manifest } : {}), filters: this.filters, offset: 0, limit: this.limitValue });
    return this.settled();
  }

  /** Searches again with the results marked + and − (relevance feedback). */
  async searchWithFeedback(): Promise<Shown | undefined> {
    const positive = [...this._marks].filter(([, m]) => m === '+').map(([id]) => id);
    const negative = [...this._marks].filter(([, m]) => m === '-').map(([id]) => id);
    if (!positive.length) {
      this._notice = t(this.language).needPositive;
      return undefined;
    }
    this.start({ kind: 'feedback', positive, negative, filters: this.filters, offset: 0, limit: this.limitValue });
    return this.settled();
  }

  private async settled(): Promise<Shown | undefined> {
    await this.updateComplete;
    try {
      return await this.searchTask.taskComplete;
    } catch {
      return undefined;
    }
  }

  private get language(): string {
    return this.lang || pageLanguage(this);
  }

  private onSubmit(e: SubmitEvent) {
    e.preventDefault();
    const input = this.renderRoot.querySelector<HTMLInputElement>('input[type=search]');
    const q = input?.value.trim() ?? '';
    if (!q) {
      input?.focus();
      return;
    }
    this.previous = undefined;
    void this.search(q);
  }

  private page(delta: number) {
    const r = this._request;
    if (!r) return;
    this._request = { ...r, offset: Math.max(0, r.offset + delta * r.limit) };
    this.remember(this._request);
    // Reading from the top of the new page: focus the status line, which announces it.
    void this.settled().then(() => this.renderRoot.querySelector<HTMLElement>('.status')?.focus());
  }

  private onMark(e: CustomEvent<{ hit: Hit; mark: Mark }>) {
    const marks = new Map(this._marks);
    if (e.detail.mark) marks.set(e.detail.hit.id, e.detail.mark);
    else marks.delete(e.detail.hit.id);
    this._marks = marks;
    this._notice = '';
  }

  private toggleFilter(field: FacetField, value: string, on: boolean) {
    const current = new Set(this.filters[field as keyof Filters] as string[] | undefined);
    if (on) current.add(value);
    else current.delete(value);
    const next: Filters = { ...this.filters };
    if (current.size) (next as Record<string, string[]>)[field] = [...current];
    else delete next[field as keyof Filters];
    this.filters = next;
  }

  private renderFilters(s: Strings) {
    if (!this.facets.trim()) return nothing;
    const active = Object.values(this.filters).reduce((n, v) => n + (Array.isArray(v) ? v.length : v ? 1 : 0), 0);
    return html`<details part="filters">
      <summary>${s.filters}${active ? ` (${active})` : ''}</summary>
      ${this.facetsTask.render({
        pending: () => html`<p class="notice">${s.loadingFilters}</p>`,
        error: (err) => html`<p class="notice">${problemForPatrons(problemOf(err), s).detail}</p>`,
        complete: (answer) =>
          answer
            ? html`${Object.entries(answer.facets).map(([field, facet]) =>
                  facet && facet.values.length
                    ? html`<fieldset>
                        <legend>${facetName(field, this.language, answer.names)}</legend>
                        ${facet.values.map(({ value, count, label }) => {
                          const checked = ((this.filters[field as keyof Filters] as string[] | undefined) ?? []).includes(value);
                          return html`<label class="facet-value"
                            ><input type="checkbox" .checked=${checked} @change=${(e: Event) => this.toggleFilter(field as FacetField, value, (e.target as HTMLInputElement).checked)} />
                            <span title=${value}>${label ?? (field === 'rights' ? rightsLabel(value) : field === 'decade' ? s.decadeValue(value) : value)}</span> <span class="count">(${count})</span></label
                          >`;
                        })}
                      </fieldset>`
                    : nothing,
                )}
                ${active ? html`<button type="button" @click=${() => (this.filters = {})}>${s.clearFilters}</button>` : nothing}`
            : nothing,
      })}
    </details>`;
  }

  /**
   * The status line: what was asked and how many answered. With nothing found it ends with what
   * to do instead (the `empty` slot, which a host may fill), so that the live region says it.
   */
  private renderStatus(s: Strings, page: Shown) {
    if (page.hits.length) return this.describe(s, page);
    const r = this._request;
    const filtered = !!r && Object.values(r.filters).some((v) => (Array.isArray(v) ? v.length : !!v));
    const message =
      r?.kind === 'browse' ? (filtered ? s.noImagesMatch : s.noImagesYet) : r?.kind === 'reprints' || r?.kind === 'image-reprints' ? s.noReprints : s.noResults;
    const prefix = r?.kind === 'text' || r?.kind === 'browse' || r?.kind === 'reprints' || r?.kind === 'image-reprints' ? '' : this.describe(s, page, true);
    return html`${prefix ? `${prefix}. ` : ''}<slot name="empty"><span class="empty" part="empty">${message}</span></slot>`;
  }

  private describe(s: Strings, page: Shown, what = false): string {
    const r = this._request;
    const from = page.hits.length ? page.offset + 1 : 0;
    const full = s.results(from, page.offset + page.hits.length, page.total);
    // `what`: the query alone, without the counts (nothing was found).
    const counts = what ? '' : full;
    const join = (query: string) => (counts ? `${query}. ${counts}` : query);
    switch (r?.kind) {
      case 'region':
        return join(s.regionQuery);
      case 'feedback':
        return join(s.feedbackQuery(r.positive.length, r.negative.length));
      case 'similar':
        return join(s.similarQuery(r.label ?? r.itemId));
      case 'reprints':
        return `${s.reprintsQuery(r.label ?? r.itemId)}. ${s.reprintsFound(page.hits.length)}`;
      case 'image':
        return join(s.ownImageQuery);
      case 'image-reprints':
        return `${s.ownReprintsQuery}. ${s.reprintsFound(page.hits.length)}`;
      default:
        return counts;
    }
  }

  /** How cards read scores: what was asked. */
  private queryKind(): QueryKind {
    const r = this._request;
    if (!r || r.kind === 'browse') return 'keyword';
    if (r.kind === 'text') return r.semanticRatio === 0 || this.keywordOnly ? 'keyword' : 'text';
    return 'image';
  }

  private async onCompare(e: CustomEvent<{ hit: AnyHit }>, page: Shown) {
    e.stopPropagation();
    const r = this._request;
    const canvas = page.queryCanvas;
    if (!canvas) return;
    // Reprints opened from the address (a shared link) came with no card to compare from: the item itself is it.
    let source = this.source;
    if (!source && r?.kind === 'reprints') {
      try {
        source = this.source = await new RepriseClient(this.api).item(r.itemId);
      } catch (err) {
        logProblem('reprise-search', problemOf(err));
      }
    }
    this.emit('reprise-compare', {
      hit: e.detail.hit,
      query: { canvas, xywh: WHOLE_CANVAS, ...(r?.kind === 'reprints' && source ? { manifest: source.manifest.url } : {}) },
      ...(source ? { source } : {}),
    });
  }

  /** The item whose Similar or Reprints were asked for: the left side of a comparison. */
  private source: Item | undefined;

  private renderResults(s: Strings) {
    const status = this.searchTask.status;
    const loading = status === TaskStatus.PENDING;
    const error = status === TaskStatus.ERROR ? problemOf(this.searchTask.error) : undefined;
    const page = error ? undefined : (this.searchTask.value ?? this.shown);
    if (!this._request) return nothing;
    const request = this._request;
    const window = page ? Math.min(page.total ?? Infinity, MAX_WINDOW) : 0;
    const pages = request.kind !== 'reprints' && request.kind !== 'image-reprints';
    const hasNext = pages && !!page && page.hits.length >= request.limit && request.offset + request.limit < window;
    const positives = [...this._marks.values()].filter((m) => m === '+').length;
    const negatives = this._marks.size - positives;
    const markable = request.kind !== 'browse' && pages;
    const reprints = !pages;
    const queryKind = this.queryKind();
    const preview = (request.kind === 'image' || request.kind === 'image-reprints') && request.preview ? request.preview : undefined;
    return html`
      <div class="heading">
        ${this.previous && (request.kind === 'similar' || request.kind === 'reprints')
          ? html`<button type="button" part="back" @click=${() => this.back()}>‹ ${s.backToSearch}</button>`
          : nothing}
        ${preview ? html`<img class="query-preview" src=${preview} alt=${s.queryImage} />` : nothing}
        <div class="status" part="status" role="status" aria-live="polite" tabindex="-1">
          ${loading ? html`<span class="spinner" aria-hidden="true"></span>${s.loading}` : page ? this.renderStatus(s, page) : nothing}
        </div>
      </div>
      ${this.keywordOnly && request.kind === 'text' ? html`<p class="notice keyword-only">${s.keywordOnly}</p>` : nothing}
      ${error ? this.renderError(s, error) : nothing}
      ${page && page.hits.length
        ? html`<ul
            class="grid"
            part="results"
            role="list"
            aria-busy=${loading ? 'true' : 'false'}
            @reprise-mark=${this.onMark}
            @reprise-find-similar=${(e: CustomEvent<{ hit: AnyHit }>) => ((this.source = e.detail.hit), void this.findSimilar(e.detail.hit))}
            @reprise-find-reprints=${(e: CustomEvent<{ hit: AnyHit }>) => ((this.source = e.detail.hit), void this.findReprints(e.detail.hit))}
            @reprise-compare=${(e: CustomEvent<{ hit: AnyHit }>) => void this.onCompare(e, page)}
          >
            ${page.hits.map(
              (hit) => html`<li>
                <reprise-hit
                  part="hit"
                  exportparts=${cardExportParts('mark-positive', 'mark-negative', 'find-similar', 'find-reprints', 'compare')}
                  .hit=${hit}
                  lang=${this.language}
                  .href=${fillHref(this.hitHref, hit)}
                  .shareHref=${this.shareHref}
                  .mark=${this._marks.get(hit.id) ?? ''}
                  .scoreKind=${page.scoreKind}
                  .queryKind=${queryKind}
                  .actions=${this.keywordOnly ? 'reprints link copy iiif' : 'similar reprints link copy iiif'}
                  ?show-scores=${this.showScores}
                  ?markable=${markable && !this.keywordOnly}
                  ?comparable=${reprints && !!page.queryCanvas && !this.noCompare}
                ></reprise-hit>
              </li>`,
            )}
          </ul>`
        : nothing}
      ${this._marks.size || this._notice
        ? html`<div class="feedback" part="feedback">
            ${this._marks.size
              ? html`<button type="button" class="primary" @click=${() => this.searchWithFeedback()}>${s.searchAgain(positives, negatives)}</button>
                  <button type="button" @click=${() => ((this._marks = new Map()), (this._notice = ''))}>${s.clearMarks}</button>`
              : nothing}
            ${this._notice ? html`<span class="notice" role="alert">${this._notice}</span>` : nothing}
          </div>`
        : nothing}
      ${page && (request.offset > 0 || hasNext)
        ? html`<nav part="pagination" aria-label=${s.pagination}>
            <button type="button" ?disabled=${request.offset === 0 || loading} @click=${() => this.page(-1)}>‹ ${s.previous}</button>
            <button type="button" ?disabled=${!hasNext || loading} @click=${() => this.page(1)}>${s.next} ›</button>
          </nav>`
        : nothing}
    `;
  }

  private renderError(s: Strings, problem: Problem) {
    const shown = problemForPatrons(problem, s);
    return html`<div class="error" part="error" role="alert">
      <strong>${shown.title}</strong>
      <span>${shown.detail}</span>
      <div><button type="button" @click=${() => this._request && (this._request = { ...this._request })}>${s.retry}</button></div>
    </div>`;
  }

  override render() {
    const s = t(this.language);
    return html`
      <form part="form" role="search" @submit=${this.onSubmit}>
        <label class="visually-hidden" for="q">${s.searchLabel}</label>
        <input id="q" part="input" type="search" name="q" autocomplete="off" .value=${this.query} placeholder=${s.searchPlaceholder} maxlength="500" />
        <button part="search-button" class="primary" type="submit">${s.searchButton}</button>
        ${this.noImageSearch
          ? nothing
          : html`<button part="image-button" type="button" aria-expanded=${this._imageOpen ? 'true' : 'false'} aria-controls="image-query" @click=${() => (this._imageOpen = !this._imageOpen)}>
              ${s.imageSearch}
            </button>`}
      </form>
      ${this._imageOpen && !this.noImageSearch
        ? html`<reprise-image-query
            id="image-query"
            part="image-query"
            lang=${this.language}
            ?similar=${!this.keywordOnly}
            @reprise-image-query=${(e: CustomEvent<{ image: OwnImage; mode: ImageQueryMode; preview?: string }>) => void this.searchImage(e.detail.image, e.detail.mode, e.detail.preview)}
          ></reprise-image-query>`
        : nothing}
      ${this.renderFilters(s)}
      <slot name="tools"></slot>
      ${this.renderResults(s)}
    `;
  }
}

if (!customElements.get('reprise-image-query')) customElements.define('reprise-image-query', RepriseImageQuery);
