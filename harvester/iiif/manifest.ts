/**
 * Turns a Presentation 2 or 3 manifest into the canvas records the harvester
 * stores. Problems with the manifest as a whole throw IiifParseError; problems
 * with one canvas skip that canvas with a reason; oddities that can be worked
 * around become warnings.
 */
import type { CanvasRecord, Descriptive, ParsedManifest, SkippedCanvas } from './types.ts';
import { describeValue, IiifParseError } from './errors.ts';
import { readDescriptive } from './descriptive.ts';
import { hasText } from './language.ts';
import { findPaintedImage } from './painting.ts';
import { upgradeV2Canvas, v2CanvasList } from './presentation2.ts';
import {
  bareType, isRecord, presentationVersion, readDimension, readId, typeOf, Warnings,
  type IdContext, type JsonObject,
} from './util.ts';

export interface ParseManifestOptions {
  /** Where the document came from: relative ids are resolved against it and errors name it. */
  url?: string;
  /** Canvases beyond this many are ignored, with a warning (default 10000). */
  maxCanvases?: number;
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

  const reader = new CanvasReader(id.id, version, manifest, ctx);
  canvases.forEach((canvas, index) => reader.read(canvas, index));
  return {
    kind: 'manifest',
    id: id.id,
    version,
    label: manifest.label,
    canvases: reader.records,
    skipped: reader.skipped,
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
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly manifestId: string,
    private readonly version: 2 | 3,
    private readonly manifest: Descriptive,
    private readonly ctx: IdContext,
  ) {}

  read(raw: unknown, index: number): void {
    const what = `canvas ${index}`;
    const skip = (canvasId: string, reason: string): void => {
      this.skipped.push({ canvasId, index, reason });
    };
    if (!isRecord(raw)) {
      return skip(typeof raw === 'string' ? raw.trim() : '', `${what} is not an embedded canvas object (found ${describeValue(raw)})`);
    }
    const type = bareType(typeOf(raw));
    if (type !== undefined && type !== 'Canvas') return skip('', `${what} has type ${JSON.stringify(type)}, not Canvas`);
    const id = readId(raw, what, this.ctx);
    if (!id.ok) return skip('', id.problem);
    const first = this.seen.get(id.id);
    if (first !== undefined) {
      this.ctx.warnings.add(`${what} repeats the id of canvas ${first} (${id.id}); only the first is kept`);
      return skip(id.id, `${what} repeats the id of canvas ${first}`);
    }
    this.seen.set(id.id, index);

    const width = readDimension(raw['width'], what, 'width', this.ctx.warnings);
    const height = readDimension(raw['height'], what, 'height', this.ctx.warnings);
    const painted = this.findImage(raw, id.id, what, { width, height });
    if (!painted.ok) return skip(id.id, `${what} ${painted.reason}`);

    const record = this.record(raw, id.id, index, what);
    if (width !== undefined && height !== undefined) {
      record.width = width;
      record.height = height;
    }
    record.image = painted.image;
    record.alternatives = painted.alternatives;
    this.records.push(record);
  }

  private findImage(raw: JsonObject, canvasId: string, what: string, size: { width?: number; height?: number }) {
    if (this.version === 3) return findPaintedImage(raw, what, size, this.ctx);
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
