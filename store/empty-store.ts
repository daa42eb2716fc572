import { StoreError } from './errors.ts';
import type { FacetField, ItemFields, ScanPage, SearchResult, StoreStats, UpsertItem, VectorStore } from './types.ts';

const NO_SCHEMA = 'no vector index yet: it is created by the first harvest with a model ("reprise models pull <name>", then harvest again)';

/**
 * A vector store that holds nothing: every search finds nothing and item lookups miss. For tests
 * of what does not depend on the index (servers open the configured store, with or without a
 * model). Writing to it is a bug in the caller, not a user error.
 */
export class EmptyStore implements VectorStore {
  async open(): Promise<void> {}

  async upsert(_items: UpsertItem[]): Promise<void> {
    throw new StoreError(NO_SCHEMA);
  }

  async updateFields(_items: ItemFields[]): Promise<void> {}

  async delete(_ids: string[]): Promise<void> {}

  async deleteWhere(): Promise<number> {
    return 0;
  }

  async get(): Promise<ItemFields | undefined> {
    return undefined;
  }

  async vectors(ids: string[]): Promise<Array<Float32Array | undefined>> {
    return ids.map(() => undefined);
  }

  async nearest(): Promise<SearchResult> {
    return { hits: [], total: 0 };
  }

  async similar(): Promise<SearchResult> {
    return { hits: [], total: 0 };
  }

  async keyword(): Promise<SearchResult> {
    return { hits: [], total: 0 };
  }

  async hybrid(): Promise<SearchResult> {
    return { hits: [], total: 0 };
  }

  async facets(fields: FacetField[]): Promise<Record<FacetField, Record<string, number>>> {
    return Object.fromEntries(fields.map((f) => [f, {}])) as Record<FacetField, Record<string, number>>;
  }

  async scan(): Promise<ScanPage> {
    return { items: [] };
  }

  async stats(): Promise<StoreStats> {
    return { items: 0, vectors: 0, itemsWithoutVectors: 0 };
  }

  async close(): Promise<void> {}
}
