/**
 * Store hits as the API shows them: what a portal needs to draw a result (label, thumbnail, the
 * region that matched), to credit it (rights, required statement) and to link to it (homepage,
 * canvas and manifest ids for a viewer), without the harvester's internals.
 */
import type { LabelValue, LanguageMap } from '../harvester/iiif/types.ts';
import type { IndexedRecord } from '../harvester/stage.ts';
import type { Box, ItemFields, SearchHit } from '../store/types.ts';
import { thumbnailUrl } from './thumbnails.ts';

type Record_ = Partial<IndexedRecord>;

/** The display value of a language map: English, then language-neutral, then any. */
export function displayText(map: LanguageMap | undefined): string | undefined {
  if (!map || typeof map !== 'object') return undefined;
  const values = map.en ?? map.none ?? Object.values(map).find((v) => Array.isArray(v) && v.length);
  const text = values?.filter((v) => typeof v === 'string').join('; ');
  return text || undefined;
}

const labelValue = (lv: LabelValue | undefined) => {
  const value = displayText(lv?.value);
  return value === undefined ? undefined : { label: displayText(lv?.label) ?? '', value };
};

const roundBox = (b: Box): Box => ({ x: Math.round(b.x), y: Math.round(b.y), w: Math.round(b.w), h: Math.round(b.h) });

export interface ShapedItem {
  id: string;
  canvas: { id: string; label?: string; index?: number; width?: number; height?: number };
  manifest: { id: string; url: string; label?: string };
  thumbnail?: string;
  rights?: string;
  requiredStatement?: { label: string; value: string };
  homepage?: string;
  date?: string;
  collections: string[];
  /** For deep-zoom viewers: the image service of the canvas, when it has one. */
  imageService?: { id: string; version: number; level?: number };
}

export interface ShapedHit extends ShapedItem {
  score: number;
  /** The part of the canvas that matched, in canvas coordinates, when a region matched better than the whole. */
  region?: Box;
}

export interface ShapedItemDetails extends ShapedItem {
  summary?: string;
  metadata: Array<{ label: string; value: string }>;
  labels: string[];
  source?: string;
  image?: { url: string; width?: number; height?: number };
}

function omitUndefined<T extends object>(o: T): T {
  for (const key of Object.keys(o) as Array<keyof T>) if (o[key] === undefined) delete o[key];
  return o;
}

export function shapeItem(item: ItemFields, region?: Box): ShapedItem {
  const r = (item.record ?? {}) as Record_;
  const service = r.image?.service;
  return omitUndefined({
    id: item.id,
    canvas: omitUndefined({ id: item.canvasId, label: displayText(r.label) ?? (item.label || undefined), index: r.index, width: r.width, height: r.height }),
    manifest: omitUndefined({ id: item.manifestId, url: item.manifestUrl, label: displayText(r.manifestLabel) }),
    thumbnail: thumbnailUrl(r, region),
    rights: item.rights ?? r.rights,
    requiredStatement: labelValue(r.requiredStatement),
    homepage: r.homepage,
    date: item.date,
    collections: item.collections ?? [],
    imageService: service ? omitUndefined({ id: service.id, version: service.version, level: service.level }) : undefined,
  });
}

export function shapeHit(hit: SearchHit): ShapedHit {
  const region = hit.region ? roundBox(hit.region) : undefined;
  return omitUndefined({ ...shapeItem(hit.item, region), score: hit.score, region });
}

export function shapeItemDetails(item: ItemFields): ShapedItemDetails {
  const r = (item.record ?? {}) as Record_;
  return omitUndefined({
    ...shapeItem(item),
    summary: displayText(r.summary),
    metadata: (r.metadata ?? []).flatMap((m) => {
      const lv = labelValue(m);
      return lv ? [lv] : [];
    }),
    labels: item.labels ?? [],
    source: item.source,
    image: r.image ? omitUndefined({ url: r.image.url, width: r.image.width, height: r.image.height }) : undefined,
  });
}
