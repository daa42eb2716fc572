/**
 * Store hits as the API shows them: what a portal needs to draw a result (label, thumbnail, the
 * region that matched), to credit it (rights, required statement) and to link to it (homepage,
 * canvas and manifest ids for a viewer), without the harvester's internals.
 */
import type { LabelValue, LanguageMap } from '../harvester/index.ts';
import type { IndexedRecord } from '../harvester/index.ts';
import { regionLabel, regionOfItem } from '../harvester/index.ts';
import type { Box, ItemFields, SearchHit } from '../store/index.ts';
import type { ShapedHit, ShapedItem, ShapedItemDetails } from './response-schemas.ts';
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

export const roundBox = (b: Box): Box => ({ x: Math.round(b.x), y: Math.round(b.y), w: Math.round(b.w), h: Math.round(b.h) });

// The shapes are the API's contract (response-schemas.ts): building one that lacks a field is a type error here.
export type { ShapedItem, ShapedHit, ShapedItemDetails } from './response-schemas.ts';

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

/**
 * The region of a hit or an item: the one that matched (a region vector of the canvas), else the one
 * a region item is; with the target a viewer opens (`canvas#xywh=`) and the region item's own words.
 */
export function regionFields(item: ItemFields, matched?: Box): { region?: Box; target?: string; regionLabel?: string } {
  const own = regionOfItem(item);
  const box = matched ?? own?.box;
  if (!box) return {};
  const region = roundBox(box);
  return omitUndefined({
    region,
    target: regionTarget(item.canvasId, region),
    regionLabel: regionLabel(own),
  });
}

/** What a viewer opens for a box of a canvas: `canvas#xywh=x,y,w,h` (the box in whole pixels). */
export const regionTarget = (canvasId: string, box: Box): string => `${canvasId}#xywh=${box.x},${box.y},${box.w},${box.h}`;

export function shapeHit(hit: SearchHit): ShapedHit {
  const region = regionFields(hit.item, hit.region);
  return omitUndefined({ ...shapeItem(hit.item, region.region), score: hit.score, ...region });
}

export function shapeItemDetails(item: ItemFields): ShapedItemDetails {
  const r = (item.record ?? {}) as Record_;
  const region = regionFields(item);
  return omitUndefined({
    ...shapeItem(item, region.region),
    ...region,
    summary: displayText(r.summary),
    metadata: (r.metadata ?? []).flatMap((m) => {
      const lv = labelValue(m);
      return lv ? [lv] : [];
    }),
    labels: item.labels ?? [],
    labelScores: labelScores(item),
    source: item.source,
    image: r.image ? omitUndefined({ url: r.image.url, width: r.image.width, height: r.image.height }) : undefined,
  });
}

/** The probability the model gave each of its labels (harvester/item-labels.ts keeps them in the record). */
function labelScores(item: ItemFields): Record<string, number> | undefined {
  const scores = (item.record as Record<string, unknown> | undefined)?.labelScores;
  if (!scores || typeof scores !== 'object' || Array.isArray(scores)) return undefined;
  const out = Object.entries(scores).filter(([label, p]) => (item.labels ?? []).includes(label) && typeof p === 'number');
  return out.length ? Object.fromEntries(out) : undefined;
}
