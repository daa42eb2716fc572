import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import { Task, TaskStatus } from '@lit/task';
import { problemOf, RepriseClient } from '../api/client.ts';
import { fillHref, rightsLabel } from '../api/hit-display.ts';
import type { FacetField, Facets, Filters, Hit, Problem, RegionQuery, SearchPage, SearchQuery } from '../api/types.ts';
import { pageLanguage, t, type Strings } from '../i18n/strings.ts';
import type { Mark } from './reprise-hit.ts';
import { resultStyles } from './shared-styles.ts';

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

const FACET_FIELDS: readonly FacetField[] = ['manifest', 'collection', 'rights', 'labels', 'source'];
const FACET_SIZE = 20;
/** Stores page at most this deep (the API's offset + limit bound). */
const MAX_WINDOW = 1000;

/**
 * A search box with filters and a grid of results from the Reprise API: text queries, region
 * queries (a box on an indexed canvas, from `searchRegion()` or the `canvas`, `manifest` and
 * `region` attributes), and relevance feedback (mark results + or −, then search again).
 * A newer search cancels the one in flight.
 *
 * ```html
 * <reprise-search api="/api" lang="fr" limit="24" facets="collection rights"></reprise-search>
 * ```
 *
 * @fires reprise-results - `{query, hits, total}` when a search answers (`query` is what ran: a
 *   SearchQuery of kind `text`, `region` or `feedback`).
 * @fires reprise-select - `{hit}` when a result is opened (from the `<reprise-hit>` inside; cancelable).
 * @fires reprise-error - `{problem}` when a search fails (an RFC 9457 problem).
 *
 * @slot empty - shown instead of the built-in message when a search finds nothing
 *
 * @csspart form - the search form
 * @csspart input - the text field
 * @csspart search-button - the submit button
 * @csspart filters - the filters disclosure
 * @csspart status - the live status line (loading, counts)
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
    _request: { state: true },
    _marks: { state: true },
    _notice: { state: true },
  };

  static override styles = [
    resultStyles,
    css`
      form {
        display: flex;
        gap: 0.4rem;
      }
      input[type='search'] {
        flex: 1;
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
  declare _request: SearchQuery | undefined;
  declare _marks: Map<string, Mark>;
  declare _notice: string;

  /** The hits of the last answer, kept while the next page loads. */
  private shown: SearchPage | undefined;

  private readonly searchTask = new Task(this, {
    task: async ([request, api], { signal }): Promise<SearchPage | undefined> => {
      if (!request) return undefined;
      const client = new RepriseClient(api);
      const page = { filters: request.filters, limit: request.limit, offset: request.offset };
      switch (request.kind) {
        case 'text':
          return client.text(request.q, page, signal);
        case 'region':
          return client.region(request, page, signal);
        case 'feedback':
          return client.examples(request.positive, request.negative, page, signal);
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
      this.emit('reprise-error', { problem: problemOf(err) });
    },
  });

  private readonly facetsTask = new Task(this, {
    task: async ([api, fields], { signal }): Promise<Facets | undefined> => {
      const wanted = fields.split(/\s+/).filter((f): f is FacetField => (FACET_FIELDS as readonly string[]).includes(f));
      if (!wanted.length) return undefined;
      return new RepriseClient(api).facets(wanted, undefined, FACET_SIZE, signal);
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
    this._request = undefined;
    this._marks = new Map();
    this._notice = '';
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
    } else if ((changed.has('filters') || changed.has('limit')) && this._request && this.hasUpdated) {
      this._request = { ...this._request, filters: this.filters, limit, offset: 0 };
    }
  }

  /** A new search: marks belong to the results of the previous one. */
  private start(request: SearchQuery) {
    if (request.kind !== 'feedback') this._marks = new Map();
    this._notice = '';
    this._request = request;
  }

  /** Runs a text search, as if typed in the box. Resolves when it has answered. */
  async search(q: string): Promise<SearchPage | undefined> {
    this.query = q;
    this.start({ kind: 'text', q: q.trim(), filters: this.filters, offset: 0, limit: this.limitValue });
    return this.settled();
  }

  /** Runs an image search on a box drawn on an indexed canvas (`xywh` in canvas coordinates). Resolves when it has answered. */
  async searchRegion(query: RegionQuery): Promise<SearchPage | undefined> {
    this.canvas = query.canvas;
    this.manifest = query.manifest;
    this.region = query.xywh;
    this.start({ kind: 'region', canvas: query.canvas, xywh: query.xywh, ...(query.manifest ? { manifest: query.manifest } : {}), filters: this.filters, offset: 0, limit: this.limitValue });
    return this.settled();
  }

  /** Searches again with the results marked + and − (relevance feedback). */
  async searchWithFeedback(): Promise<SearchPage | undefined> {
    const positive = [...this._marks].filter(([, m]) => m === '+').map(([id]) => id);
    const negative = [...this._marks].filter(([, m]) => m === '-').map(([id]) => id);
    if (!positive.length) {
      this._notice = t(this.language).needPositive;
      return undefined;
    }
    this.start({ kind: 'feedback', positive, negative, filters: this.filters, offset: 0, limit: this.limitValue });
    return this.settled();
  }

  private async settled(): Promise<SearchPage | undefined> {
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
    void this.search(q);
  }

  private page(delta: number) {
    const r = this._request;
    if (!r) return;
    this._request = { ...r, offset: Math.max(0, r.offset + delta * r.limit) };
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
        error: (err) => html`<p class="notice">${problemOf(err).detail}</p>`,
        complete: (facets) =>
          facets
            ? html`${Object.entries(facets).map(([field, facet]) =>
                  facet && facet.values.length
                    ? html`<fieldset>
                        <legend>${s.facetNames[field] ?? field}</legend>
                        ${facet.values.map(({ value, count }) => {
                          const checked = ((this.filters[field as keyof Filters] as string[] | undefined) ?? []).includes(value);
                          return html`<label class="facet-value"
                            ><input type="checkbox" .checked=${checked} @change=${(e: Event) => this.toggleFilter(field as FacetField, value, (e.target as HTMLInputElement).checked)} />
                            <span title=${value}>${field === 'rights' ? rightsLabel(value) : value}</span> <span class="count">(${count})</span></label
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

  private describe(s: Strings, page: SearchPage): string {
    const r = this._request;
    const from = page.hits.length ? page.offset + 1 : 0;
    const counts = s.results(from, page.offset + page.hits.length, page.total);
    if (r?.kind === 'region') return `${s.regionQuery}. ${counts}`;
    if (r?.kind === 'feedback') return `${s.feedbackQuery(r.positive.length, r.negative.length)}. ${counts}`;
    return counts;
  }

  private renderResults(s: Strings) {
    const status = this.searchTask.status;
    const loading = status === TaskStatus.PENDING;
    const error = status === TaskStatus.ERROR ? problemOf(this.searchTask.error) : undefined;
    const page = error ? undefined : (this.searchTask.value ?? this.shown);
    if (!this._request) return nothing;
    const request = this._request;
    const window = page ? Math.min(page.total ?? Infinity, MAX_WINDOW) : 0;
    const hasNext = !!page && page.hits.length >= request.limit && request.offset + request.limit < window;
    const positives = [...this._marks.values()].filter((m) => m === '+').length;
    const negatives = this._marks.size - positives;
    return html`
      <div class="status" part="status" role="status" aria-live="polite" tabindex="-1">
        ${loading ? html`<span class="spinner" aria-hidden="true"></span>${s.loading}` : page ? this.describe(s, page) : nothing}
      </div>
      ${error ? this.renderError(s, error) : nothing}
      ${page && !page.hits.length && !loading ? html`<slot name="empty"><p class="empty">${s.noResults}</p></slot>` : nothing}
      ${page && page.hits.length
        ? html`<ul class="grid" part="results" role="list" aria-busy=${loading ? 'true' : 'false'} @reprise-mark=${this.onMark}>
            ${page.hits.map(
              (hit) => html`<li>
                <reprise-hit
                  part="hit"
                  exportparts="card, open, thumbnail, region, label, manifest-label, score, attribution, rights, mark-positive, mark-negative"
                  .hit=${hit}
                  lang=${this.language}
                  .href=${fillHref(this.hitHref, hit)}
                  .mark=${this._marks.get(hit.id) ?? ''}
                  markable
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
    return html`<div class="error" part="error" role="alert">
      <strong>${s.error}: ${problem.title}</strong>
      <span>${problem.detail}</span>
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
      </form>
      ${this.renderFilters(s)} ${this.renderResults(s)}
    `;
  }
}
