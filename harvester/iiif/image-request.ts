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
