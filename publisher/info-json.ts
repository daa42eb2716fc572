/**
 * Image Information documents (info.json) for Image API 2.1 and 3.0: what the image is
 * (width, height), which sizes and tiles clients should ask for, the output limits, and
 * the compliance level with the features served beyond it.
 */
import { FORMATS, QUALITIES, maxSize, type ImageApiVersion, type PixelSize } from './image-request.ts';
import type { PublisherLimits } from './limits.ts';

export const IMAGE_CONTEXT = {
  2: 'http://iiif.io/api/image/2/context.json',
  3: 'http://iiif.io/api/image/3/context.json',
} as const;

/** The compliance level document each version links to (profile, and the profile Link header). */
export const PROFILE_URI = {
  2: 'http://iiif.io/api/image/2/level2.json',
  3: 'http://iiif.io/api/image/3/level2.json',
} as const;

export const IMAGE_PROTOCOL = 'http://iiif.io/api/image';

const TILE_SIZE = 512;
/** Sizes below this long side are not worth listing. */
const SMALLEST_LISTED_SIZE = 64;

export interface TileInfo {
  width: number;
  height: number;
  scaleFactors: number[];
}

/** Whole-image sizes at halving scales, smallest first, all within the output limits. */
export function listedSizes(image: PixelSize, limits: PublisherLimits): PixelSize[] {
  const sizes: PixelSize[] = [];
  for (let factor = 1; factor <= 2 ** 20; factor *= 2) {
    const size = { width: Math.ceil(image.width / factor), height: Math.ceil(image.height / factor) };
    const fits = size.width <= limits.maxWidth && size.height <= limits.maxHeight && size.width * size.height <= limits.maxArea;
    if (fits) sizes.push(size);
    if (Math.max(size.width, size.height) <= SMALLEST_LISTED_SIZE || (size.width === 1 && size.height === 1)) break;
  }
  // An image over the limits at every listed scale still has its max size.
  if (!sizes.length) sizes.push(maxSize(image, limits, false));
  return sizes.reverse();
}

/** One square tile size (512, or less when the limits are smaller) and the scale factors down to one tile. */
export function tileInfo(image: PixelSize, limits: PublisherLimits): TileInfo {
  const tile = Math.min(TILE_SIZE, limits.maxWidth, limits.maxHeight, Math.floor(Math.sqrt(limits.maxArea)));
  const scaleFactors: number[] = [];
  for (let factor = 1; factor <= 2 ** 20; factor *= 2) {
    scaleFactors.push(factor);
    if (Math.ceil(image.width / factor) <= tile && Math.ceil(image.height / factor) <= tile) break;
  }
  return { width: tile, height: tile, scaleFactors };
}

const FORMAT_NAMES = Object.keys(FORMATS);

function v2Supports(limits: PublisherLimits): string[] {
  const supports = [
    'baseUriRedirect', 'canonicalLinkHeader', 'cors', 'jsonldMediaType', 'mirroring', 'profileLinkHeader',
    'regionByPct', 'regionByPx', 'regionSquare', 'rotationArbitrary', 'rotationBy90s',
    'sizeByConfinedWh', 'sizeByDistortedWh', 'sizeByH', 'sizeByPct', 'sizeByW', 'sizeByWh',
  ];
  if (limits.allowUpscaling) supports.push('sizeAboveFull');
  return supports.sort();
}

function v3ExtraFeatures(limits: PublisherLimits): string[] {
  const features = ['canonicalLinkHeader', 'mirroring', 'profileLinkHeader', 'rotationArbitrary'];
  if (limits.allowUpscaling) features.push('sizeUpscaling');
  return features.sort();
}

/** The info.json of one image. `serviceId` is the image's base URI (…/iiif/{version}/{id}). */
export function infoJson(version: ImageApiVersion, serviceId: string, image: PixelSize, limits: PublisherLimits): Record<string, unknown> {
  const sizes = listedSizes(image, limits);
  const tiles = [tileInfo(image, limits)];
  const { maxWidth, maxHeight, maxArea } = limits;
  if (version === 2) {
    return {
      '@context': IMAGE_CONTEXT[2],
      '@id': serviceId,
      protocol: IMAGE_PROTOCOL,
      width: image.width,
      height: image.height,
      sizes,
      tiles,
      profile: [
        PROFILE_URI[2],
        { formats: FORMAT_NAMES, qualities: [...QUALITIES], supports: v2Supports(limits), maxWidth, maxHeight, maxArea },
      ],
    };
  }
  return {
    '@context': IMAGE_CONTEXT[3],
    id: serviceId,
    type: 'ImageService3',
    protocol: IMAGE_PROTOCOL,
    profile: 'level2',
    width: image.width,
    height: image.height,
    maxWidth,
    maxHeight,
    maxArea,
    sizes,
    tiles,
    preferredFormats: ['jpg'],
    // Listed even where level 2 already implies them, so a client need not know the compliance tables.
    extraFormats: FORMAT_NAMES.filter((f) => f !== 'jpg' && f !== 'png'),
    extraQualities: QUALITIES.filter((q) => q !== 'default'),
    extraFeatures: v3ExtraFeatures(limits),
  };
}
