/**
 * Finding an indexed item from a canvas id, as a viewer knows it. The VectorStore interface has no
 * canvas filter, so the lookup goes through what it has: the item id is derived from the manifest
 * URL and the canvas id (direct `get`), and failing that, the manifest's items are listed with a
 * filtered keyword search without words. Without a manifest, the manifests whose ids share the longest prefix with
 * the canvas id are tried (IIIF canvas ids usually extend their manifest's).
 */
import type { IndexedRecord } from '../harvester/index.ts';
import { itemIdOf, regionOfItem } from '../harvester/index.ts';
import type { Box, ItemFields, VectorStore } from '../store/index.ts';
import { parseXywh, XywhError } from './iiif-requests.ts';
import { invalidParams, notFound } from './problems.ts';

/** Manifests tried when the caller did not say which one holds the canvas. */
const CANDIDATE_MANIFESTS = 3;
/** Items listed per manifest at most (10 pages): beyond it, the caller must name the manifest's canvas exactly. */
const MAX_SCAN = 10_000;
const PAGE = 1000;

export type StoreCall = <T>(operation: string, fn: (store: VectorStore) => Promise<T>) => Promise<T>;

const commonPrefix = (a: string, b: string) => {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
};

export async function findCanvas(call: StoreCall, canvasId: string, manifest?: string): Promise<ItemFields | undefined> {
  const manifests = manifest !== undefined ? [manifest] : await candidateManifests(call, canvasId);
  for (const m of manifests) {
    const direct = await call('get', (s) => s.get(itemIdOf(m, canvasId)));
    if (direct?.canvasId === canvasId) return direct;
  }
  for (const m of manifests) {
    const found = await scanManifest(call, m, canvasId);
    if (found) return found;
  }
  return undefined;
}

async function candidateManifests(call: StoreCall, canvasId: string): Promise<string[]> {
  const facets = await call('facets', (s) => s.facets(['manifest']));
  return Object.keys(facets.manifest ?? {})
    .map((m) => ({ m, shared: commonPrefix(m, canvasId) }))
    .sort((a, b) => b.shared - a.shared)
    .slice(0, CANDIDATE_MANIFESTS)
    .map((c) => c.m);
}

/**
 * Every item of a manifest, page by page, by a filtered keyword search without words (which lists
 * the items, those stored without vectors included).
 */
async function scanManifest(call: StoreCall, manifest: string, canvasId: string): Promise<ItemFields | undefined> {
  for (let offset = 0; offset < MAX_SCAN; offset += PAGE) {
    const { hits } = await call('keyword', (s) => s.keyword('', { limit: PAGE, offset, filter: { manifest } }));
    // Region items (annotated parts of a canvas) share their canvas's id: the canvas is the item without a region.
    const hit = hits.find((h) => h.item.canvasId === canvasId && !regionOfItem(h.item));
    if (hit) return hit.item;
    if (hits.length < PAGE) return undefined;
  }
  return undefined;
}

/**
 * A box drawn on an indexed canvas, as image and reprint search take it: the item, its record and
 * the box in canvas coordinates; 404 for an unknown canvas, 400 for a box that does not fit it.
 */
export async function canvasBox(
  call: StoreCall,
  source: { canvas: string; xywh: string; manifest?: string },
): Promise<{ item: ItemFields; record: Partial<IndexedRecord>; box: Box }> {
  const item = await findCanvas(call, source.canvas, source.manifest);
  if (!item) {
    throw notFound(
      `no indexed canvas has the id ${JSON.stringify(source.canvas)}` +
        (source.manifest === undefined ? '; if it is indexed, give its manifest too ("manifest")' : ` in the manifest ${JSON.stringify(source.manifest)}`),
    );
  }
  const record = item.record as Partial<IndexedRecord>;
  try {
    return { item, record, box: parseXywh(source.xywh, { width: record.width, height: record.height }) };
  } catch (err) {
    if (err instanceof XywhError) throw invalidParams([{ name: 'xywh', in: 'body', reason: err.message }]);
    throw err;
  }
}
