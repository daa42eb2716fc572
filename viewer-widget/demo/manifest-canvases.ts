/**
 * The canvases of a IIIF Presentation 2 or 3 manifest, as the demo viewer needs them: id,
 * label, size, and what OpenSeadragon opens (the image service's info.json, else the image).
 * Deliberately small: a portal has its own manifest reader; this one only feeds the demo.
 */
import type { ViewerCanvas } from '/widget/reprise-widget.js';

type Json = Record<string, unknown>;

const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined || v === null ? [] : [v]);
const idOf = (v: unknown): string | undefined => {
  if (typeof v === 'string') return v;
  const o = v as Json | undefined;
  const id = o?.id ?? o?.['@id'];
  return typeof id === 'string' ? id.trim() : undefined;
};

/** A v3 language map, a v2 string, or a v2 list of {@value, @language}. */
export function labelText(label: unknown, lang = 'en'): string | undefined {
  if (typeof label === 'string') return label;
  if (Array.isArray(label)) {
    const values = label.map((l) => (typeof l === 'string' ? l : ((l as Json)?.['@value'] as string | undefined))).filter(Boolean);
    return values.join('; ') || undefined;
  }
  if (label && typeof label === 'object') {
    const map = label as Record<string, unknown>;
    const values = (map[lang] ?? map.en ?? map.none ?? Object.values(map)[0]) as unknown;
    return Array.isArray(values) ? values.filter((v) => typeof v === 'string').join('; ') || undefined : undefined;
  }
  return undefined;
}

function imageService(body: Json): string | undefined {
  for (const s of asArray(body.service)) {
    const o = s as Json;
    const type = String(o.type ?? o['@type'] ?? '');
    const context = String(o['@context'] ?? '');
    const profile = JSON.stringify(o.profile ?? '');
    if (/ImageService/.test(type) || /iiif\.io\/api\/image/.test(context) || /iiif\.io\/api\/image/.test(profile)) {
      const id = idOf(o);
      if (id) return id.replace(/\/+$/, '');
    }
  }
  return undefined;
}

function tileSource(body: Json | undefined): ViewerCanvas['tileSource'] | undefined {
  if (!body) return undefined;
  const type = String(body.type ?? body['@type'] ?? '');
  // A Choice: its first (v3) or default (v2) item.
  if (/Choice/.test(type)) return tileSource((body.default ?? asArray(body.items)[0]) as Json | undefined);
  const service = imageService(body);
  if (service) return `${service}/info.json`;
  const url = idOf(body);
  return url ? { type: 'image', url } : undefined;
}

export function manifestCanvases(manifest: Json, manifestId: string, lang = 'en'): ViewerCanvas[] {
  const v3 = Array.isArray(manifest.items);
  const canvases = v3 ? (manifest.items as Json[]) : (asArray((asArray(manifest.sequences)[0] as Json | undefined)?.canvases) as Json[]);
  const out: ViewerCanvas[] = [];
  for (const c of canvases) {
    const id = idOf(c);
    const body = v3
      ? (asArray((asArray((asArray(c.items)[0] as Json | undefined)?.items)[0] as Json | undefined)?.body)[0] as Json | undefined)
      : ((asArray(c.images)[0] as Json | undefined)?.resource as Json | undefined);
    const source = tileSource(body);
    if (!id || !source) continue;
    const width = Number(c.width);
    const height = Number(c.height);
    out.push({
      canvas: id,
      manifest: manifestId,
      label: labelText(c.label, lang),
      ...(width > 0 ? { width } : {}),
      ...(height > 0 ? { height } : {}),
      tileSource: source,
    });
  }
  return out;
}
