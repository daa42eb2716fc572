/** How a hit is shown: its label, a whole-image thumbnail on which a region can be drawn, its rights. */
import type { AnyHit, Box } from './types.ts';

const THUMB = 400;

export function hitLabel(hit: Pick<AnyHit, 'canvas' | 'manifest' | 'id'>, untitled: string): string {
  const canvas = hit.canvas.label?.trim();
  const manifest = hit.manifest.label?.trim();
  if (canvas && manifest && canvas !== manifest) return `${manifest} — ${canvas}`;
  return canvas || manifest || untitled;
}

/**
 * What a card names a hit by: a region item's own words (what the institution's annotation says of
 * it) first, its canvas's label under them; else the canvas's label, the manifest's under it when
 * they differ. `name` is the whole of it, for the card's accessible name and title.
 */
export function cardLabels(
  hit: Pick<AnyHit, 'canvas' | 'manifest' | 'id'> & { regionLabel?: string },
  untitled: string,
): { label: string; secondary?: string; secondaryIs?: 'canvas' | 'manifest'; name: string } {
  const region = hit.regionLabel?.trim();
  const canvas = hit.canvas.label?.trim();
  const manifest = hit.manifest.label?.trim();
  const whole = hitLabel(hit, untitled);
  if (region) {
    const under = canvas || manifest;
    return { label: region, ...(under ? { secondary: under, secondaryIs: canvas ? 'canvas' : 'manifest' } : {}), name: `${region} — ${whole}` } as const;
  }
  const label = canvas || manifest || untitled;
  return canvas && manifest && canvas !== manifest ? { label, secondary: manifest, secondaryIs: 'manifest', name: whole } : { label, name: whole };
}

/**
 * A thumbnail of the whole canvas. The API's thumbnail of a region hit is cut to the region; to
 * show where the region lies, ask the image service for the whole image instead (levels 1 and 2
 * scale freely). Level 0 and service-less thumbnails are whole images already.
 */
export function wholeThumbnail(hit: AnyHit): string | undefined {
  const s = hit.imageService;
  if (!hit.region || !s || s.level === 0) return hit.thumbnail;
  const { width, height } = hit.canvas;
  // Image API 3 refuses to scale up: a small image is asked for at its own size. A known size is
  // asked for exactly, rounded down (servers round `!w,h` differently; some then refuse their own result).
  const small = width !== undefined && height !== undefined && width <= THUMB && height <= THUMB;
  let size = `!${THUMB},${THUMB}`;
  if (small) size = s.version >= 3 ? 'max' : 'full';
  else if (width && height) {
    const scale = Math.min(THUMB / width, THUMB / height);
    const w = Math.max(1, Math.floor(width * scale));
    size = s.version >= 3 ? `${w},${Math.max(1, Math.floor(height * scale))}` : `${w},`;
  }
  return `${s.id.replace(/\/+$/, '')}/full/${size}/0/${s.version === 1 ? 'native' : 'default'}.jpg`;
}

/** A box that lies on the canvas, or undefined when it cannot be drawn (no size, empty, outside). */
export function drawableRegion(region: Box | undefined, width: number | undefined, height: number | undefined): Box | undefined {
  if (!region || !width || !height) return undefined;
  const x = Math.max(0, region.x);
  const y = Math.max(0, region.y);
  const w = Math.min(width, region.x + region.w) - x;
  const h = Math.min(height, region.y + region.h) - y;
  return w > 0 && h > 0 ? { x, y, w, h } : undefined;
}

/** Well-known rights URIs by a short name; others by host and path. */
export function rightsLabel(uri: string): string {
  const cc = /creativecommons\.org\/(licenses|publicdomain)\/([a-z-]+)\/([\d.]+)?/i.exec(uri);
  if (cc) {
    const kind = cc[2]!.toLowerCase();
    if (kind === 'zero') return 'CC0';
    if (kind === 'mark') return 'Public Domain Mark';
    return `CC ${kind.toUpperCase()} ${cc[3] ?? ''}`.trim();
  }
  const rs = /rightsstatements\.org\/vocab\/([\w-]+)\//i.exec(uri);
  if (rs) return rs[1]!;
  try {
    const u = new URL(uri);
    return `${u.host}${u.pathname}`.replace(/\/$/, '');
  } catch {
    return uri;
  }
}

export const xywhOf = (b: Box): string => `${Math.round(b.x)},${Math.round(b.y)},${Math.round(b.w)},${Math.round(b.h)}`;

/** A link for a hit from a template: `{id}`, `{canvas}`, `{manifest}` are filled in encoded, `{homepage}` as is. */
export function fillHref(template: string | undefined, hit: AnyHit): string | undefined {
  if (!template) return undefined;
  if (template.includes('{homepage}') && !hit.homepage) return undefined;
  return template
    .replaceAll('{id}', encodeURIComponent(hit.id))
    .replaceAll('{canvas}', encodeURIComponent(hit.canvas.id))
    .replaceAll('{manifest}', encodeURIComponent(hit.manifest.url || hit.manifest.id))
    .replaceAll('{homepage}', hit.homepage ?? '');
}

/**
 * The IIIF drag-and-drop link of a hit: its manifest with `manifest` (and `canvas`) as query
 * parameters, which IIIF viewers read from a dropped link.
 */
export function iiifDragHref(hit: Pick<AnyHit, 'manifest' | 'canvas'>): string {
  const manifest = hit.manifest.url || hit.manifest.id;
  const params = new URLSearchParams({ manifest });
  if (hit.canvas.id) params.set('canvas', hit.canvas.id);
  return `${manifest}${manifest.includes('?') ? '&' : '?'}${params}`;
}

/** Where on a canvas a region lies, in the ninths a reader names ("top left"), or `whole` when it covers most of it. */
export type PlaceOnCanvas = 'whole' | 'top-left' | 'top' | 'top-right' | 'left' | 'centre' | 'right' | 'bottom-left' | 'bottom' | 'bottom-right';

/** The place of a region on its canvas, from its centre; undefined when the canvas size is unknown. */
export function placeOnCanvas(region: Box, width: number | undefined, height: number | undefined): PlaceOnCanvas | undefined {
  if (!width || !height) return undefined;
  if (region.w * region.h >= 0.8 * width * height) return 'whole';
  const third = (centre: number, size: number) => (centre < size / 3 ? 0 : centre > (2 * size) / 3 ? 2 : 1);
  const col = third(region.x + region.w / 2, width);
  const row = third(region.y + region.h / 2, height);
  const rows = ['top', '', 'bottom'];
  const cols = ['left', '', 'right'];
  const name = [rows[row], cols[col]].filter(Boolean).join('-');
  return (name || 'centre') as PlaceOnCanvas;
}
