/**
 * Turns a Presentation 2 or 3 manifest into the canvas records the harvester
 * stores. Problems with the manifest as a whole throw IiifParseError; problems
 * with one canvas skip that canvas with a reason; oddities that can be worked
 * around become warnings.
 */
import type { CanvasRecord, Descriptive, ParsedManifest, SkippedCanvas } from './types.ts';
import { describeValue, IiifParseError } from './errors.ts';
import { readDescriptive } from './descriptive.ts';
import { boundRegions, canvasAnnotations, DEFAULT_REGION_OPTIONS, readAnnotatedRegions, type RegionOptions } from './annotations.ts';
import { hasText } from './language.ts';
import { findPaintedImage, type PaintingResult } from './painting.ts';
import { ixifContentTypes, upgradeV2Canvas, v2CanvasList } from './presentation2.ts';
import {
  bareType, isRecord, presentationVersion, readDimension, readId, typeOf, Warnings,
  type IdContext, type JsonObject,
} from './util.ts';

export interface ParseManifestOptions {
  /** Where the document came from: relative ids are resolved against it and errors name it. */
  url?: string;
  /** Canvases beyond this many are ignored, with a warning (default 10000). */
  maxCanvases?: number;
  /** How annotated regions are bounded; false to read none (default: annotations.ts DEFAULT_REGION_OPTIONS). */
  regions?: RegionOptions | false;
}

export const DEFAULT_MAX_CANVASES = 10_000;

export function parseManifest(json: unknown, opts: ParseManifestOptions = {}): ParsedManifest {
  const fail = (message: string): never => {
    throw new IiifParseError(message, opts.url);
  };
  if (!isRecord(json)) return fail(`not a IIIF Presentation document: expected a JSON object, found ${describeValue(json)}`);
  const version = presentationVersion(json);
  const type = bareType(typeOf(json));
  if (version === undefined || type !== 'Manifest') {
    return fail(`not a IIIF Manifest: ${type === undefined ? 'missing @type/type' : `type is ${JSON.stringify(typeOf(json))}`}`);
  }
  const warnings = new Warnings();
  const ctx: IdContext = { baseUrl: opts.url, warnings };
  const id = readId(json, 'the manifest', ctx);
  if (!id.ok) return fail(`not a usable IIIF Manifest: ${id.problem}`);

  const manifest = readDescriptive(json, 'the manifest', ctx);
  if (!hasText(manifest.label)) warnings.add('the manifest has no label');
  const canvases = canvasList(json, version, fail, warnings, opts.maxCanvases ?? DEFAULT_MAX_CANVASES);

  // IxIF: the content is audio, video or a PDF in mediaSequences; `sequences` only hold a placeholder.
  const placeholderFor = version === 2 ? ixifContentTypes(json) : [];
  const regions = opts.regions === undefined ? DEFAULT_REGION_OPTIONS : opts.regions;
  const reader = new CanvasReader(id.id, version, manifest, ctx, placeholderFor, regions);
  canvases.forEach((canvas, index) => reader.read(canvas, index));
  reader.finish();
  if (placeholderFor.length) {
    warnings.add(`not an image manifest: its content is ${placeholderFor.join(', ')} (IxIF mediaSequences); the image of its sequence is a placeholder and is not indexed`);
  } else if (reader.records.length === 0 && reader.paintedInstead.size > 0) {
    warnings.add(`not an image manifest: its canvases paint ${[...reader.paintedInstead].join(', ')}; nothing of it is indexed`);
  }
  return {
    kind: 'manifest',
    id: id.id,
    version,
    label: manifest.label,
    canvases: reader.records,
    skipped: reader.skipped,
    ...(reader.annotationPages.size ? { annotationPages: [...reader.annotationPages].map(([url, canvases]) => ({ url, canvases })) } : {}),
    warnings: warnings.done(),
  };
}

function canvasList(
  json: JsonObject,
  version: 2 | 3,
  fail: (message: string) => never,
  warnings: Warnings,
  maxCanvases: number,
): unknown[] {
  const list = version === 2 ? v2CanvasList(json, fail, warnings) : v3CanvasList(json, fail, warnings);
  if (list.length === 0) warnings.add('the manifest has no canvases');
  if (list.length > maxCanvases) {
    warnings.add(`the manifest has ${list.length} canvases; only the first ${maxCanvases} are read (maxCanvases)`);
    return list.slice(0, maxCanvases);
  }
  return list;
}

function v3CanvasList(json: JsonObject, fail: (message: string) => never, warnings: Warnings): unknown[] {
  const items = json['items'];
  if (items === undefined || items === null) {
    const hint = 'sequences' in json ? " (it has a v2-style 'sequences' under a Presentation 3 context: a pre-3.0 draft?)" : '';
    return fail(`the manifest has no items${hint}`);
  }
  if (Array.isArray(items)) return items;
  if (isRecord(items) && bareType(typeOf(items)) === 'Canvas') {
    warnings.add("the manifest's items is a single canvas, not a list; read as a list of one");
    return [items];
  }
  return fail(`the manifest's items is not a list of canvases (found ${describeValue(items)})`);
}

/** Reads canvases one by one, remembering ids to drop duplicates. */
class CanvasReader {
  readonly records: CanvasRecord[] = [];
  readonly skipped: SkippedCanvas[] = [];
  /** What canvases paint instead of an image (Sound, Video, …). */
  readonly paintedInstead = new Set<string>();
  private readonly seen = new Map<string, number>();
  /** Annotation pages canvases reference (to fetch for their regions) → those canvases. */
  readonly annotationPages = new Map<string, string[]>();
  /** Quirks counted over the canvases, for one warning each instead of one per canvas. */
  private typedSequence = 0;
  private draftContent = 0;

  constructor(
    private readonly manifestId: string,
    private readonly version: 2 | 3,
    private readonly manifest: Descriptive,
    private readonly ctx: IdContext,
    /** Non-empty for an IxIF manifest: its canvases are placeholders for this content. */
    private readonly placeholderFor: string[] = [],
    private readonly regionOptions: RegionOptions | false = false,
  ) {}

  /** Once every canvas is read: the warnings about quirks shared by many canvases. */
  finish(): void {
    const canvases = (n: number) => (n === 1 ? '1 canvas is' : `${n} canvases are`);
    if (this.typedSequence) this.ctx.warnings.add(`${canvases(this.typedSequence)} typed sc:Sequence but carry images; read as canvases, as viewers do`);
    if (this.draftContent) {
      const n = this.draftContent;
      this.ctx.warnings.add(`${n === 1 ? '1 canvas lists its' : `${n} canvases list their`} annotation pages under content (a pre-3.0 draft of Presentation 3); read as items`);
    }
  }

  read(raw: unknown, index: number): void {
    const what = `canvas ${index}`;
    const skip = (canvasId: string, reason: string): void => {
      this.skipped.push({ canvasId, index, reason });
    };
    if (!isRecord(raw)) {
      return skip(typeof raw === 'string' ? raw.trim() : '', `${what} is not an embedded canvas object (found ${describeValue(raw)})`);
    }
    const type = bareType(typeOf(raw));
    if (type !== undefined && type !== 'Canvas') {
      // Some v2 exports type every canvas sc:Sequence; with images on it, it is a canvas to every viewer.
      if (this.version !== 2 || type !== 'Sequence' || raw['images'] === undefined) return skip('', `${what} has type ${JSON.stringify(type)}, not Canvas`);
      this.typedSequence++;
    }
    const id = readId(raw, what, this.ctx);
    if (!id.ok) return skip('', id.problem);
    const first = this.seen.get(id.id);
    if (first !== undefined) {
      this.ctx.warnings.add(`${what} repeats the id of canvas ${first} (${id.id}); only the first is kept`);
      return skip(id.id, `${what} repeats the id of canvas ${first}`);
    }
    this.seen.set(id.id, index);
    if (this.placeholderFor.length) {
      return skip(id.id, `${what} is a placeholder for the ${this.placeholderFor.join(', ')} in mediaSequences, not an image of the object`);
    }

    const width = readDimension(raw['width'], what, 'width', this.ctx.warnings);
    const height = readDimension(raw['height'], what, 'height', this.ctx.warnings);
    const painted = this.findImage(raw, id.id, what, { width, height });
    if (!painted.ok) {
      painted.otherTypes?.forEach((t) => this.paintedInstead.add(t));
      return skip(id.id, `${what} ${painted.reason}`);
    }

    const record = this.record(raw, id.id, index, what);
    if (width !== undefined && height !== undefined) {
      record.width = width;
      record.height = height;
    }
    record.image = painted.image;
    record.alternatives = painted.alternatives;
    if (this.regionOptions) this.readRegions(raw, record, what, this.regionOptions);
    this.records.push(record);
  }

  /**
   * The canvas's inline annotated regions; the pages it only references are noted, to fetch. A canvas
   * that references pages is held to maxPerCanvas once their regions are in (annotation-pages.ts).
   */
  private readRegions(raw: JsonObject, record: CanvasRecord, what: string, opts: RegionOptions): void {
    const { annotations, referenced } = canvasAnnotations(raw, this.version);
    const size = { width: record.width, height: record.height };
    const found = readAnnotatedRegions(annotations, new Map([[record.canvasId, size]]), what, this.ctx.warnings).map((a) => a.region);
    const bound = referenced.length ? { ...opts, maxPerCanvas: Number.POSITIVE_INFINITY } : opts;
    const regions = found.length ? boundRegions(found, size, bound, what, this.ctx.warnings) : [];
    if (regions.length) record.regions = regions;
    for (const url of referenced) {
      const canvases = this.annotationPages.get(url) ?? [];
      if (!canvases.includes(record.canvasId)) canvases.push(record.canvasId);
      this.annotationPages.set(url, canvases);
    }
  }

  private findImage(raw: JsonObject, canvasId: string, what: string, size: { width?: number; height?: number }): PaintingResult {
    if (this.version === 3) {
      // Pre-3.0 drafts (Universal Viewer's AV, 3D and PDF examples) list the annotation pages under `content`.
      if (raw['items'] === undefined && Array.isArray(raw['content'])) {
        this.draftContent++;
        return findPaintedImage({ ...raw, items: raw['content'] }, what, size, this.ctx);
      }
      return findPaintedImage(raw, what, size, this.ctx);
    }
    const upgraded = upgradeV2Canvas(raw, canvasId, this.manifestId, what, this.ctx);
    if (!upgraded.ok) return upgraded;
    return findPaintedImage(upgraded.canvas, what, size, this.ctx, upgraded.notes);
  }

  /** The canvas's own descriptive properties, falling back to the manifest's. */
  private record(raw: JsonObject, canvasId: string, index: number, what: string): CanvasRecord {
    const canvas = readDescriptive(raw, what, this.ctx);
    const m = this.manifest;
    const record: CanvasRecord = {
      canvasId,
      index,
      label: canvas.label,
      manifestId: this.manifestId,
      manifestLabel: m.label,
      metadata: [...m.metadata, ...canvas.metadata],
      image: { url: '' },
      alternatives: [],
    };
    const optional = {
      summary: canvas.summary ?? m.summary,
      rights: canvas.rights ?? m.rights,
      requiredStatement: canvas.requiredStatement ?? m.requiredStatement,
      navDate: canvas.navDate ?? m.navDate,
      homepage: canvas.homepage ?? m.homepage,
      thumbnail: canvas.thumbnail ?? m.thumbnail,
    };
    for (const [key, value] of Object.entries(optional)) {
      if (value !== undefined) Object.assign(record, { [key]: value });
    }
    return record;
  }
}
