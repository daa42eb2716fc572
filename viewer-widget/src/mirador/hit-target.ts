import { parseXywh, type Box } from './geometry.ts';

/** What the viewer needs to show a hit: the canvas, the manifest to load it from, the region. */
export interface HitTarget {
  canvasId: string;
  /** The URL Mirador fetches the manifest from (falls back to the manifest id, which usually is one). */
  manifestUrl: string;
  /** Other names of the same manifest, to recognise it when it is already open under one of them. */
  manifestAliases: string[];
  region?: Box;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
const obj = (v: unknown): Record<string, unknown> | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;

function regionOf(value: unknown): Box | undefined {
  if (typeof value === 'string') return parseXywh(value);
  const r = obj(value);
  if (!r) return undefined;
  const [x, y, w, h] = [r.x, r.y, r.w ?? r.width, r.h ?? r.height];
  if ([x, y, w, h].every((n) => typeof n === 'number' && Number.isFinite(n)) && (w as number) > 0 && (h as number) > 0) {
    return { x: x as number, y: y as number, w: w as number, h: h as number };
  }
  return undefined;
}

/**
 * Reads a hit as the API sends it ({canvas: {id}, manifest: {id, url}, region: {x, y, w, h}}) or
 * as the widget flattens it (canvasId, manifestId, manifestUrl, xywh). Undefined when the hit
 * names no canvas or no manifest: there is nothing to open then.
 */
export function hitTarget(hit: unknown): HitTarget | undefined {
  const h = obj(hit);
  if (!h) return undefined;
  const canvas = obj(h.canvas);
  const manifest = obj(h.manifest);
  const canvasId = str(h.canvasId) ?? str(canvas?.id) ?? str(h.canvas);
  const names = [str(h.manifestUrl), str(manifest?.url), str(h.manifestId), str(manifest?.id), str(h.manifest)].filter(
    (v): v is string => v !== undefined,
  );
  if (!canvasId || names.length === 0) return undefined;
  const region = regionOf(h.region) ?? regionOf(h.xywh);
  return { canvasId, manifestUrl: names[0]!, manifestAliases: [...new Set(names)], ...(region ? { region } : {}) };
}
