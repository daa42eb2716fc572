import type { LanguageMap } from '../../harvester/index.ts';
import type { IndexedRecord } from '../../harvester/index.ts';
import { regionLabel, regionOfItem } from '../../harvester/index.ts';
import type { Box, ItemFields } from '../../store/index.ts';
import { displayText } from '../hits.ts';
import { relevanceOf, RELEVANCE_EN } from '../../common/index.ts';
import { PRESENTATION2_CONTEXT, SEARCH1_CONTEXT, SEARCH2_CONTEXT } from './services.ts';

/** One hit: an indexed canvas, the region that matched (else the whole canvas), and how well (none when there was no query). */
export interface ContentSearchHit {
  item: ItemFields;
  region?: Box;
  score?: number;
}

/** The URLs of one result set: the page asked for, the set as a whole, and any of its pages. */
export interface ResultUrls {
  /** The URL of this request (public base, path, its query string less ignored parameters). */
  request: string;
  /** The result set: the service URL with the parameters that shaped it (q, motivation, limit), no page. */
  collection: string;
  page(n: number): string;
}

/** What both response versions are built from: one page of one query's hits within one manifest. */
export interface ContentSearchResult {
  manifest: { id: string; label?: LanguageMap };
  /** The query text; undefined when the request had none (every canvas is a hit, in canvas order). */
  query?: string;
  /** This page's hits. */
  hits: ContentSearchHit[];
  /** Hits over all pages. */
  total: number;
  /** 1-based number of this page, and of the last (1 when there are no hits). */
  page: number;
  lastPage: number;
  /** Position of this page's first hit in the whole result set (0-based). */
  startIndex: number;
  urls: ResultUrls;
  /** Request parameters defined by the Content Search specs that this service does not implement. */
  ignored: string[];
}

/**
 * The motivation of every hit annotation, in both versions: the body describes what matched and
 * how well. (2.0 keeps `highlighting` and `contextualizing` for the annotations that point at other
 * annotations, §4.2.5–4.2.6; 1.0 takes Open Annotation's motivations, oa:describing among them.)
 */
export const HIT_MOTIVATION = { v1: 'oa:describing', v2: 'describing' } as const;

/** A region as a Media Fragments `xywh` value in integer canvas pixels. */
export function xywh(box: Box): string {
  const x = Math.max(0, Math.round(box.x));
  const y = Math.max(0, Math.round(box.y));
  const w = Math.max(1, Math.round(box.w));
  const h = Math.max(1, Math.round(box.h));
  return `xywh=${x},${y},${w},${h}`;
}

const record = (item: ItemFields) => (item.record ?? {}) as Partial<IndexedRecord>;

/** The canvas's own size, else its image's; undefined when the index knows neither. */
function canvasSize(item: ItemFields): { w: number; h: number } | undefined {
  const r = record(item);
  const w = r.width ?? r.image?.width;
  const h = r.height ?? r.image?.height;
  return w && h && w > 0 && h > 0 ? { w, h } : undefined;
}

/**
 * What a hit targets: the canvas with an `xywh` fragment, the matching region or else the whole
 * canvas. Viewers need the fragment: Universal Viewer fails on a bare canvas id and Mirador draws
 * no highlight without one. Only a canvas of unknown size (none seen so far) is targeted bare.
 */
export function hitTarget(hit: ContentSearchHit): string {
  const canvas = hit.item.canvasId;
  const size = canvasSize(hit.item);
  const box = hit.region ?? (size ? { x: 0, y: 0, w: size.w, h: size.h } : undefined);
  return box ? `${canvas}#${xywh(box)}` : canvas;
}

const canvasLabel = (item: ItemFields) => displayText(record(item).label) ?? (item.label || undefined);

/**
 * The annotation's text, in parts so that 1.0's hit can mark the query within it (`before`,
 * `match`, `after`): a visual hit has no words, so it says where, and how well it matches the
 * query in the words the widget uses. The query comes last and `after` stays empty because
 * Mirador cuts `before` to the length of a non-empty `after` (its TruncatedHit) and would show
 * only the end of it.
 */
export function hitText(hit: ContentSearchHit, query: string | undefined): { before: string; match: string; after: string } {
  const label = canvasLabel(hit.item);
  const canvas = `canvas${label ? ` "${label}"` : ''}${tagsText(hit.item)}${metadataText(hit.item)}`;
  // A region item says what the institution's annotation says of it.
  const annotated = regionLabel(regionOfItem(hit.item));
  const region = hit.region ? `Region ${xywh(hit.region).slice(5)}${annotated ? ` ("${annotated}")` : ''} of ${canvas}` : undefined;
  if (query === undefined) {
    return { before: '', match: '', after: region ? `${region} (no query: every canvas and annotated region)` : `Whole image of ${canvas} (no query: every canvas)` };
  }
  const where = region ?? `Whole image of ${canvas}`;
  // Words, not a cosine: viewers show this text to patrons as it is (plugin/relevance.ts, as the widget's cards).
  const relevance = RELEVANCE_EN[relevanceOf(hit.score ?? 0, 'cosine', 'text')].toLowerCase();
  return { before: `${where}: ${relevance} for `, match: query, after: '' };
}

/** At most this many of a canvas's tags are named in a hit's text. */
const MAX_TAGS_NAMED = 8;

/**
 * The canvas's tags (the `labels` facet: the model's label sets, curators' tags) as the values the
 * `labels` parameter takes, so that a reader can narrow the search to one of them.
 */
function tagsText(item: ItemFields): string {
  const tags = item.labels ?? [];
  if (!tags.length) return '';
  const named = tags.slice(0, MAX_TAGS_NAMED).join(', ');
  return ` [tags: ${named}${tags.length > MAX_TAGS_NAMED ? `, +${tags.length - MAX_TAGS_NAMED} more` : ''}]`;
}

/** At most this many of a canvas's metadata facet values are named in a hit's text; longer values are left out. */
const MAX_METADATA_NAMED = 8;
const MAX_VALUE_LENGTH = 80;

/**
 * The canvas's metadata facet values (config facets.metadata: creator, subject, …) as the `meta`
 * parameter takes them, name and value (`creator: Dorothea Lange` for meta=creator:Dorothea Lange),
 * so that a reader can narrow the search to one of them.
 */
function metadataText(item: ItemFields): string {
  const pairs = Object.entries(item.facets ?? {}).flatMap(([name, values]) => values.map((value) => ({ name, value })));
  const named = pairs.filter((p) => p.value.length <= MAX_VALUE_LENGTH).slice(0, MAX_METADATA_NAMED);
  if (!named.length) return '';
  const more = pairs.length - named.length;
  return ` [${named.map((p) => `${p.name}: ${p.value}`).join('; ')}${more > 0 ? `; +${more} more` : ''}]`;
}

const fullText = (hit: ContentSearchHit, query: string | undefined) => Object.values(hitText(hit, query)).join('');

/** Annotation ids: the result set's URL and the item, so one hit keeps its id on every page and in both versions' links. */
const annotationId = (result: ContentSearchResult, hit: ContentSearchHit) => `${result.urls.collection}#hit-${hit.item.id}`;

/**
 * Content Search 1.0 (§3.3, §3.4): an sc:AnnotationList whose `@id` is the request's URI (§3.3.1;
 * ignored parameters dropped), `within` an sc:Layer with `total`, `first`, `last` and `ignored`
 * (§3.3.2, §3.4.1), `next`/`prev` between pages, `startIndex`, the annotations in `resources`
 * (targets `on` canvas#xywh=…) and `hits` (search:Hit, §3.4) referencing them by id, with the query
 * as `match` and the text around it as `before` and `after` (§3.4.2). The context is an array,
 * Presentation first, because `hits` is Search-specific.
 */
export function searchResponseV1(result: ContentSearchResult): Record<string, unknown> {
  const resources = result.hits.map((hit) => ({
    '@id': annotationId(result, hit),
    '@type': 'oa:Annotation',
    motivation: HIT_MOTIVATION.v1,
    resource: { '@type': 'cnt:ContentAsText', chars: fullText(hit, result.query) },
    on: hitTarget(hit),
  }));
  const within: Record<string, unknown> = {
    '@type': 'sc:Layer',
    total: result.total,
    first: result.urls.page(1),
    last: result.urls.page(result.lastPage),
  };
  if (result.ignored.length) within.ignored = result.ignored;
  const list: Record<string, unknown> = {
    '@context': [PRESENTATION2_CONTEXT, SEARCH1_CONTEXT],
    '@id': result.urls.request,
    '@type': 'sc:AnnotationList',
    within,
  };
  if (result.page < result.lastPage) list.next = result.urls.page(result.page + 1);
  if (result.page > 1) list.prev = result.urls.page(result.page - 1);
  list.startIndex = result.startIndex;
  list.resources = resources;
  list.hits = result.hits.map((hit, i) => {
    const text = hitText(hit, result.query);
    const entry: Record<string, unknown> = { '@type': 'search:Hit', annotations: [resources[i]!['@id']] };
    // `after` is given even when empty: Mirador offers "more..." for a hit without one, as if it had been cut.
    if (text.match) Object.assign(entry, { match: text.match, before: text.before, after: text.after });
    return entry;
  });
  return list;
}

/**
 * Content Search 2.0 (§4.2): an AnnotationPage, its `id` the URL of this page (§4.2.2 allows it to
 * differ from the request's), `partOf` the embedded AnnotationCollection with `total`, `first` and
 * `last`, `next`/`prev` between pages, `startIndex`, `ignored` (§4.2.4), and the hits in `items`:
 * TextualBody annotations whose target is the canvas#xywh=… with the manifest it is `partOf`
 * (id, type, label: §4.2.3).
 */
export function searchResponseV2(result: ContentSearchResult): Record<string, unknown> {
  const manifest: Record<string, unknown> = { id: result.manifest.id, type: 'Manifest' };
  if (result.manifest.label && Object.keys(result.manifest.label).length) manifest.label = result.manifest.label;
  const items = result.hits.map((hit) => ({
    id: annotationId(result, hit),
    type: 'Annotation',
    motivation: HIT_MOTIVATION.v2,
    body: { type: 'TextualBody', value: fullText(hit, result.query), format: 'text/plain', language: 'en' },
    target: { id: hitTarget(hit), partOf: manifest },
  }));
  const ref = (n: number) => ({ id: result.urls.page(n), type: 'AnnotationPage' });
  const page: Record<string, unknown> = {
    '@context': SEARCH2_CONTEXT,
    id: result.urls.page(result.page),
    type: 'AnnotationPage',
    partOf: {
      id: result.urls.collection,
      type: 'AnnotationCollection',
      total: result.total,
      first: ref(1),
      last: ref(result.lastPage),
    },
  };
  if (result.page < result.lastPage) page.next = ref(result.page + 1);
  if (result.page > 1) page.prev = ref(result.page - 1);
  page.startIndex = result.startIndex;
  if (result.ignored.length) page.ignored = result.ignored;
  page.items = items;
  return page;
}
