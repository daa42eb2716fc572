/**
 * Finds the image painted on a (Presentation 3 shaped) canvas: the canvas's
 * annotation pages → painting annotations → body, where the body may be an
 * Image, a Choice of images, a SpecificResource pointing at an image, or a
 * list of those. A canvas painted with several images (a page plus a detail)
 * yields the one that covers the whole canvas.
 */
import type { ImageResource } from './types.ts';
import { describeValue } from './errors.ts';
import { parseImageService } from './image-service.ts';
import { hasText, normaliseLanguageMap } from './language.ts';
import {
  asList, bareType, isRecord, MISSING_ID, readDimension, readId, typeOf,
  type IdContext, type JsonObject,
} from './util.ts';

const MAX_PAGES = 20;
const MAX_ANNOTATIONS = 200;
const MAX_BODIES = 20;

export type PaintingResult =
  | { ok: true; image: ImageResource; alternatives: ImageResource[] }
  /** `otherTypes`: what the canvas paints instead of an image (Sound, Video…), when that is why. */
  | { ok: false; reason: string; otherTypes?: string[] };

interface Painting {
  image: ImageResource;
  alternatives: ImageResource[];
}

/** What reading the bodies of one annotation gave. */
interface BodyFindings {
  images: ImageResource[];
  /** Types of bodies that are not images (Sound, Video, Text…). */
  otherTypes: string[];
  problems: string[];
}

/**
 * `notes` are earlier explanations (e.g. from the v2 upgrade) to include in the
 * reason when no image is found.
 */
export function findPaintedImage(
  canvas: JsonObject,
  what: string,
  size: { width?: number; height?: number },
  ctx: IdContext,
  notes: string[] = [],
): PaintingResult {
  const problems = [...notes];
  const otherTypes = new Set<string>();
  const paintings: Painting[] = [];
  for (const [i, annotation] of paintingAnnotations(canvas, what, problems, ctx).entries()) {
    const found = readBodies(annotation['body'], `${what} annotation ${i}`, ctx);
    found.otherTypes.forEach((t) => otherTypes.add(t));
    problems.push(...found.problems);
    const [image, ...alternatives] = found.images;
    if (!image) continue;
    const target = parseTarget(annotation['target']);
    if (target) image.target = target;
    paintings.push({ image, alternatives });
  }
  const chosen = paintings.find((p) => coversCanvas(p.image.target, size)) ?? paintings[0];
  if (chosen) return { ok: true, ...chosen };
  return { ok: false, reason: noImageReason(otherTypes, problems), ...(otherTypes.size ? { otherTypes: [...otherTypes] } : {}) };
}

function noImageReason(otherTypes: Set<string>, problems: string[]): string {
  if (otherTypes.size > 0) return `paints ${[...otherTypes].join(', ')}, not an image`;
  if (problems.length > 0) return `has no usable image: ${problems.slice(0, 3).join('; ')}`;
  return 'has no painting annotation';
}

/** The painting annotations, in order; a missing motivation is taken as painting. */
function paintingAnnotations(canvas: JsonObject, what: string, problems: string[], ctx: IdContext): JsonObject[] {
  const out: JsonObject[] = [];
  let assumedPainting = false;
  for (const [p, page] of asList(canvas['items']).slice(0, MAX_PAGES).entries()) {
    if (!isRecord(page)) {
      problems.push(`annotation page ${p} is not an object (found ${describeValue(page)})`);
      continue;
    }
    if (page['items'] === undefined) {
      problems.push(`annotation page ${p} is only referenced, not embedded`);
      continue;
    }
    for (const annotation of asList(page['items'])) {
      if (out.length >= MAX_ANNOTATIONS) break;
      if (!isRecord(annotation)) {
        problems.push(`an annotation is not an object (found ${describeValue(annotation)})`);
        continue;
      }
      const motivations = asList(annotation['motivation']).filter((m): m is string => typeof m === 'string');
      if (motivations.length === 0) assumedPainting = true;
      // "sc:Painting" (capitalised) is seen in the wild.
      else if (!motivations.some((m) => bareType(m.trim())?.toLowerCase() === 'painting')) {
        problems.push(`annotation has motivation ${JSON.stringify(motivations.join(', '))}, not painting`);
        continue;
      }
      out.push(annotation);
    }
  }
  if (assumedPainting) ctx.warnings.add(`${what} has annotations without a motivation; treated as painting`);
  return out;
}

function readBodies(body: unknown, what: string, ctx: IdContext): BodyFindings {
  const findings: BodyFindings = { images: [], otherTypes: [], problems: [] };
  if (body === undefined || body === null) {
    findings.problems.push(`${what} has no body/resource`);
    return findings;
  }
  for (const item of asList(body).slice(0, MAX_BODIES)) readBody(item, what, ctx, findings, 0);
  return findings;
}

function readBody(body: unknown, what: string, ctx: IdContext, findings: BodyFindings, depth: number): void {
  if (depth > 3) return;
  if (typeof body === 'string') body = { id: body };
  if (!isRecord(body)) {
    findings.problems.push(`${what} has a body that is not an object (found ${describeValue(body)})`);
    return;
  }
  const type = bareType(typeOf(body));
  if (type === 'Choice') {
    // The first item of a Choice is its default; the others become alternatives.
    for (const option of asList(body['items']).slice(0, MAX_BODIES)) readBody(option, what, ctx, findings, depth + 1);
    return;
  }
  if (type === 'SpecificResource') {
    // The harvester fetches the whole source; the selector matters only for display.
    readBody(body['source'], what, ctx, findings, depth + 1);
    return;
  }
  const image = readImage(body, type, what, ctx, findings);
  if (image) findings.images.push(image);
}

const IMAGE_EXTENSION = /\.(jpe?g|png|gif|tiff?|jp2|webp|avif|bmp)(?:[?#]|$)/i;

function readImage(
  node: JsonObject,
  type: string | undefined,
  what: string,
  ctx: IdContext,
  findings: BodyFindings,
): ImageResource | undefined {
  const format = typeof node['format'] === 'string' ? node['format'].trim() : undefined;
  const service = parseImageService(node['service'], ctx.baseUrl);
  const rawId = node['id'] ?? node['@id'];
  const known = type !== undefined && type !== 'unknown';
  if (known && type.toLowerCase() !== 'image') {
    findings.otherTypes.push(type);
    return undefined;
  }
  if (!known) {
    const looksLikeImage = format?.startsWith('image/') || service !== undefined
      || (typeof rawId === 'string' && IMAGE_EXTENSION.test(rawId));
    if (!looksLikeImage) {
      findings.problems.push(`${what} has a body without a type that does not look like an image`);
      return undefined;
    }
    ctx.warnings.add(`${what} has a body without a type; treated as an image`);
  }
  const url = imageUrl(node, service, what, ctx, findings);
  if (url === undefined) return undefined;
  const image: ImageResource = { url };
  if (format) image.format = format;
  const width = readDimension(node['width'], `${what} image`, 'width', ctx.warnings);
  const height = readDimension(node['height'], `${what} image`, 'height', ctx.warnings);
  if (width !== undefined && height !== undefined) {
    image.width = width;
    image.height = height;
  }
  if (service) image.service = service;
  const label = normaliseLanguageMap(node['label']);
  if (hasText(label)) image.label = label;
  return image;
}

/** The image's own URL; without one, an Image API service still gives us a full-image URL. */
function imageUrl(
  node: JsonObject,
  service: ImageResource['service'],
  what: string,
  ctx: IdContext,
  findings: BodyFindings,
): string | undefined {
  const id = readId(node, `${what} image`, ctx);
  if (id.ok && id.id !== MISSING_ID) return id.id;
  if (service) {
    const size = service.version === 3 ? 'max' : 'full';
    const quality = service.version === 1 ? 'native' : 'default';
    ctx.warnings.add(`${what} image has no usable id; using its Image API service ${service.id}`);
    return `${service.id}/full/${size}/0/${quality}.jpg`;
  }
  findings.problems.push(id.ok ? `${what} image has no @id/id` : id.problem);
  return undefined;
}

type Region = NonNullable<ImageResource['target']>;

const XYWH = /(?:^|[#&])xywh=(?:pixel:)?(\d+),(\d+),(\d+),(\d+)(?:&|$)/;

/** A `#xywh=` fragment on a target URI, or a FragmentSelector on a SpecificResource target. */
export function parseTarget(target: unknown): Region | undefined {
  for (const item of asList(target).slice(0, 5)) {
    let value: string | undefined;
    if (typeof item === 'string') value = item.split('#')[1];
    else if (isRecord(item)) {
      const selector = asList(item['selector']).find(isRecord);
      value = typeof selector?.['value'] === 'string' ? selector['value'] : undefined;
      const source = typeof item['source'] === 'string' ? item['source'] : typeof item['id'] === 'string' ? item['id'] : undefined;
      value ??= source?.split('#')[1];
    }
    const m = value?.match(XYWH);
    if (m) return { x: Number(m[1]), y: Number(m[2]), w: Number(m[3]), h: Number(m[4]) };
  }
  return undefined;
}

function coversCanvas(target: Region | undefined, size: { width?: number; height?: number }): boolean {
  if (!target) return true;
  return target.x === 0 && target.y === 0 && target.w === size.width && target.h === size.height;
}
