/**
 * Decides which URL to fetch for one image so that its long side is about
 * `longSide` pixels, using only what the manifest or info.json told us. The
 * rules keep us polite and within what each server promises to serve:
 * never ask for upscaling, respect maxWidth/maxHeight/maxArea, and on level 0
 * services ask only for sizes the server says exist.
 */
import type { ImageRequest, ImageResource, ImageServiceRef, ImageSize } from './types.ts';

export function resolveImageRequest(image: ImageResource, longSide: number): ImageRequest {
  if (!Number.isInteger(longSide) || longSide < 1) {
    throw new RangeError(`longSide must be a positive integer, got ${longSide}`);
  }
  const service = image.service;
  if (!service) return plainRequest(image);
  const full = knownPair(service.width, service.height) ?? bodySizeIfFull(image, service);
  return service.level === 0
    ? level0Request(service, full, longSide)
    : sizedRequest(service, full, longSide);
}

/**
 * The resource URL itself. A `#xywh=` fragment names a region of the file (v2
 * "partial image"); HTTP never sends fragments, so we fetch the whole file and
 * the declared size (the region's) is not what we will get.
 */
function plainRequest(image: ImageResource): ImageRequest {
  const [url = image.url, fragment] = image.url.split('#', 2);
  const request: ImageRequest = { url, strategy: 'plain' };
  return fragment?.includes('xywh=') ? request : withSize(request, knownPair(image.width, image.height));
}

/**
 * The body's declared size is the full image's only when the body is the full
 * image. Manifests often paint a derivative (`{service}/full/1170,/0/default.jpg`)
 * whose size would make us think the image small and fetch `full` at 7000 px.
 */
function bodySizeIfFull(image: ImageResource, service: ImageServiceRef): ImageSize | undefined {
  const size = knownPair(image.width, image.height);
  if (!size || !image.url.startsWith(`${service.id}/`)) return size;
  const [region, sizeParam] = image.url.slice(service.id.length + 1).split('/');
  return region === 'full' && (sizeParam === 'full' || sizeParam === 'max') ? size : undefined;
}

function knownPair(width: number | undefined, height: number | undefined): ImageSize | undefined {
  return width !== undefined && height !== undefined && width > 0 && height > 0 ? { width, height } : undefined;
}

function withSize(request: ImageRequest, size: ImageSize | undefined): ImageRequest {
  if (size) {
    request.width = size.width;
    request.height = size.height;
  }
  return request;
}

/** `{id}/{region}/{size}/0/{quality}.jpg`, with the quality name each version uses. */
function imageUrl(service: ImageServiceRef, size: string): string {
  const quality = service.version === 1 ? 'native' : 'default';
  return `${service.id}/full/${size}/0/${quality}.jpg`;
}

/** The whole image at full size: `full` before Image API 3, `max` from 3 on. */
function fullRequest(service: ImageServiceRef, full: ImageSize | undefined): ImageRequest {
  const size = service.version === 3 ? 'max' : 'full';
  // v3 `max` is capped by the service limits; v1/v2 `full` is not.
  const expected = full && service.version === 3 ? scaleToLimits(full, service) : full;
  return withSize({ url: imageUrl(service, size), strategy: 'full' }, expected);
}

function longest(size: ImageSize): number {
  return Math.max(size.width, size.height);
}

function withinLimits(size: ImageSize, service: ImageServiceRef): boolean {
  return (service.maxWidth === undefined || size.width <= service.maxWidth)
    && (service.maxHeight === undefined || size.height <= service.maxHeight)
    && (service.maxArea === undefined || size.width * size.height <= service.maxArea);
}

/** What a server returns for `!b,b` on an image of size `full` (aspect kept, no upscaling). */
function confinedSize(full: ImageSize, box: number): ImageSize {
  const scale = Math.min(1, box / full.width, box / full.height);
  return {
    width: Math.max(1, Math.round(full.width * scale)),
    height: Math.max(1, Math.round(full.height * scale)),
  };
}

/** The largest scale (≤ 1) at which `full` satisfies the service limits. */
function limitScale(full: ImageSize, service: ImageServiceRef): number {
  return Math.min(
    1,
    service.maxWidth !== undefined ? service.maxWidth / full.width : 1,
    service.maxHeight !== undefined ? service.maxHeight / full.height : 1,
    service.maxArea !== undefined ? Math.sqrt(service.maxArea / (full.width * full.height)) : 1,
  );
}

function scaleToLimits(full: ImageSize, service: ImageServiceRef): ImageSize {
  const box = Math.floor(longest(full) * limitScale(full, service));
  return largestConfinedWithinLimits(full, box, service);
}

/** Steps the box down until the server's rounding cannot push the result over a limit. */
function largestConfinedWithinLimits(full: ImageSize, box: number, service: ImageServiceRef): ImageSize & { box: number } {
  let b = Math.max(1, box);
  let size = confinedSize(full, b);
  for (let i = 0; i < 16 && b > 1 && !withinLimits(size, service); i++) {
    b--;
    size = confinedSize(full, b);
  }
  return { ...size, box: b };
}

/** Level 1/2 (or unknown level): ask the server to scale into a `longSide` box. */
function sizedRequest(service: ImageServiceRef, full: ImageSize | undefined, longSide: number): ImageRequest {
  if (!full) {
    // Without the image size we can only keep the box itself within the limits.
    const areaSide = service.maxArea !== undefined ? Math.floor(Math.sqrt(service.maxArea)) : Infinity;
    const box = Math.max(1, Math.min(longSide, service.maxWidth ?? Infinity, service.maxHeight ?? Infinity, areaSide));
    return { url: imageUrl(service, `!${box},${box}`), strategy: 'service-sized' };
  }
  if (longest(full) <= longSide && withinLimits(full, service)) return fullRequest(service, full);
  const wanted = Math.min(longSide, longest(full), Math.floor(longest(full) * limitScale(full, service)));
  const size = largestConfinedWithinLimits(full, wanted, service);
  return {
    url: imageUrl(service, `!${size.box},${size.box}`),
    strategy: 'service-sized',
    width: size.width,
    height: size.height,
  };
}

/** Level 0: only listed sizes, whole-image tiles, or the full image can be asked for. */
function level0Request(service: ImageServiceRef, full: ImageSize | undefined, longSide: number): ImageRequest {
  if (full && longest(full) <= longSide) return fullRequest(service, full);
  const listed = pickSize(service.sizes ?? [], longSide);
  if (listed) {
    return { url: imageUrl(service, `${listed.width},${listed.height}`), strategy: 'level0-size', ...listed };
  }
  const tileFree = full ? pickSize(tileFreeSizes(service, full), longSide) : undefined;
  if (tileFree) {
    // Canonical size syntax: "w," before Image API 3, "w,h" from 3 on.
    const size = service.version === 3 ? `${tileFree.width},${tileFree.height}` : `${tileFree.width},`;
    return { url: imageUrl(service, size), strategy: 'level0-size', ...tileFree };
  }
  return fullRequest(service, full);
}

/** The smallest size whose long side reaches `longSide`, else the largest there is. */
function pickSize(sizes: ImageSize[], longSide: number): ImageSize | undefined {
  let smallestEnough: ImageSize | undefined;
  let largest: ImageSize | undefined;
  for (const size of sizes) {
    if (longest(size) >= longSide && (!smallestEnough || longest(size) < longest(smallestEnough))) smallestEnough = size;
    if (!largest || longest(size) > longest(largest)) largest = size;
  }
  const chosen = smallestEnough ?? largest;
  return chosen ? { width: chosen.width, height: chosen.height } : undefined;
}

/**
 * Sizes at which one tile covers the whole image: at scale factor sf the image
 * is ceil(w/sf) × ceil(h/sf), and a level 0 server that publishes that tile
 * serves it for region `full`. These exist on static tile sets without `sizes`.
 */
function tileFreeSizes(service: ImageServiceRef, full: ImageSize): ImageSize[] {
  const out: ImageSize[] = [];
  for (const tile of service.tiles ?? []) {
    const tileHeight = tile.height ?? tile.width;
    for (const sf of tile.scaleFactors) {
      const width = Math.ceil(full.width / sf);
      const height = Math.ceil(full.height / sf);
      if (width <= tile.width && height <= tileHeight) out.push({ width, height });
    }
  }
  return out;
}

/** One region of a detail image: the request, and where its pixels go in the assembled image. */
export interface DetailTile {
  url: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * The image at `longSide` as a grid of region requests, for a level 1/2 service whose size limits
 * (maxWidth, maxHeight, maxArea) keep a single request smaller than that: a newspaper page behind
 * a server that caps responses at 1,000 px still arrives at 2,000. Undefined when one request does
 * (resolveImageRequest), when the service cannot cut regions (level 0, no service) or its size is
 * unknown, or when more than `maxTiles` regions would be needed.
 */
export function resolveDetailTiles(image: ImageResource, longSide: number, maxTiles = 16): { width: number; height: number; tiles: DetailTile[] } | undefined {
  const service = image.service;
  if (!service || service.level === 0) return undefined;
  const full = knownPair(service.width, service.height) ?? bodySizeIfFull(image, service);
  if (!full) return undefined;
  const scale = Math.min(1, longSide / longest(full));
  const width = Math.max(1, Math.round(full.width * scale));
  const height = Math.max(1, Math.round(full.height * scale));
  if (withinLimits({ width, height }, service)) return undefined;
  // The largest output a region may have (square when only the area is limited). Each region is asked
  // at an exact width (and height), so no server rounding takes it over.
  const areaSide = service.maxArea !== undefined ? Math.floor(Math.sqrt(service.maxArea)) : Infinity;
  const tileW = Math.min(service.maxWidth ?? Infinity, areaSide);
  const tileH = Math.min(service.maxHeight ?? service.maxWidth ?? Infinity, areaSide);
  if (!(tileW >= 64 && tileH >= 64)) return undefined;
  const quality = service.version === 1 ? 'native' : 'default';
  // Region edges on the full image, evenly spaced; each region's output is the span its edges cover at
  // the wanted scale. Rounding may leave one a pixel over the limit: then one more column or row.
  for (let cols = Math.ceil(width / tileW), rows = Math.ceil(height / tileH); cols * rows <= maxTiles; ) {
    const xs = Array.from({ length: cols + 1 }, (_, c) => Math.round((c * full.width) / cols));
    const ys = Array.from({ length: rows + 1 }, (_, r) => Math.round((r * full.height) / rows));
    const out = (v: number, total: number, size: number) => (v === total ? size : Math.round(v * scale));
    const tiles: DetailTile[] = [];
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const x = out(xs[c]!, full.width, width);
        const y = out(ys[r]!, full.height, height);
        const w = out(xs[c + 1]!, full.width, width) - x;
        const h = out(ys[r + 1]!, full.height, height) - y;
        // Canonical size syntax: "w," before Image API 3, "w,h" from 3 on.
        const size = service.version === 3 ? `${w},${h}` : `${w},`;
        tiles.push({ url: `${service.id}/${xs[c]},${ys[r]},${xs[c + 1]! - xs[c]!},${ys[r + 1]! - ys[r]!}/${size}/0/${quality}.jpg`, x, y, width: w, height: h });
      }
    }
    const wide = tiles.some((t) => t.width > tileW);
    const tall = tiles.some((t) => t.height > tileH || t.width * t.height > (service.maxArea ?? Infinity));
    if (!wide && !tall) return { width, height, tiles };
    if (wide) cols++;
    else rows++;
  }
  return undefined;
}

/** Part of an image as fractions (0…1) of its width and height. */
export interface ImagePart {
  x: number;
  y: number;
  w: number;
  h: number;
}

/**
 * An Image API request for part of the image (a small picture on a large page), its long side at
 * most `longSide`, never upscaled, within the service's size limits; the size asked exactly
 * (`w,h` from Image API 3, `w,` before). Undefined when the service cannot cut regions (level 0,
 * no service) or the image's full size is unknown.
 */
export function resolveRegionRequest(image: ImageResource, part: ImagePart, longSide: number): { url: string; width: number; height: number } | undefined {
  const service = image.service;
  if (!service || service.level === 0 || !(longSide >= 1)) return undefined;
  const full = knownPair(service.width, service.height) ?? bodySizeIfFull(image, service);
  if (!full) return undefined;
  const x = Math.min(full.width - 1, Math.max(0, Math.floor(part.x * full.width)));
  const y = Math.min(full.height - 1, Math.max(0, Math.floor(part.y * full.height)));
  const w = Math.max(1, Math.min(full.width - x, Math.ceil((part.x + part.w) * full.width) - x));
  const h = Math.max(1, Math.min(full.height - y, Math.ceil((part.y + part.h) * full.height) - y));
  const region = { width: w, height: h };
  const scale = Math.min(1, longSide / longest(region), limitScale(region, service));
  const width = Math.max(1, Math.floor(w * scale));
  const height = Math.max(1, Math.floor(h * scale));
  const size = service.version === 3 ? `${width},${height}` : `${width},`;
  const quality = service.version === 1 ? 'native' : 'default';
  return { url: `${service.id}/${x},${y},${w},${h}/${size}/0/${quality}.jpg`, width, height };
}
