/**
 * Regions that institutions publish as annotations on a canvas: commenting, tagging,
 * supplementing or describing annotations (v2: oa:commenting, oa:tagging, and sc:painting of
 * something that is not the image) whose target is a part of the canvas (`#xywh=`, or a
 * SpecificResource with a FragmentSelector). They come inline (v3 `annotations` with `items`, v2
 * `otherContent` with `resources`) or in referenced pages the harvester fetches. Nothing in the
 * document is trusted: a target that is not a usable box is ignored with a warning, boxes are
 * clamped to the canvas, tiny ones dropped, and a canvas keeps at most `maxPerCanvas` regions
 * (the largest: a page's photographs before its lines of text).
 */
import type { CanvasBox, CanvasRegion } from './types.ts';
import { describeValue } from './errors.ts';
import { normaliseLanguageMap, toPlainText } from './language.ts';
import { asList, bareType, isRecord, typeOf, type JsonObject, type Warnings } from './util.ts';

export interface RegionOptions {
  /** Regions kept per canvas, the largest first. */
  maxPerCanvas: number;
  /** Least width and height of a region, in canvas pixels. */
  minSide: number;
}

export const DEFAULT_REGION_OPTIONS: RegionOptions = { maxPerCanvas: 64, minSide: 32 };

/** Annotations read per page or list, and texts kept per annotation and per region: a hostile document stays small. */
const MAX_ANNOTATIONS_PER_PAGE = 10_000;
const MAX_PAGES_PER_CANVAS = 50;
const MAX_TEXTS = 8;
const MAX_TEXT_CHARS = 1000;
const MAX_IDS = 20;

/** Motivations whose annotations say something about the part of the canvas they target. */
const REGION_MOTIVATIONS = new Set(['commenting', 'tagging', 'supplementing', 'describing']);

/** What one annotation gives: a region of `canvasId`, before the canvas's bounds are applied. */
export interface AnnotatedRegion {
  canvasId: string;
  region: CanvasRegion;
}

/** The annotations a canvas carries itself, and the pages it only references (to fetch). */
export function canvasAnnotations(canvas: JsonObject, version: 2 | 3): { annotations: unknown[]; referenced: string[] } {
  const annotations: unknown[] = [];
  const referenced: string[] = [];
  const pages = asList(version === 3 ? canvas['annotations'] : canvas['otherContent']).slice(0, MAX_PAGES_PER_CANVAS);
  for (const page of pages) {
    const listed = isRecord(page) ? page[version === 3 ? 'items' : 'resources'] : undefined;
    if (Array.isArray(listed)) {
      annotations.push(...listed.slice(0, MAX_ANNOTATIONS_PER_PAGE));
      continue;
    }
    const id = typeof page === 'string' ? page : isRecord(page) ? (page['id'] ?? page['@id']) : undefined;
    if (typeof id === 'string' && URL.canParse(id.trim())) referenced.push(id.trim());
  }
  return { annotations, referenced };
}

/**
 * The annotations of a fetched page: a v3 AnnotationPage (`items`) or a v2 sc:AnnotationList
 * (`resources`); for anything else, what it is instead.
 */
export function pageAnnotations(json: unknown): { annotations: unknown[] } | { problem: string } {
  if (!isRecord(json)) return { problem: `not an annotation page: expected a JSON object, found ${describeValue(json)}` };
  const type = bareType(typeOf(json));
  const listed = type === 'AnnotationList' ? json['resources'] : type === 'AnnotationPage' ? json['items'] : (json['items'] ?? json['resources']);
  if (!Array.isArray(listed)) {
    return { problem: `not an annotation page: ${type ? `type ${JSON.stringify(type)}` : 'no type'} and no items (v3) or resources (v2) list` };
  }
  return { annotations: listed.slice(0, MAX_ANNOTATIONS_PER_PAGE) };
}

/** Canvas sizes, by canvas id, for percent boxes and clamping. */
export type CanvasSizes = ReadonlyMap<string, { width?: number; height?: number }>;

/**
 * The regions these annotations give, each with the canvas it targets (only canvases in `sizes`).
 * Annotations that are not about a region (no box, another motivation, the painted image itself)
 * are passed over silently; a box that cannot be used is a warning.
 */
export function readAnnotatedRegions(annotations: unknown[], sizes: CanvasSizes, what: string, warnings: Warnings): AnnotatedRegion[] {
  const out: AnnotatedRegion[] = [];
  let unusable = 0;
  for (const annotation of annotations) {
    if (!isRecord(annotation)) continue;
    const motivations = motivationsOf(annotation);
    const bodies = asList(annotation['body'] ?? annotation['resource']);
    if (!isAboutRegion(motivations, bodies)) continue;
    const target = regionTarget(annotation['target'] ?? annotation['on'], sizes);
    if (target === undefined) continue;
    if ('problem' in target) {
      if (unusable++ < 3) warnings.add(`${what}: annotation ${describeValue(annotation['id'] ?? annotation['@id'] ?? '(no id)')} ${target.problem}; ignored`);
      continue;
    }
    const id = annotation['id'] ?? annotation['@id'];
    out.push({
      canvasId: target.canvasId,
      region: {
        box: target.box,
        text: textsOf(annotation, bodies),
        motivations: motivations.length ? motivations : ['commenting'],
        annotations: typeof id === 'string' && id.trim() ? [id.trim()] : [],
      },
    });
  }
  if (unusable > 3) warnings.add(`${what}: ${unusable - 3} more annotations with an unusable xywh target ignored`);
  return out;
}

/**
 * One canvas's regions as the index keeps them: boxes clamped to the canvas, those smaller than
 * minSide or covering the whole canvas (that is the canvas itself) dropped, annotations of one box
 * merged, then the largest `maxPerCanvas`, in reading order.
 */
export function boundRegions(
  regions: CanvasRegion[],
  size: { width?: number; height?: number },
  opts: RegionOptions,
  what: string,
  warnings: Warnings,
): CanvasRegion[] {
  const merged = new Map<string, CanvasRegion>();
  let outside = 0;
  let small = 0;
  for (const region of regions) {
    const box = clampToCanvas(region.box, size);
    if (!box) {
      outside++;
      continue;
    }
    if (box.w < opts.minSide || box.h < opts.minSide) {
      small++;
      continue;
    }
    if (size.width && size.height && box.w * box.h >= 0.99 * size.width * size.height) continue;
    const key = `${box.x},${box.y},${box.w},${box.h}`;
    const known = merged.get(key);
    if (!known) merged.set(key, { box, text: [...region.text].slice(0, MAX_TEXTS), motivations: [...region.motivations], annotations: [...region.annotations].slice(0, MAX_IDS) });
    else {
      known.text = [...new Set([...known.text, ...region.text])].slice(0, MAX_TEXTS);
      known.motivations = [...new Set([...known.motivations, ...region.motivations])];
      known.annotations = [...new Set([...known.annotations, ...region.annotations])].slice(0, MAX_IDS);
    }
  }
  if (outside) warnings.add(`${what}: ${outside} annotated region(s) lie outside the canvas; ignored`);
  if (small) warnings.add(`${what}: ${small} annotated region(s) narrower or lower than ${opts.minSide} px ignored (harvest.regions.minSide)`);
  let kept = [...merged.values()];
  if (kept.length > opts.maxPerCanvas) {
    warnings.add(`${what} has ${kept.length} annotated regions; the largest ${opts.maxPerCanvas} are indexed (harvest.regions.maxPerCanvas)`);
    kept = kept.sort((a, b) => b.box.w * b.box.h - a.box.w * a.box.h || a.box.y - b.box.y || a.box.x - b.box.x).slice(0, opts.maxPerCanvas);
  }
  return kept.sort((a, b) => a.box.y - b.box.y || a.box.x - b.box.x || a.box.w - b.box.w || a.box.h - b.box.h);
}

function motivationsOf(annotation: JsonObject): string[] {
  return asList(annotation['motivation'])
    .filter((m): m is string => typeof m === 'string')
    .map((m) => (bareType(m.trim()) ?? '').toLowerCase())
    .filter(Boolean);
}

const isImageBody = (body: unknown): boolean => {
  if (!isRecord(body)) return false;
  const type = bareType(typeOf(body))?.toLowerCase();
  if (type === 'image') return true;
  if (type === 'choice' || type === 'specificresource') return asList(body['items'] ?? body['default'] ?? body['source'] ?? body['full']).some(isImageBody);
  return false;
};

/** Region motivations; painting only of something that is not an image (v2 transcriptions); none given, anything but an image. */
function isAboutRegion(motivations: string[], bodies: unknown[]): boolean {
  if (motivations.some((m) => REGION_MOTIVATIONS.has(m))) return true;
  if (motivations.length === 0 || motivations.includes('painting')) return bodies.length > 0 && !bodies.some(isImageBody);
  return false;
}

/** What the annotation says: TextualBody values, v2 chars, body and annotation labels; plain text, bounded. */
function textsOf(annotation: JsonObject, bodies: unknown[]): string[] {
  const texts: string[] = [];
  const add = (raw: unknown) => {
    if (typeof raw !== 'string' || texts.length >= MAX_TEXTS) return;
    const plain = toPlainText(raw.slice(0, 4 * MAX_TEXT_CHARS)).slice(0, MAX_TEXT_CHARS).trim();
    if (plain && !texts.includes(plain)) texts.push(plain);
  };
  const addLabel = (label: unknown) => {
    if (label === undefined) return;
    for (const values of Object.values(normaliseLanguageMap(label))) values.forEach(add);
  };
  const visit = (body: unknown, depth: number) => {
    if (depth > 3 || !isRecord(body)) return;
    add(body['value']);
    add(body['chars']);
    add(body['@value']);
    addLabel(body['label']);
    for (const inner of asList(body['items'] ?? body['item']).slice(0, MAX_TEXTS)) visit(inner, depth + 1);
    if (body['default'] !== undefined) visit(body['default'], depth + 1);
  };
  for (const body of bodies.slice(0, MAX_TEXTS)) visit(body, 0);
  addLabel(annotation['label']);
  return texts;
}

type Target = { canvasId: string; box: CanvasBox } | { problem: string };

/**
 * The canvas and box an annotation targets, when it targets part of a canvas in `sizes`: a
 * `canvas#xywh=` string, a SpecificResource (v3 `source`, v2 `full`) with a FragmentSelector (or a
 * v2 oa:Choice of selectors, its default first), or a list of those. Undefined for a whole canvas
 * or another resource; a problem for a box that is there but cannot be used.
 */
function regionTarget(target: unknown, sizes: CanvasSizes): Target | undefined {
  let problem: Target | undefined;
  for (const item of asList(target).slice(0, 10)) {
    const found = oneTarget(item, sizes);
    if (found && !('problem' in found)) return found;
    problem ??= found;
  }
  return problem;
}

function oneTarget(item: unknown, sizes: CanvasSizes): Target | undefined {
  let source: unknown;
  let fragment: string | undefined;
  if (typeof item === 'string') {
    const hash = item.indexOf('#');
    source = hash < 0 ? item : item.slice(0, hash);
    fragment = hash < 0 ? undefined : item.slice(hash + 1);
  } else if (isRecord(item)) {
    source = item['source'] ?? item['full'] ?? item['id'] ?? item['@id'];
    if (isRecord(source)) source = source['id'] ?? source['@id'];
    fragment = selectorValue(item['selector'], 0);
    if (fragment === undefined && typeof source === 'string' && source.includes('#')) [source, fragment] = [source.slice(0, source.indexOf('#')), source.slice(source.indexOf('#') + 1)];
  }
  if (typeof source !== 'string') return undefined;
  const canvasId = source.trim();
  const size = sizes.get(canvasId);
  if (!size || fragment === undefined) return undefined;
  const xywh = fragment.split('&').find((part) => part.trim().startsWith('xywh='));
  if (xywh === undefined) return undefined;
  const box = parseXywh(xywh.trim().slice(5), size);
  return typeof box === 'string' ? { problem: `has an unusable target xywh=${describeValue(xywh.trim().slice(5), 40)} (${box})` } : { canvasId, box };
}

/** A FragmentSelector's value; a v2 oa:Choice of selectors gives its default's (the SVG alternatives are not boxes). */
function selectorValue(selector: unknown, depth: number): string | undefined {
  if (depth > 3) return undefined;
  for (const s of asList(selector).slice(0, 5)) {
    if (!isRecord(s)) continue;
    if (typeof s['value'] === 'string' && s['value'].includes('xywh=')) return s['value'].trim();
    const inner = selectorValue(s['default'] ?? s['items'] ?? s['item'], depth + 1);
    if (inner !== undefined) return inner;
  }
  return undefined;
}

/** Media Fragments `xywh`: pixels (`pixel:` optional) or `percent:` of the canvas; a string says why it cannot be used. */
function parseXywh(value: string, size: { width?: number; height?: number }): CanvasBox | string {
  const m = /^(pixel:|percent:)?\s*(-?[\d.]+)\s*,\s*(-?[\d.]+)\s*,\s*(-?[\d.]+)\s*,\s*(-?[\d.]+)\s*$/.exec(value);
  if (!m) return 'expected four numbers';
  let [x, y, w, h] = [m[2], m[3], m[4], m[5]].map(Number) as [number, number, number, number];
  if (![x, y, w, h].every(Number.isFinite)) return 'expected four numbers';
  if (w <= 0 || h <= 0) return 'empty: width and height must be positive';
  if (m[1] === 'percent:') {
    if (!size.width || !size.height) return 'in percent of a canvas whose size is not known';
    [x, y, w, h] = [(x * size.width) / 100, (y * size.height) / 100, (w * size.width) / 100, (h * size.height) / 100];
  }
  return { x: Math.round(x), y: Math.round(y), w: Math.round(w), h: Math.round(h) };
}

/** The box cut to the canvas (when its size is known); undefined when nothing of it is on the canvas. */
function clampToCanvas(box: CanvasBox, size: { width?: number; height?: number }): CanvasBox | undefined {
  const x0 = Math.max(0, box.x);
  const y0 = Math.max(0, box.y);
  const x1 = size.width ? Math.min(size.width, box.x + box.w) : box.x + box.w;
  const y1 = size.height ? Math.min(size.height, box.y + box.h) : box.y + box.h;
  if (x1 - x0 < 1 || y1 - y0 < 1) return undefined;
  return { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
}
