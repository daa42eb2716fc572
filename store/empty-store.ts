import { StoreError } from './errors.ts';
import type { FacetField, ItemFields, SearchResult, StoreItem, StoreStats, VectorStore } from './types.ts';

const NO_SCHEMA = 'no vector index yet: it is created by the first harvest with a model ("reprise models pull <name>", then harvest again)';

/**
 * The vector store of a server started before any index exists and without a model to create
 * one (`reprise start` offline on a first run): it holds nothing, so every search finds nothing
 * and item lookups miss, while what needs no vectors (reprints, harvesting, the demo) works.
 * Writing to it is a bug in the caller, not a user error.
 */
export class EmptyStore implements VectorStore {
  async open(): Promise<void> {}

  async upsert(_items: StoreItem[]): Promise<void> {
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

  async stats(): Promise<StoreStats> {
    return { modelId: '', dimensions: 0, items: 0, vectors: 0 };
  }

  async close(): Promise<void> {}
}
