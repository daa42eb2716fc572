import path from 'node:path';
import type { StoreConfig } from '../config/schema.ts';
import { EmbeddedStore } from './embedded/embedded-store.ts';
import { MeilisearchStore } from './meilisearch/index.ts';
import type { StoreSchema, VectorStore } from './types.ts';

export type * from './types.ts';
export * from './errors.ts';

/** The configured store, opened for one model (or without one: items without vectors): the embedded default under dataDir, or Meilisearch. */
export async function openStore(config: StoreConfig, dataDir: string, schema?: StoreSchema): Promise<VectorStore> {
  const store: VectorStore =
    config.kind === 'meilisearch'
      ? MeilisearchStore.fromConfig(config)
      : new EmbeddedStore({ dir: path.join(dataDir, 'index'), index: config.index, ...config.embedded });
  try {
    await store.open(schema);
  } catch (err) {
    await store.close().catch(() => {});
    throw err;
  }
  return store;
}
