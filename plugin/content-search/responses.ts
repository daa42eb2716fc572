import type { Box, SearchHit } from '../../store/types.ts';
import { PRESENTATION2_CONTEXT, SEARCH1_CONTEXT, SEARCH2_CONTEXT } from './services.ts';

/** What both response versions are built from: one query's hits within one manifest. */
export interface ContentSearchResult {
  manifestId: string;
  query: string;
  /** The URL of this result set: the service URL with its canonical query (q, motivation, limit). */
  searchUrl: string;
  hits: SearchHit[];
  /** Request parameters defined by the Content Search spec that this service does not implement. */
  ignored: string[];
}

/** A region as a Media Fragments `xywh` value in integer canvas pixels. */
export function xywh(box: Box): string {
  const x = Math.max(0, Math.round(box.x));
  const y = Math.max(0, Math.round(box.y));
  const w = Math.max(1, Math.round(box.w));
  const h = Math.max(1, Math.round(box.h));
  return `xywh=${x},${y},${w},${h}`;
}

/** The annotation's text: a visual hit has no words, so it says what matched and how well. */
export function hitText(hit: SearchHit, query: string): string {
  const where = hit.region ? `region ${xywh(hit.region).slice(5)} of ` : '';
  const label = hit.item.label ? ` "${hit.item.label}"` : '';
  return `Visual match for "${query}": ${where}canvas${label}, similarity ${hit.score.toFixed(3)}`;
}

/** Annotation ids: unique within the result set and never confused with the canvas they target. */
const annotationId = (result: ContentSearchResult, hit: SearchHit) => `${result.searchUrl}#hit-${hit.item.id}`;

/**
 * Content Search 1.0 (§3.3, §3.4): an sc:AnnotationList holding every hit (a simple list, §3.3.1),
 * `within` an sc:Layer with the total (§3.3.2) and the ignored parameters (§3.4.1), and `hits`
 * (search:Hit) pointing at the annotations by id (§3.4), which is what Mirador and Universal Viewer
 * list. The context is an array, Presentation first, because `hits` is Search-specific (§3.4).
 */
export function searchResponseV1(result: ContentSearchResult): Record<string, unknown> {
  const resources = result.hits.map((hit) => {
    const canvas = hit.item.canvasId;
    const annotation: Record<string, unknown> = {
      '@id': annotationId(result, hit),
      '@type': 'oa:Annotation',
      // Open Annotation's motivation for marking a segment out; the canvas is not painted by it.
      motivation: 'oa:highlighting',
      resource: { '@type': 'cnt:ContentAsText', chars: hitText(hit, result.query) },
      on: hit.region ? `${canvas}#${xywh(hit.region)}` : canvas,
    };
    if (hit.item.label) annotation.label = hit.item.label;
    return annotation;
  });
  const within: Record<string, unknown> = { '@type': 'sc:Layer', total: resources.length };
  if (result.ignored.length) within.ignored = result.ignored;
  return {
    '@context': [PRESENTATION2_CONTEXT, SEARCH1_CONTEXT],
    '@id': result.searchUrl,
    '@type': 'sc:AnnotationList',
    within,
    startIndex: 0,
    resources,
    hits: result.hits.map((hit, i) => ({
      '@type': 'search:Hit',
      annotations: [resources[i]!['@id']],
      match: (resources[i]!.resource as { chars: string }).chars,
    })),
  };
}

/**
 * Content Search 2.0 (§4.2): an AnnotationPage of `highlighting` annotations with TextualBody
 * bodies, each targeting the canvas, or a SpecificResource of it with a FragmentSelector `xywh=`
 * when a region matched (the canvas names its manifest in `partOf`, §4.2.3). All hits come in one
 * page, which is `partOf` an embedded AnnotationCollection with `first`, `last` and `total` (§4.2.2);
 * unimplemented parameters are listed in `ignored` (§4.2.4).
 */
export function searchResponseV2(result: ContentSearchResult): Record<string, unknown> {
  const pageId = `${result.searchUrl}&page=1`;
  const items = result.hits.map((hit) => {
    const canvas = hit.item.canvasId;
    const annotation: Record<string, unknown> = {
      id: annotationId(result, hit),
      type: 'Annotation',
      motivation: 'highlighting',
    };
    if (hit.item.label) annotation.label = { none: [hit.item.label] };
    annotation.body = { type: 'TextualBody', value: hitText(hit, result.query), format: 'text/plain' };
    annotation.target = hit.region
      ? {
          type: 'SpecificResource',
          source: { id: canvas, type: 'Canvas', partOf: [{ id: result.manifestId, type: 'Manifest' }] },
          selector: { type: 'FragmentSelector', conformsTo: 'http://www.w3.org/TR/media-frags/', value: xywh(hit.region) },
        }
      : canvas;
    return annotation;
  });
  const page: Record<string, unknown> = {
    '@context': SEARCH2_CONTEXT,
    id: pageId,
    type: 'AnnotationPage',
    partOf: {
      id: result.searchUrl,
      type: 'AnnotationCollection',
      total: items.length,
      first: { id: pageId, type: 'AnnotationPage' },
      last: { id: pageId, type: 'AnnotationPage' },
    },
    startIndex: 0,
  };
  if (result.ignored.length) page.ignored = result.ignored;
  page.items = items;
  return page;
}
