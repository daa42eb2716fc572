/**
 * Reads IIIF Image API services, either as embedded in a manifest (often
 * partial: id, profile, maybe width/height) or as a full info.json. Image API 1,
 * 2 and 3 are all still served in the wild, sometimes mixed in one document, so
 * the version is worked out from every hint available.
 */
import type { ImageServiceRef, ImageSize, TileSpec } from './types.ts';
import { asList, contextsOf, isRecord, positiveInt, type JsonObject } from './util.ts';

/** Bounds on lists that only a broken or hostile server would make long. */
const MAX_SIZES = 100;
const MAX_TILES = 20;
const MAX_SCALE_FACTORS = 32;
const MAX_FORMATS = 20;

type Version = ImageServiceRef['version'];

/**
 * Parses one service, or picks the best image service out of a list (v3 over
 * v2 over v1; among equals, the one that tells us most). Returns undefined when
 * nothing in `json` is a usable Image API service (auth, search, … services are
 * ignored). `baseUrl` resolves relative ids, and supplies the id of an info.json
 * that has none (Image API 1.0).
 */
export function parseImageService(json: unknown, baseUrl?: string): ImageServiceRef | undefined {
  let best: ImageServiceRef | undefined;
  for (const candidate of asList(json).slice(0, 50)) {
    const parsed = parseOne(candidate, baseUrl);
    if (parsed && (!best || rank(parsed) > rank(best))) best = parsed;
  }
  return best;
}

function rank(service: ImageServiceRef): number {
  const known = [service.level, service.width, service.sizes, service.tiles].filter((x) => x !== undefined).length;
  return service.version * 10 + known;
}

function parseOne(node: unknown, baseUrl?: string): ImageServiceRef | undefined {
  if (!isRecord(node)) return undefined;
  const version = detectVersion(node);
  if (version === undefined) return undefined;
  const id = serviceId(node, baseUrl);
  if (id === undefined) return undefined;

  const service: ImageServiceRef = { id, version };
  const level = detectLevel(node);
  if (level !== undefined) service.level = level;
  const width = positiveInt(node['width']);
  const height = positiveInt(node['height']);
  if (width !== undefined && height !== undefined) {
    service.width = width;
    service.height = height;
  }
  const sizes = readSizes(node['sizes']);
  if (sizes.length) service.sizes = sizes;
  const tiles = readTiles(node);
  if (tiles.length) service.tiles = tiles;
  Object.assign(service, readLimits(node));
  const formats = readFormats(node);
  if (formats.length) service.formats = formats;
  return service;
}

/** The profile as a list of strings, trimmed (real data has leading spaces). */
function profileStrings(node: JsonObject): string[] {
  return asList(node['profile'])
    .filter((p): p is string => typeof p === 'string')
    .map((p) => p.trim());
}

/** v2 puts limits and formats in objects inside the profile list. */
function profileObjects(node: JsonObject): JsonObject[] {
  return asList(node['profile']).filter(isRecord).slice(0, 10);
}

/**
 * Explicit type first, then @context, then profile URI: publishers put Image
 * API 1 profiles inside v2 contexts, so the more explicit marker wins.
 */
function detectVersion(node: JsonObject): Version | undefined {
  const type = [node['type'], node['@type']].find((t): t is string => typeof t === 'string')?.trim();
  const fromType = type?.match(/^ImageService([123])$/);
  if (fromType) return Number(fromType[1]) as Version;

  for (const context of contextsOf(node)) {
    const v = versionFromUri(context, 'context');
    if (v !== undefined) return v;
  }
  for (const profile of profileStrings(node)) {
    const v = versionFromUri(profile, 'profile');
    if (v !== undefined) return v;
    // A bare "level1" is the Image API 3 way of writing a profile.
    if (/^level[0-2]$/.test(profile)) return 3;
  }
  // An info.json that says it is one but gives no version: judge by its id key.
  if (node['protocol'] === 'http://iiif.io/api/image') return typeof node['id'] === 'string' ? 3 : 2;
  return undefined;
}

function versionFromUri(uri: string, kind: 'context' | 'profile'): Version | undefined {
  const iiif = uri.match(/^https?:\/\/iiif\.io\/api\/image\/([123])[/.]/);
  if (iiif) return Number(iiif[1]) as Version;
  if (/^https?:\/\/library\.stanford\.edu\/iiif\/image-api\//.test(uri)) return 1;
  if (kind === 'profile' && /^level[0-2]$/.test(uri)) return 3;
  return undefined;
}

function detectLevel(node: JsonObject): ImageServiceRef['level'] {
  for (const profile of profileStrings(node)) {
    const m = profile.match(/level([0-2])(?:\.json)?$/);
    if (m) return Number(m[1]) as 0 | 1 | 2;
  }
  return undefined;
}

/** Base URI: trimmed, without /info.json or trailing slashes; relative ids resolved. */
function serviceId(node: JsonObject, baseUrl?: string): string | undefined {
  const raw = [node['id'], node['@id']].find((x): x is string => typeof x === 'string' && x.trim() !== '');
  const candidate = raw?.trim() ?? baseUrl;
  if (candidate === undefined) return undefined;
  let id = candidate;
  if (!URL.canParse(id)) {
    if (!baseUrl || !URL.canParse(id, baseUrl)) return undefined;
    id = new URL(id, baseUrl).href;
  }
  return stripServiceSuffix(id);
}

export function stripServiceSuffix(id: string): string {
  return id.trim().replace(/\/info\.json$/i, '').replace(/\/+$/, '');
}

function readSizes(value: unknown): ImageSize[] {
  const sizes: ImageSize[] = [];
  for (const entry of asList(value)) {
    if (sizes.length >= MAX_SIZES) break;
    if (!isRecord(entry)) continue;
    const width = positiveInt(entry['width']);
    const height = positiveInt(entry['height']);
    if (width !== undefined && height !== undefined) sizes.push({ width, height });
  }
  return sizes;
}

function readScaleFactors(value: unknown): number[] {
  const factors = asList(value)
    .map(positiveInt)
    .filter((n): n is number => n !== undefined)
    .slice(0, MAX_SCALE_FACTORS);
  return [...new Set(factors)].sort((a, b) => a - b);
}

/** v2/v3 `tiles`, or the v1 `tile_width`/`tile_height`/`scale_factors` triple. */
function readTiles(node: JsonObject): TileSpec[] {
  const tiles: TileSpec[] = [];
  for (const entry of asList(node['tiles'])) {
    if (tiles.length >= MAX_TILES) break;
    if (!isRecord(entry)) continue;
    const width = positiveInt(entry['width']);
    if (width === undefined) continue;
    // The Image API says a tile without a height is square.
    tiles.push({ width, height: positiveInt(entry['height']) ?? width, scaleFactors: readScaleFactors(entry['scaleFactors']) });
  }
  const v1Width = positiveInt(node['tile_width']);
  if (tiles.length === 0 && v1Width !== undefined) {
    tiles.push({
      width: v1Width,
      height: positiveInt(node['tile_height']) ?? v1Width,
      scaleFactors: readScaleFactors(node['scale_factors']),
    });
  }
  return tiles;
}

/** maxWidth/maxHeight/maxArea: top level in v3, inside profile objects in v2. */
function readLimits(node: JsonObject): Pick<ImageServiceRef, 'maxWidth' | 'maxHeight' | 'maxArea'> {
  const sources = [node, ...profileObjects(node)];
  const pick = (key: string): number | undefined => {
    for (const source of sources) {
      const n = positiveInt(source[key]);
      if (n !== undefined) return n;
    }
    return undefined;
  };
  const limits: Pick<ImageServiceRef, 'maxWidth' | 'maxHeight' | 'maxArea'> = {};
  const maxWidth = pick('maxWidth');
  // Both v2 and v3 say a missing maxHeight equals maxWidth.
  const maxHeight = pick('maxHeight') ?? maxWidth;
  const maxArea = pick('maxArea');
  if (maxWidth !== undefined) limits.maxWidth = maxWidth;
  if (maxHeight !== undefined) limits.maxHeight = maxHeight;
  if (maxArea !== undefined) limits.maxArea = maxArea;
  return limits;
}

/** Formats beyond the jpg every service must offer: v3 extraFormats, v2 profile formats, v1 formats. */
function readFormats(node: JsonObject): string[] {
  const found = new Set<string>();
  for (const source of [node, ...profileObjects(node)]) {
    for (const key of ['extraFormats', 'formats']) {
      for (const f of asList(source[key])) {
        if (typeof f === 'string' && /^[a-z0-9]{2,10}$/i.test(f.trim())) found.add(f.trim().toLowerCase());
      }
    }
  }
  found.delete('jpg');
  return [...found].slice(0, MAX_FORMATS);
}

/**
 * The reverse of parseImageService, in Image API 3 shape. Used to carry an
 * already-parsed service through @iiif/parser's upgrade, which would otherwise
 * drop v2 profile objects (and with them maxWidth/maxArea/formats).
 */
export function imageServiceToJson(service: ImageServiceRef): JsonObject {
  const json: JsonObject = { id: service.id, type: `ImageService${service.version}` };
  if (service.level !== undefined) json['profile'] = `level${service.level}`;
  for (const key of ['width', 'height', 'sizes', 'tiles', 'maxWidth', 'maxHeight', 'maxArea'] as const) {
    if (service[key] !== undefined) json[key] = service[key];
  }
  if (service.formats) json['extraFormats'] = service.formats;
  return json;
}
