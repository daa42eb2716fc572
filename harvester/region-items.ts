/**
 * Region items: the parts of a canvas the institution annotated (CanvasRecord.regions), each an
 * item of the index beside its canvas. They travel with their canvas through the journal and the
 * pipeline (one image fetched, one journal row), and the stages store them when they store the
 * canvas; their ids derive from the canvas's and the box, so indexing again replaces them, and a
 * region that left the canvas's record leaves the index with it (journal.ts).
 */
import type { ItemFields } from '../store/index.ts';
import type { CanvasBox, CanvasRegion } from './iiif/types.ts';
import type { IndexedRecord } from './stage.ts';

/** What a region item's record adds to its canvas's record: the region, and the canvas item it belongs to. */
export interface RegionOfCanvas extends CanvasRegion {
  canvasItemId: string;
}

/** The record of a region item: its canvas's (less the list of regions) with the region. */
export type RegionRecord = Omit<IndexedRecord, 'regions'> & { region: RegionOfCanvas };

/** Longest label a region item takes from its annotations' text. */
const MAX_LABEL_CHARS = 200;

/** `{canvas item id}-xywh-x-y-w-h`: stable, tells its canvas, and valid wherever an item id is (letters, digits, -). */
export function regionItemId(canvasItemId: string, box: CanvasBox): string {
  return `${canvasItemId}-xywh-${box.x}-${box.y}-${box.w}-${box.h}`;
}

const REGION_ID = /-xywh-\d+-\d+-\d+-\d+$/;

/** How many of these item ids are canvases, not region items (for counts of canvases). */
export function countCanvases(itemIds: string[]): number {
  return itemIds.filter((id) => !REGION_ID.test(id)).length;
}

/** The region items of a canvas, as the stages store them. */
export function regionRecords(canvasItemId: string, record: IndexedRecord): Array<{ itemId: string; record: RegionRecord }> {
  const { regions, ...canvas } = record;
  return (regions ?? []).map((region) => ({
    itemId: regionItemId(canvasItemId, region.box),
    record: { ...canvas, region: { ...region, canvasItemId } },
  }));
}

/** The ids of a canvas's region items. */
export function regionItemIds(canvasItemId: string, record: Pick<IndexedRecord, 'regions'> | undefined): string[] {
  return (record?.regions ?? []).map((r) => regionItemId(canvasItemId, r.box));
}

/** The same, from the record as the journal keeps it (JSON); none when it cannot be read. */
export function regionItemIdsOfJson(canvasItemId: string, recordJson: string | null | undefined): string[] {
  if (!recordJson || !recordJson.includes('"regions"')) return [];
  try {
    const record = JSON.parse(recordJson) as Pick<IndexedRecord, 'regions'>;
    return Array.isArray(record.regions) ? regionItemIds(canvasItemId, record) : [];
  } catch {
    return [];
  }
}

const isBox = (b: unknown): b is CanvasBox =>
  typeof b === 'object' && b !== null && (['x', 'y', 'w', 'h'] as const).every((k) => typeof (b as Record<string, unknown>)[k] === 'number');

/** The region an indexed item is, when it is a region item (read from its stored record, trusting nothing). */
export function regionOfItem(item: Pick<ItemFields, 'record'> | undefined): RegionOfCanvas | undefined {
  const region = (item?.record as { region?: unknown } | undefined)?.region;
  if (typeof region !== 'object' || region === null) return undefined;
  const r = region as Partial<RegionOfCanvas>;
  if (!isBox(r.box) || typeof r.canvasItemId !== 'string') return undefined;
  return {
    box: r.box,
    canvasItemId: r.canvasItemId,
    text: Array.isArray(r.text) ? r.text.filter((t): t is string => typeof t === 'string') : [],
    motivations: Array.isArray(r.motivations) ? r.motivations.filter((t): t is string => typeof t === 'string') : [],
    annotations: Array.isArray(r.annotations) ? r.annotations.filter((t): t is string => typeof t === 'string') : [],
  };
}

/** What to call a region: its annotations' first text, on one line and bounded. */
export function regionLabel(region: Pick<CanvasRegion, 'text'> | undefined): string | undefined {
  const first = region?.text.find((t) => t.trim());
  if (!first) return undefined;
  const line = first.replace(/\s+/g, ' ').trim();
  return line.length > MAX_LABEL_CHARS ? `${line.slice(0, MAX_LABEL_CHARS - 1)}…` : line;
}
