/**
 * Small helpers shared by the IIIF parsers: reading loosely-typed JSON,
 * collecting warnings within a bound, and turning ids into usable absolute URIs.
 */
import { describeValue } from './errors.ts';

export type JsonObject = Record<string, unknown>;

export function isRecord(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Real data gives one-element lists as bare values; treat both the same. */
export function asList(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

/** `@type` (v2) or `type` (v3); arrays of types are reduced to their first string. */
export function typeOf(node: JsonObject): string | undefined {
  for (const raw of [node['type'], node['@type']]) {
    const first = asList(raw).find((t): t is string => typeof t === 'string');
    if (first !== undefined) return first.trim();
  }
  return undefined;
}

/** Strips the JSON-LD prefixes Presentation 2 uses (sc:Manifest, dctypes:Image, oa:Choice, …). */
export function bareType(type: string | undefined): string | undefined {
  if (type === undefined) return undefined;
  const colon = type.indexOf(':');
  return colon >= 0 && !type.includes('/') ? type.slice(colon + 1) : type;
}

export function contextsOf(node: JsonObject): string[] {
  return asList(node['@context'])
    .filter((c): c is string => typeof c === 'string')
    .map((c) => c.trim());
}

/**
 * Warnings are for a person reading a log, so a pathological document must not
 * turn them into a memory problem: keep the first `limit`, count the rest.
 */
export class Warnings {
  readonly list: string[] = [];
  private dropped = 0;

  constructor(private readonly limit = 200) {}

  add(message: string): void {
    if (this.list.length < this.limit) this.list.push(message);
    else this.dropped++;
  }

  /** The warnings, with a final line saying how many were left out. */
  done(): string[] {
    return this.dropped > 0
      ? [...this.list, `${this.dropped} more warnings not shown`]
      : [...this.list];
  }
}

export interface IdContext {
  /** URL of the document being parsed: relative ids are resolved against it. */
  baseUrl?: string;
  warnings: Warnings;
}

/** Placeholder id given to content resources that had none, so later stages can tell. */
export const MISSING_ID = 'urn:reprise:missing-id';

export type IdResult =
  | { ok: true; id: string }
  | { ok: false; problem: string };

/**
 * Reads `@id` or `id` and makes it an absolute URI: trims stray whitespace and
 * resolves relative references against the document URL, each with a warning.
 * `what` names the node in messages ("canvas 3", "the manifest").
 */
export function readId(node: JsonObject, what: string, ctx: IdContext): IdResult {
  const raw = typeof node['id'] === 'string' ? node['id'] : node['@id'];
  if (raw === undefined || raw === null || raw === '' || raw === MISSING_ID) {
    return { ok: false, problem: `${what} has no @id/id` };
  }
  if (typeof raw !== 'string') {
    return { ok: false, problem: `${what} has an @id/id that is not a string (${describeValue(raw)})` };
  }
  return absoluteUri(raw, `${what} id`, ctx);
}

/** Trims and absolutises any URI-valued string (ids, thumbnails, homepages). */
export function absoluteUri(raw: string, what: string, ctx: IdContext): IdResult {
  const trimmed = raw.trim();
  if (trimmed === '') return { ok: false, problem: `${what} is empty` };
  if (trimmed !== raw) ctx.warnings.add(`${what} ${JSON.stringify(raw)} has stray whitespace; trimmed`);
  if (URL.canParse(trimmed)) return { ok: true, id: trimmed };
  if (ctx.baseUrl && URL.canParse(trimmed, ctx.baseUrl)) {
    const resolved = new URL(trimmed, ctx.baseUrl).href;
    ctx.warnings.add(`${what} ${JSON.stringify(trimmed)} is relative; resolved to ${resolved}`);
    return { ok: true, id: resolved };
  }
  return {
    ok: false,
    problem: `${what} ${describeValue(trimmed)} is not an absolute URI${ctx.baseUrl ? '' : ' (and no document URL to resolve it against)'}`,
  };
}

/** Reads a URI-valued property that may be a string or an object with an id. */
export function readUriLike(value: unknown, what: string, ctx: IdContext): string | undefined {
  for (const item of asList(value)) {
    const raw = typeof item === 'string' ? item : isRecord(item) ? item['id'] ?? item['@id'] : undefined;
    if (typeof raw !== 'string') continue;
    const result = absoluteUri(raw, what, ctx);
    if (result.ok) return result.id;
  }
  return undefined;
}

/**
 * A pixel dimension: a positive integer. Real data has numeric strings and
 * floats; those are accepted with a warning. Anything else is dropped with a
 * warning naming the value ("canvas 3 has a non-integer height \"abc\"").
 */
export function readDimension(
  value: unknown,
  what: string,
  property: 'width' | 'height',
  warnings: Warnings,
): number | undefined {
  if (value === undefined || value === null) return undefined;
  let n: number | undefined;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(value)) {
    n = Number(value);
    warnings.add(`${what} gives its ${property} as a string ${JSON.stringify(value)}`);
  }
  if (n === undefined || !Number.isFinite(n)) {
    warnings.add(`${what} has a non-integer ${property} ${describeValue(value)}; ignored`);
    return undefined;
  }
  if (n <= 0) {
    warnings.add(`${what} has ${property} ${n}; ignored`);
    return undefined;
  }
  if (!Number.isInteger(n)) {
    warnings.add(`${what} has a non-integer ${property} ${n}; rounded`);
    n = Math.max(1, Math.round(n));
  }
  return n;
}

/** A positive integer from trusted-ish service data; no warnings, just undefined when unusable. */
export function positiveInt(value: unknown): number | undefined {
  const n = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
  return typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : undefined;
}

/**
 * Presentation API version of a Manifest or Collection: the @context decides
 * when it names a version; otherwise v2's prefixed types and v2-only
 * properties give it away; a bare "Manifest"/"Collection" is v3.
 */
export function presentationVersion(node: JsonObject): 2 | 3 | undefined {
  for (const context of contextsOf(node)) {
    if (/iiif\.io\/api\/presentation\/3\//.test(context)) return 3;
    if (/iiif\.io\/api\/presentation\/2\//.test(context) || /shared-canvas\.org\/ns\//.test(context)) return 2;
  }
  const type = typeOf(node);
  if (type === undefined) return undefined;
  if (type.startsWith('sc:')) return 2;
  if (type === 'Manifest' || type === 'Collection') {
    const v2Only = ['sequences', 'manifests', 'collections', 'members'].some((key) => key in node) && !('items' in node);
    return v2Only || (typeof node['@id'] === 'string' && node['id'] === undefined) ? 2 : 3;
  }
  return undefined;
}
