/**
 * Image API requests for one indexed canvas: thumbnails of hits and the pixels of a box drawn on
 * it. Boxes arrive in canvas coordinates; the Image API wants them in the image's own pixels, and
 * the image may be painted on part of the canvas only (#xywh target) or at another resolution.
 */
import type { ImageServiceRef } from '../harvester/index.ts';
import type { IndexedRecord } from '../harvester/index.ts';
import type { Box } from '../store/index.ts';

export const THUMBNAIL_SIZE = 400;

/** What these functions read of a record: stores hand back whatever the harvester wrote, so nothing is assumed present. */
export type RecordView = Partial<Pick<IndexedRecord, 'width' | 'height' | 'image' | 'thumbnail' | 'imageUrl'>>;

const QUALITY_FILE: Record<1 | 2 | 3, string> = { 1: 'native.jpg', 2: 'default.jpg', 3: 'default.jpg' };

/** Full size of the image behind the service: the service knows best, then the annotation body, then the canvas. */
function imageSize(record: RecordView): { width: number; height: number } | undefined {
  const s = record.image?.service;
  const width = s?.width ?? record.image?.width ?? record.width;
  const height = s?.height ?? record.image?.height ?? record.height;
  return width && height ? { width, height } : undefined;
}

/**
 * A box on the canvas as a box on the image (integer pixels, clipped to the image), or undefined
 * when it misses the image altogether.
 */
export function canvasBoxToImage(record: RecordView, box: Box): Box | undefined {
  const size = imageSize(record);
  if (!size) return undefined;
  const target = record.image?.target ?? { x: 0, y: 0, w: record.width ?? size.width, h: record.height ?? size.height };
  const sx = size.width / target.w;
  const sy = size.height / target.h;
  const x0 = Math.max(0, Math.floor((box.x - target.x) * sx));
  const y0 = Math.max(0, Math.floor((box.y - target.y) * sy));
  const x1 = Math.min(size.width, Math.ceil((box.x + box.w - target.x) * sx));
  const y1 = Math.min(size.height, Math.ceil((box.y + box.h - target.y) * sy));
  if (x1 - x0 < 1 || y1 - y0 < 1) return undefined;
  return { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
}

/** Whether the service can cut regions and scale freely (level 1 and 2; an unstated level is taken as able). */
const canSize = (s: ImageServiceRef) => s.level !== 0;

/** The listed size closest above `want` on the long side (else the largest), for level-0 services. */
function pickSize(s: ImageServiceRef, want: number): { width: number; height: number } | undefined {
  const sizes = [...(s.sizes ?? [])].filter((z) => z.width > 0 && z.height > 0).sort((a, b) => Math.max(a.width, a.height) - Math.max(b.width, b.height));
  return sizes.find((z) => Math.max(z.width, z.height) >= want) ?? sizes.at(-1);
}

/**
 * An Image API request for `region` (image pixels, or the full image of `full` size) scaled into a
 * `box`×`box` square, within the service's own size limits; or undefined when the service cannot
 * cut or scale (level 0). Something already small enough is asked for at its own size (`max`, or
 * `full` before Image API 3): version 3 servers refuse sizes larger than the region. A size known
 * is asked for exactly (`w,h`; `w,` before version 3), else confined (`!w,h`).
 */
export function serviceRequest(service: ImageServiceRef, region: Box | undefined, box: number, full?: { width: number; height: number }): string | undefined {
  if (!canSize(service)) return undefined;
  const regionPart = region ? `${region.x},${region.y},${region.w},${region.h}` : 'full';
  let w = Math.min(box, service.maxWidth ?? box);
  let h = Math.min(box, service.maxHeight ?? service.maxWidth ?? box);
  if (service.maxArea && w * h > service.maxArea) w = h = Math.max(1, Math.floor(Math.sqrt(service.maxArea)));
  const source = region ?? (full ? { w: full.width, h: full.height } : undefined);
  const small = source !== undefined && source.w <= w && source.h <= h;
  let size: string;
  if (small) size = service.version === 3 ? 'max' : 'full';
  else if (source) {
    // The size worked out here, rounded down: servers round `!w,h` differently, and one that rounds
    // up (iiif-processor, on 640×388 asked for !400,400) then refuses its own result as an upscale.
    const scale = Math.min(w / source.w, h / source.h);
    const sw = Math.max(1, Math.floor(source.w * scale));
    const sh = Math.max(1, Math.floor(source.h * scale));
    size = service.version === 3 ? `${sw},${sh}` : `${sw},`;
  } else size = `!${w},${h}`;
  return `${service.id}/${regionPart}/${size}/0/${QUALITY_FILE[service.version]}`;
}

/** A level-0 service's listed size as a request (v3 `w,h`, earlier versions `w,`). */
function level0Request(service: ImageServiceRef, want: number): string | undefined {
  const size = pickSize(service, want);
  if (!size) return undefined;
  const sizePart = service.version === 3 ? `${size.width},${size.height}` : `${size.width},`;
  return `${service.id}/full/${sizePart}/0/${QUALITY_FILE[service.version]}`;
}

/**
 * A thumbnail for a hit: the region when the hit is a region and the service can cut one, else the
 * whole image; from the image service when there is one (sizes for level 0), else the manifest's
 * thumbnail or the image itself.
 */
export function thumbnailUrl(record: RecordView, region?: Box): string | undefined {
  const service = record.image?.service;
  if (service) {
    const imageRegion = region ? canvasBoxToImage(record, region) : undefined;
    const sized = serviceRequest(service, imageRegion, THUMBNAIL_SIZE, imageSize(record)) ?? level0Request(service, THUMBNAIL_SIZE);
    if (sized) return sized;
  }
  return record.thumbnail ?? record.image?.url ?? record.imageUrl;
}
