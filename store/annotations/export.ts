/**
 * The vectors of a manifest, a collection or the whole index as pages of embedding annotations
 * (format.ts): one annotation for each whole image and one for each region.
 */
import { StoreError } from '../errors.ts';
import type { Box, ItemFields, ItemFilter, ScannedItem, VectorStore } from '../types.ts';
import { EMBEDDINGS_CONTEXT, PRESENTATION_CONTEXT, modelDescription, toEmbeddingAnnotation, type EmbeddingModel } from './format.ts';

export interface ExportPageOptions {
  filter?: ItemFilter;
  /** Items per page (each gives one annotation for its image and one per region). */
  limit: number;
  /** The `next` cursor of the page before. */
  after?: string;
  /** The id (URL) of the page that starts after a cursor, or of the first page. */
  pageId(after?: string): string;
  /** The id of an item's annotation: `ord` 0 is the whole image, 1… its regions. */
  annotationId(itemId: string, ord: number): string;
  /** The part of its canvas an item is, for items that are one (the harvester's region items): its vector then targets that region. */
  regionOf?: RegionOf;
}

/** The part of its canvas an item is (in canvas coordinates), when it is not the whole canvas. */
export type RegionOf = (item: ItemFields) => Box | undefined;

/** The index holds no vectors: nothing to export. */
export class NoEmbeddingsError extends StoreError {
  override name = 'NoEmbeddingsError';
}

/** The model of the index's vectors, as annotations describe it; an index no model has embedded has nothing to export. */
export async function exportedModel(store: VectorStore): Promise<EmbeddingModel> {
  const stats = await store.stats();
  if (!stats.modelId || !stats.dimensions) {
    throw new NoEmbeddingsError('the index holds no vectors yet (no harvest with a model has embedded it): there are no embeddings to export');
  }
  return modelDescription(stats.modelId, stats.dimensions);
}

/** The annotations of one scanned item: none for an item stored without a vector. */
export function itemAnnotations(
  scanned: ScannedItem,
  model: EmbeddingModel,
  annotationId: (itemId: string, ord: number) => string,
  regionOf?: RegionOf,
): Array<Record<string, unknown>> {
  const { item, vector, regions } = scanned;
  if (!vector) return [];
  const itself = regionOf?.(item);
  const record = item.record as { width?: unknown; height?: unknown };
  const canvas = {
    id: item.canvasId,
    ...(typeof record.width === 'number' && typeof record.height === 'number' ? { width: record.width, height: record.height } : {}),
    // The URL the manifest was harvested from: its id, but for manifests whose id does not resolve.
    manifest: item.manifestUrl,
  };
  return [
    toEmbeddingAnnotation({ id: annotationId(item.id, 0), canvas, ...(itself ? { box: itself } : {}), vector, model }),
    ...regions.map((r, i) => toEmbeddingAnnotation({ id: annotationId(item.id, i + 1), canvas, box: r.box, vector: r.vector, model })),
  ];
}

/** One AnnotationPage of embeddings, linked to the next by `next` while there are more items. */
export async function exportEmbeddingPage(store: VectorStore, opts: ExportPageOptions): Promise<Record<string, unknown>> {
  const model = await exportedModel(store);
  const page = await store.scan({ limit: opts.limit, ...(opts.filter ? { filter: opts.filter } : {}), ...(opts.after !== undefined ? { after: opts.after } : {}) });
  return {
    '@context': [EMBEDDINGS_CONTEXT, PRESENTATION_CONTEXT],
    id: opts.pageId(opts.after),
    type: 'AnnotationPage',
    items: page.items.flatMap((s) => itemAnnotations(s, model, opts.annotationId, opts.regionOf)),
    ...(page.next !== undefined ? { next: { id: opts.pageId(page.next), type: 'AnnotationPage' } } : {}),
  };
}
