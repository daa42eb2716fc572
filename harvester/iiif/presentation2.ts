/**
 * Presentation 2 specifics. The canvases of a v2 manifest are converted to v3
 * with @iiif/parser's `upgrade`, one canvas at a time, so that one broken
 * canvas costs that canvas and not the manifest. Before upgrading, each canvas
 * is reduced to what the harvester needs and tidied: the upgrader mutates its
 * input, throws on annotations without `on` or `resource`, invents ids
 * ("http://example.org/…") for resources without one, runs body ids through
 * encodeURI (so "a%2Fb" becomes "a%252Fb", a different URL), drops the `full`
 * source of a SpecificResource and the profile objects (maxWidth, maxArea,
 * formats) of image services. Resource ids therefore travel through the
 * upgrade as opaque tokens and are put back afterwards.
 */
import { upgrade } from '@iiif/parser/upgrader';
import { describeValue } from './errors.ts';
import { imageServiceToJson, parseImageService } from './image-service.ts';
import {
  asList, bareType, isRecord, MISSING_ID, typeOf,
  type IdContext, type JsonObject, type Warnings,
} from './util.ts';

const P2_CONTEXT = 'http://iiif.io/api/presentation/2/context.json';
const MAX_ANNOTATIONS_PER_CANVAS = 100;
const MAX_CHOICE_ITEMS = 20;

type Fail = (message: string) => never;

/**
 * The canvases of the manifest's first sequence (the default order; other
 * sequences only reorder the same canvases). Structural nonsense is fatal;
 * absent or empty lists give no canvases, with a warning from the caller.
 */
export function v2CanvasList(manifest: JsonObject, fail: Fail, warnings: Warnings): unknown[] {
  const sequences = manifest['sequences'];
  if (sequences === undefined || sequences === null) {
    fail('the manifest has no sequences (a Presentation 2 manifest lists its canvases in sequences[0].canvases)');
  }
  let list: unknown[];
  if (Array.isArray(sequences)) list = sequences;
  else if (isRecord(sequences) && (bareType(typeOf(sequences)) === 'Sequence' || 'canvases' in sequences)) {
    warnings.add("the manifest's sequences is a single object, not a list; read as a list of one");
    list = [sequences];
  } else {
    return fail(`the manifest's sequences is not a list of sequences (found ${describeValue(sequences)})`);
  }
  if (list.length === 0) return [];
  const first = list[0];
  if (!isRecord(first)) return fail(`sequence 0 is not an object (found ${describeValue(first)})`);
  const type = bareType(typeOf(first));
  if (type !== undefined && type !== 'Sequence') return fail(`sequence 0 has type ${JSON.stringify(type)}, not sc:Sequence`);
  const canvases = first['canvases'];
  if (canvases === undefined || canvases === null) return [];
  if (Array.isArray(canvases)) return canvases;
  if (isRecord(canvases)) {
    warnings.add('sequence 0 canvases is a single object, not a list; read as a list of one');
    return [canvases];
  }
  return fail(`sequence 0 canvases is not a list (found ${describeValue(canvases)})`);
}

/**
 * What an IxIF manifest (the extension Universal Viewer and Wellcome used for audio, video, PDF
 * and 3D before Presentation 3) carries in `mediaSequences` that is not an image: e.g. ["Sound"].
 * Viewers that read mediaSequences ignore `sequences`, which then only hold a placeholder image
 * for viewers that do not. Empty when there are none, or only images.
 */
export function ixifContentTypes(manifest: JsonObject): string[] {
  const types = new Set<string>();
  for (const sequence of asList(manifest['mediaSequences']).slice(0, MAX_CHOICE_ITEMS)) {
    if (!isRecord(sequence)) continue;
    for (const element of asList(sequence['elements']).slice(0, MAX_ANNOTATIONS_PER_CANVAS)) {
      if (!isRecord(element)) continue;
      const format = typeof element['format'] === 'string' ? element['format'].trim() : '';
      const type = bareType(typeOf(element)) ?? (format || 'unknown content');
      if (type.toLowerCase() === 'image' || format.startsWith('image/')) continue;
      types.add(type);
    }
  }
  return [...types];
}

export type UpgradeResult =
  | { ok: true; canvas: JsonObject; notes: string[] }
  | { ok: false; reason: string };

/**
 * Converts one v2 canvas (already known to be an object with a usable id) to
 * a v3 canvas. `notes` explain annotations that were dropped on the way, so a
 * canvas that ends up without an image can say why.
 */
export function upgradeV2Canvas(
  canvas: JsonObject,
  canvasId: string,
  manifestId: string,
  what: string,
  ctx: IdContext,
): UpgradeResult {
  const notes: string[] = [];
  const ids: string[] = [];
  const images = imageList(canvas['images'], what, ctx.warnings);
  if (typeof images === 'string') return { ok: false, reason: images };
  const annotations: JsonObject[] = [];
  images.slice(0, MAX_ANNOTATIONS_PER_CANVAS).forEach((annotation, i) => {
    const tidy = tidyAnnotation(annotation, i, canvasId, what, { ...ctx, ids });
    if (typeof tidy === 'string') notes.push(tidy);
    else annotations.push(tidy);
  });
  const wrapper = {
    '@context': P2_CONTEXT,
    '@id': manifestId,
    '@type': 'sc:Manifest',
    sequences: [{
      '@type': 'sc:Sequence',
      canvases: [{ '@id': canvasId, '@type': 'sc:Canvas', width: canvas['width'], height: canvas['height'], images: annotations }],
    }],
  };
  try {
    const upgraded: unknown = upgrade(wrapper);
    const items = isRecord(upgraded) ? upgraded['items'] : undefined;
    const v3 = Array.isArray(items) ? items[0] : undefined;
    if (!isRecord(v3)) return { ok: false, reason: 'could not be converted from Presentation 2' };
    restoreIds(v3, ids, 0);
    return { ok: true, canvas: v3, notes };
  } catch (error) {
    return { ok: false, reason: `could not be converted from Presentation 2: ${(error as Error).message}` };
  }
}

/** `images` as a list; a string return is the reason the canvas cannot be used. */
function imageList(images: unknown, what: string, warnings: Warnings): unknown[] | string {
  if (images === undefined || images === null) return [];
  if (Array.isArray(images)) return images;
  if (isRecord(images)) {
    warnings.add(`${what} images is a single annotation, not a list; read as a list of one`);
    return [images];
  }
  return `has an images property that is not a list (found ${describeValue(images)})`;
}

/** The id context plus the original ids of the resources tidied so far (indexed by token). */
interface TidyContext extends IdContext {
  ids: string[];
}

const TOKEN_PREFIX = 'urn:reprise:resource:';

/** Puts the original resource ids back in place of their tokens. */
function restoreIds(node: unknown, ids: string[], depth: number): void {
  if (depth > 12) return;
  if (Array.isArray(node)) {
    for (const item of node) restoreIds(item, ids, depth + 1);
  } else if (isRecord(node)) {
    const id = node['id'];
    if (typeof id === 'string' && id.startsWith(TOKEN_PREFIX)) {
      node['id'] = ids[Number(id.slice(TOKEN_PREFIX.length))] ?? MISSING_ID;
    }
    for (const value of Object.values(node)) {
      if (typeof value === 'object' && value !== null) restoreIds(value, ids, depth + 1);
    }
  }
}

/** A copy of one painting annotation with only what the upgrade needs; a string says why it was dropped. */
function tidyAnnotation(annotation: unknown, i: number, canvasId: string, what: string, ctx: TidyContext): JsonObject | string {
  if (!isRecord(annotation)) return `annotation ${i} is not an object (found ${describeValue(annotation)})`;
  // The upgrade throws on an annotation without a resource; it paints nothing anyway.
  const resource = tidyResourceList(annotation['resource'], ctx);
  if (resource === undefined) return `annotation ${i} has no usable resource (found ${describeValue(annotation['resource'])})`;
  const tidy: JsonObject = { '@type': 'oa:Annotation', on: targetOf(annotation['on'], canvasId, `${what} annotation ${i}`, ctx.warnings) };
  if (typeof annotation['@id'] === 'string') tidy['@id'] = annotation['@id'].trim();
  const motivation = annotation['motivation'];
  if (typeof motivation === 'string' || Array.isArray(motivation)) tidy['motivation'] = motivation;
  tidy['resource'] = resource;
  return tidy;
}

/**
 * The annotation target as a string the upgrade can handle: a canvas URI,
 * possibly with #xywh=. A missing or unreadable `on` is taken to mean the
 * canvas the annotation is listed on.
 */
function targetOf(on: unknown, canvasId: string, what: string, warnings: Warnings): string {
  if (typeof on === 'string' && on.trim()) return on.trim();
  if (isRecord(on)) {
    const source = on['full'] ?? on['source'];
    const sourceId = typeof source === 'string' ? source : isRecord(source) ? source['@id'] ?? source['id'] : on['@id'] ?? on['id'];
    if (typeof sourceId === 'string' && sourceId.trim()) {
      const selector = asList(on['selector']).find(isRecord);
      const value = selector?.['value'];
      return typeof value === 'string' && value.startsWith('xywh=') ? `${sourceId.trim()}#${value}` : sourceId.trim();
    }
  }
  warnings.add(`${what} has ${on === undefined ? 'no target (on)' : `an unusable target (on: ${describeValue(on)})`}; assumed to paint the whole canvas`);
  return canvasId;
}

function tidyResourceList(resource: unknown, ctx: TidyContext): unknown {
  if (Array.isArray(resource)) {
    const list = resource.map((r) => tidyResource(r, ctx, 0)).filter((r) => r !== undefined);
    return list.length ? list : undefined;
  }
  return tidyResource(resource, ctx, 0);
}

/** One content resource (Image, Choice or SpecificResource), tidied for the upgrade. */
function tidyResource(resource: unknown, ctx: TidyContext, depth: number): JsonObject | undefined {
  if (typeof resource === 'string' && resource.trim()) resource = { '@id': resource };
  if (!isRecord(resource) || depth > 3) return undefined;
  const type = bareType(typeOf(resource));
  if (type === 'SpecificResource' && resource['full'] !== undefined) {
    // We harvest the whole source image; the selector (region, rotation) only matters for display.
    return tidyResource(resource['full'], ctx, depth + 1);
  }
  if (type === 'Choice') {
    const options = [resource['default'], ...asList(resource['item'])]
      .filter((r) => r !== 'rdf:nil')
      .slice(0, MAX_CHOICE_ITEMS)
      .map((r) => tidyResource(r, ctx, depth + 1))
      .filter((r): r is JsonObject => r !== undefined);
    const [first, ...rest] = options;
    return first ? { '@type': 'oa:Choice', default: first, item: rest } : undefined;
  }
  const rawId = resource['@id'];
  const id = typeof rawId === 'string' && rawId.trim() ? rawId.trim() : MISSING_ID;
  if (typeof rawId === 'string' && id !== rawId && id !== MISSING_ID) {
    ctx.warnings.add(`image id ${JSON.stringify(rawId)} has stray whitespace; trimmed`);
  }
  ctx.ids.push(id);
  const tidy: JsonObject = { '@id': `${TOKEN_PREFIX}${ctx.ids.length - 1}` };
  for (const key of ['@type', 'format', 'width', 'height', 'label'] as const) {
    if (resource[key] !== undefined && resource[key] !== null) tidy[key] = resource[key];
  }
  const service = parseImageService(resource['service'], ctx.baseUrl);
  if (service) tidy['service'] = [imageServiceToJson(service)];
  return tidy;
}
