/**
 * Embeddings as IIIF/W3C Web Annotations, after the IIIF community's embeddings extension proposal
 * (nulib-labs/iiif-embeddings-extension): motivation `embedding`, a body of type `EmbeddingVector`
 * whose `model` names the model (`name`, `version`, `dimensions`, `dataType`, `endianness`), the
 * vector inline as base64 float32 little-endian (or a JSON array), and a target that is the Canvas
 * (whole image) or a SpecificResource on it with an `xywh=` FragmentSelector (a region).
 *
 * Reprise's model id (`repo@revision[@variant]`, models/model-config.ts) travels as name = what is
 * before the first `@`, version = the rest, so that a reader gets back the exact id and can tell
 * whether vectors are comparable with its own.
 */
import type { Box } from '../types.ts';
import { RepriseError } from '../../common/index.ts';

export const EMBEDDINGS_CONTEXT = 'http://iiif.io/api/extension/embeddings/1/context.json';
export const PRESENTATION_CONTEXT = 'http://iiif.io/api/presentation/3/context.json';
export const EMBEDDING_MOTIVATION = 'embedding';
const MEDIA_FRAGMENTS = 'http://www.w3.org/TR/media-frags/';
/** What `version` says of a model whose id carries no revision. */
export const NO_VERSION = 'unspecified';
/** Longest vector read from an annotation: beyond any image model, and a bound on what one annotation can allocate. */
export const MAX_DIMENSIONS = 8192;

export class EmbeddingAnnotationError extends RepriseError {
  override name = 'EmbeddingAnnotationError';
}

/** The `model` object of an EmbeddingVector body. */
export interface EmbeddingModel {
  name: string;
  version: string;
  dimensions: number;
  dataType: 'float32';
  endianness: 'little';
  type: 'image';
  normalization: true;
  provider?: string;
}

export function modelDescription(modelId: string, dimensions: number): EmbeddingModel {
  const at = modelId.indexOf('@');
  const name = at < 0 ? modelId : modelId.slice(0, at);
  const version = at < 0 ? NO_VERSION : modelId.slice(at + 1);
  // Reprise stores L2-normalised image embeddings (store/types.ts).
  return { name, version, dimensions, dataType: 'float32', endianness: 'little', type: 'image', normalization: true };
}

/** Reprise's model id from a `model` object: the inverse of modelDescription. */
export function modelIdOf(model: { name: string; version?: string }): string {
  return !model.version || model.version === NO_VERSION ? model.name : `${model.name}@${model.version}`;
}

/** A float32 vector as base64 of its little-endian bytes. */
export function encodeVector(vector: Float32Array): string {
  const bytes = Buffer.alloc(vector.length * 4);
  for (let i = 0; i < vector.length; i++) bytes.writeFloatLE(vector[i]!, i * 4);
  return bytes.toString('base64');
}

/** The canvas an embedding belongs to, as the target names it. */
export interface CanvasRef {
  id: string;
  width?: number;
  height?: number;
  /** Where the manifest holding the canvas can be fetched. */
  manifest?: string;
}

export interface AnnotationInput {
  id: string;
  canvas: CanvasRef;
  /** The region of the canvas the vector describes; the whole image when absent. */
  box?: Box;
  vector: Float32Array;
  model: EmbeddingModel;
}

/** A region as a Media Fragment, `xywh=x,y,w,h` in canvas pixels. */
export function xywhValue(box: Box): string {
  return `xywh=${box.x},${box.y},${box.w},${box.h}`;
}

function canvasResource(canvas: CanvasRef): Record<string, unknown> {
  return {
    id: canvas.id,
    type: 'Canvas',
    // The proposal asks spatial targets for their size: region selectors are read against it.
    ...(canvas.width !== undefined && canvas.height !== undefined ? { width: canvas.width, height: canvas.height } : {}),
    ...(canvas.manifest ? { partOf: [{ id: canvas.manifest, type: 'Manifest' }] } : {}),
  };
}

export function toEmbeddingAnnotation(input: AnnotationInput): Record<string, unknown> {
  const source = canvasResource(input.canvas);
  const target = input.box
    ? { type: 'SpecificResource', source, selector: { type: 'FragmentSelector', conformsTo: MEDIA_FRAGMENTS, value: xywhValue(input.box) } }
    : source;
  return {
    id: input.id,
    type: 'Annotation',
    motivation: EMBEDDING_MOTIVATION,
    target,
    body: { type: 'EmbeddingVector', vector: encodeVector(input.vector), vectorEncoding: 'base64', model: input.model },
  };
}

// --- reading ------------------------------------------------------------------

/** What an embedding annotation says, once read and checked. */
export interface ParsedEmbedding {
  canvas: CanvasRef;
  box?: Box;
  vector: Float32Array;
  modelId: string;
  dimensions: number;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]);
const idOf = (v: unknown): string | undefined => (typeof v === 'string' ? v : isObject(v) && typeof (v.id ?? v['@id']) === 'string' ? String(v.id ?? v['@id']) : undefined);
const typeIs = (v: Json, type: string) => list(v.type ?? v['@type']).some((t) => typeof t === 'string' && (t === type || t.endsWith(`:${type}`)));

/** Reads `x,y,w,h` or `xywh=[pixel:|percent:]x,y,w,h` against a canvas size (needed for percent only). */
export function parseRegion(text: string, canvas: { width?: number; height?: number }, what: string): Box | undefined {
  let value = text.trim();
  if (value === 'full') return undefined;
  if (value.startsWith('xywh=')) value = value.slice(5);
  let percent = false;
  if (value.startsWith('pixel:')) value = value.slice(6);
  else if (value.startsWith('percent:') || value.startsWith('pct:')) {
    percent = true;
    value = value.slice(value.indexOf(':') + 1);
  }
  const parts = value.split(',').map((p) => (/^\s*\d+(\.\d+)?\s*$/.test(p) ? Number(p) : NaN));
  if (parts.length !== 4 || parts.some((n) => !Number.isFinite(n))) throw new EmbeddingAnnotationError(`${what}: the region ${JSON.stringify(text)} is not "x,y,w,h"`);
  let [x, y, w, h] = parts as [number, number, number, number];
  if (w <= 0 || h <= 0) throw new EmbeddingAnnotationError(`${what}: the region ${JSON.stringify(text)} has no area`);
  if (percent) {
    if (!canvas.width || !canvas.height) throw new EmbeddingAnnotationError(`${what}: a percent region needs the canvas's width and height in the target`);
    [x, w] = [(x / 100) * canvas.width, (w / 100) * canvas.width];
    [y, h] = [(y / 100) * canvas.height, (h / 100) * canvas.height];
  }
  return { x, y, w, h };
}

function manifestOf(...resources: unknown[]): string | undefined {
  for (const r of resources) {
    if (!isObject(r)) continue;
    for (const parent of list(r.partOf ?? r.within)) {
      const id = idOf(parent);
      if (id && (!isObject(parent) || parent.type === undefined || typeIs(parent, 'Manifest'))) return id;
    }
  }
  return undefined;
}

function readCanvas(resource: unknown, what: string): { canvas: CanvasRef; fragment?: string } {
  const id = idOf(resource);
  if (!id) throw new EmbeddingAnnotationError(`${what}: the target names no canvas (expected a Canvas id, or a SpecificResource whose source is one)`);
  const hash = id.indexOf('#');
  const canvas: CanvasRef = { id: hash < 0 ? id : id.slice(0, hash) };
  if (isObject(resource)) {
    if (typeof resource.width === 'number') canvas.width = resource.width;
    if (typeof resource.height === 'number') canvas.height = resource.height;
  }
  return hash < 0 ? { canvas } : { canvas, fragment: id.slice(hash + 1) };
}

function readTarget(target: unknown, what: string): { canvas: CanvasRef; box?: Box } {
  const single = list(target);
  if (single.length !== 1) throw new EmbeddingAnnotationError(`${what}: expected one target, found ${single.length}`);
  const t = single[0];
  if (isObject(t) && typeIs(t, 'SpecificResource')) {
    const { canvas, fragment } = readCanvas(t.source, what);
    const manifest = manifestOf(t.source, t);
    if (manifest) canvas.manifest = manifest;
    let box = fragment ? parseRegion(fragment, canvas, what) : undefined;
    for (const selector of list(t.selector)) {
      if (!isObject(selector)) continue;
      if (typeIs(selector, 'FragmentSelector') && typeof selector.value === 'string') box = parseRegion(selector.value, canvas, what);
      else if (typeIs(selector, 'ImageApiSelector') && typeof selector.region === 'string') box = parseRegion(selector.region, canvas, what);
      else continue;
      break;
    }
    return box ? { canvas, box } : { canvas };
  }
  const { canvas, fragment } = readCanvas(t, what);
  const manifest = manifestOf(t);
  if (manifest) canvas.manifest = manifest;
  const box = fragment ? parseRegion(fragment, canvas, what) : undefined;
  return box ? { canvas, box } : { canvas };
}

const BYTES: Record<string, number> = { float32: 4, float64: 8, int8: 1, uint8: 1, int16: 2, uint16: 2, int32: 4, uint32: 4 };

function decodeBase64(text: string, model: Json, what: string): Float32Array {
  const dataType = model.dataType;
  if (typeof dataType !== 'string' || !(dataType in BYTES)) {
    throw new EmbeddingAnnotationError(`${what}: a base64 vector needs model.dataType (float32, float64, int8, uint8, int16, uint16, int32 or uint32), got ${JSON.stringify(dataType)}`);
  }
  const size = BYTES[dataType]!;
  const endianness = model.endianness ?? (size === 1 ? 'little' : undefined);
  if (endianness !== 'little' && endianness !== 'big') throw new EmbeddingAnnotationError(`${what}: a base64 ${dataType} vector needs model.endianness "little" or "big"`);
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length % size !== 0) throw new EmbeddingAnnotationError(`${what}: ${bytes.length} bytes are not a whole number of ${dataType} values`);
  const n = bytes.length / size;
  const out = new Float32Array(n);
  const le = endianness === 'little';
  for (let i = 0; i < n; i++) {
    const o = i * size;
    out[i] =
      dataType === 'float32' ? (le ? bytes.readFloatLE(o) : bytes.readFloatBE(o))
      : dataType === 'float64' ? (le ? bytes.readDoubleLE(o) : bytes.readDoubleBE(o))
      : dataType === 'int8' ? bytes.readInt8(o)
      : dataType === 'uint8' ? bytes.readUInt8(o)
      : dataType === 'int16' ? (le ? bytes.readInt16LE(o) : bytes.readInt16BE(o))
      : dataType === 'uint16' ? (le ? bytes.readUInt16LE(o) : bytes.readUInt16BE(o))
      : dataType === 'int32' ? (le ? bytes.readInt32LE(o) : bytes.readInt32BE(o))
      : le ? bytes.readUInt32LE(o) : bytes.readUInt32BE(o);
  }
  return out;
}

function readBody(body: unknown, what: string): { vector: Float32Array; modelId: string; dimensions: number } {
  const bodies = list(body);
  if (bodies.length !== 1 || !isObject(bodies[0]) || !typeIs(bodies[0], 'EmbeddingVector')) {
    throw new EmbeddingAnnotationError(`${what}: the body must be one object of type "EmbeddingVector"`);
  }
  const b = bodies[0];
  const model = b.model;
  if (!isObject(model) || typeof model.name !== 'string' || !model.name) throw new EmbeddingAnnotationError(`${what}: body.model.name is missing: without it, nobody can tell whether the vector is comparable`);
  if (model.version !== undefined && typeof model.version !== 'string') throw new EmbeddingAnnotationError(`${what}: body.model.version must be a string`);
  if (b.vectorReference !== undefined) {
    throw new EmbeddingAnnotationError(`${what}: the vector is referenced (vectorReference), not given inline; export the embeddings with their vectors inline ("vector")`);
  }
  let vector: Float32Array;
  if (b.vectorEncoding === 'base64') {
    if (typeof b.vector !== 'string') throw new EmbeddingAnnotationError(`${what}: a base64 vector must be a string`);
    if (b.vector.length > (MAX_DIMENSIONS * 8 * 4) / 3 + 4) throw new EmbeddingAnnotationError(`${what}: the vector is longer than ${MAX_DIMENSIONS} dimensions`);
    vector = decodeBase64(b.vector, model, what);
  } else if (b.vectorEncoding === 'json-array' || (b.vectorEncoding === undefined && Array.isArray(b.vector))) {
    if (!Array.isArray(b.vector) || b.vector.some((x) => typeof x !== 'number' || !Number.isFinite(x))) {
      throw new EmbeddingAnnotationError(`${what}: a json-array vector must be an array of finite numbers`);
    }
    if (b.vector.length > MAX_DIMENSIONS) throw new EmbeddingAnnotationError(`${what}: the vector is longer than ${MAX_DIMENSIONS} dimensions`);
    vector = Float32Array.from(b.vector as number[]);
  } else {
    throw new EmbeddingAnnotationError(`${what}: vectorEncoding must be "base64" or "json-array", got ${JSON.stringify(b.vectorEncoding)}`);
  }
  if (vector.length === 0) throw new EmbeddingAnnotationError(`${what}: the vector is empty`);
  if (model.dimensions !== undefined && model.dimensions !== vector.length) {
    throw new EmbeddingAnnotationError(`${what}: model.dimensions says ${JSON.stringify(model.dimensions)}, the vector has ${vector.length} values`);
  }
  return { vector, modelId: modelIdOf({ name: model.name, ...(typeof model.version === 'string' ? { version: model.version } : {}) }), dimensions: vector.length };
}

/**
 * Reads one annotation; `what` names it in errors (its id, or its place in the page). Annotations
 * of other motivations are not embeddings: the caller skips them (returns undefined).
 */
export function parseEmbeddingAnnotation(json: unknown, what: string): ParsedEmbedding | undefined {
  if (!isObject(json)) throw new EmbeddingAnnotationError(`${what}: expected an annotation object`);
  const name = typeof json.id === 'string' ? `${what} (${json.id})` : what;
  if (!list(json.motivation).includes(EMBEDDING_MOTIVATION)) return undefined;
  const { canvas, box } = readTarget(json.target, name);
  const body = readBody(json.body, name);
  return box ? { canvas, box, ...body } : { canvas, ...body };
}

/** The annotations of a page (AnnotationPage `items`, or a bare list), and the link to the next page. */
export function annotationsOfPage(json: unknown, what: string): { annotations: unknown[]; next?: string; first?: string } {
  if (Array.isArray(json)) return { annotations: json };
  if (!isObject(json)) throw new EmbeddingAnnotationError(`${what}: expected an AnnotationPage, an AnnotationCollection or a list of annotations`);
  if (typeIs(json, 'Annotation')) return { annotations: [json] };
  if (typeIs(json, 'AnnotationCollection')) {
    const first = idOf(json.first);
    const embedded = isObject(json.first) && Array.isArray(json.first.items) ? json.first : undefined;
    if (embedded) return { ...annotationsOfPage(embedded, what) };
    if (!first) throw new EmbeddingAnnotationError(`${what}: the AnnotationCollection has no "first" page`);
    return { annotations: [], first };
  }
  if (!typeIs(json, 'AnnotationPage')) throw new EmbeddingAnnotationError(`${what}: expected an AnnotationPage, found type ${JSON.stringify(json.type)}`);
  if (!Array.isArray(json.items)) throw new EmbeddingAnnotationError(`${what}: the AnnotationPage has no "items" list`);
  const next = idOf(json.next);
  return next ? { annotations: json.items, next } : { annotations: json.items };
}
