import path from 'node:path';
import type { StoreConfig } from '../config/index.ts';
import { EmbeddedStore } from './embedded/embedded-store.ts';
import { MeilisearchStore } from './meilisearch/index.ts';
import type { StoreSchema, VectorStore } from './types.ts';

export type * from './types.ts';
export { isFacetField } from './types.ts';
export * from './errors.ts';

/**
 * The configured store, opened for one model (or without one: items without vectors): the embedded default under dataDir, or Meilisearch.
 * role: the embedded store's (`reprise serve --workers`: one writer, the other processes readers that map its index file); Meilisearch is a server and needs none.
 */
export async function openStore(config: StoreConfig, dataDir: string, schema?: StoreSchema, options: { role?: 'writer' | 'reader' } = {}): Promise<VectorStore> {
  const store: VectorStore =
    config.kind === 'meilisearch'
      ? MeilisearchStore.fromConfig(config)
      : new EmbeddedStore({ dir: path.join(dataDir, 'index'), index: config.index, ...config.embedded, ...(options.role ? { role: options.role } : {}) });
  try {
    await store.open(schema);
  } catch (err) {
    await store.close().catch(() => {});
    throw err;
  }
  return store;
}
export { exportedModel, exportEmbeddingPage, itemAnnotations, NoEmbeddingsError } from './annotations/export.ts';
export { annotationsOfPage, EmbeddingAnnotationError, EMBEDDINGS_CONTEXT, type ParsedEmbedding, parseEmbeddingAnnotation, PRESENTATION_CONTEXT } from './annotations/format.ts';
export { nearestNeighbours } from './embedded/neighbour-graph.ts';
