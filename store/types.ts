/**
 * One interface for both vector stores (the embedded default and Meilisearch), and one
 * test suite for both (test/store/store-suite.ts).
 *
 * Scores are comparable between the stores: vector search scores are the cosine similarity
 * of L2-normalised vectors (−1…1); keyword and hybrid scores are ranking scores (0…1) computed
 * the way Meilisearch computes them.
 */

/** A box in canvas coordinates: x, y from the top left, width, height. */
export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** What the index keeps of a canvas: flat fields to filter and facet on, plus the record as the harvester gave it. */
export interface ItemFields {
  /** Stable id (the harvester's itemId: 32 hex characters; a region item adds `-xywh-x-y-w-h`). */
  id: string;
  canvasId: string;
  manifestId: string;
  /** The URL the manifest was fetched from. */
  manifestUrl: string;
  /** The harvest source (collection, change stream or manifest URL) the item came from. */
  source?: string;
  /** Collection labels from the root down; a filter on one matches items anywhere below it. */
  collections: string[];
  /** Display label of the canvas (first value of its language map). */
  label: string;
  /** Free tags to filter and facet on (e.g. metadata subjects), as the indexing stage chooses. */
  labels: string[];
  /** navDate as ISO 8601, when the manifest gives one. */
  date?: string;
  /** The rights URI (normalised by the harvester: one value per licence) or statement. */
  rights?: string;
  /** Metadata facets: facet name (creator, subject, …) → values, as the harvester files them (config facets.metadata). */
  facets?: Record<string, string[]>;
  /** Searchable text: labels, manifest label, summary, metadata values. */
  text: string;
  /** The harvester's record (IndexedRecord), returned as stored. */
  record: Record<string, unknown>;
}

/** An item to upsert with its vectors (the whole image first, then regions). */
export interface StoreItem extends ItemFields {
  /** L2-normalised embedding of the whole image. */
  vector: Float32Array;
  /** Extra vectors of the same item, each for a region of the canvas. */
  regions?: Array<{ box: Box; vector: Float32Array }>;
}

/**
 * What upsert takes: an item with its vectors, or its fields alone (harvested without a model).
 * An item without vectors is found by get, keyword search, facets and filters, and left out by
 * vector search and similar items until it is upserted again with a vector; upserting an item
 * without vectors drops the vectors it had.
 */
export type UpsertItem = StoreItem | ItemFields;

/** An item with every vector it has, as scan() pages them (embedding exports, the collection map). */
export interface ScannedItem {
  item: ItemFields;
  /** The whole-image vector; absent for an item stored without a vector. */
  vector?: Float32Array;
  /** Region vectors, in the order they were given. */
  regions: Array<{ box: Box; vector: Float32Array }>;
}

/** One page of a scan; `next` is the cursor of the following page, absent on the last. */
export interface ScanPage {
  items: ScannedItem[];
  next?: string;
}

export interface ItemFilter {
  manifest?: string | string[];
  collection?: string | string[];
  /** Inclusive bounds on `date`, as ISO 8601 (a year alone, "1936", is allowed). */
  dateFrom?: string;
  dateTo?: string;
  rights?: string | string[];
  labels?: string | string[];
  source?: string | string[];
  /** Metadata facets: name → values; values of one name are ORed, names ANDed. */
  meta?: Record<string, string[]>;
}

/**
 * Fields to count values of: the filterable fields, `decade` and `year` of the date (1930s, 1936),
 * and `meta.<name>` for a metadata facet (meta.creator, meta.subject, …).
 */
export type FacetField = 'manifest' | 'collection' | 'rights' | 'labels' | 'source' | 'decade' | 'year' | `meta.${string}`;

export const FIXED_FACETS = ['manifest', 'collection', 'rights', 'labels', 'source', 'decade', 'year'] as const;
/** A metadata facet's name, as `meta.<name>` takes it. */
export const META_FACET_NAME = /^[a-z][a-z0-9_-]{0,39}$/;

export function isFacetField(field: string): field is FacetField {
  return (FIXED_FACETS as readonly string[]).includes(field) || (field.startsWith('meta.') && META_FACET_NAME.test(field.slice(5)));
}

export interface Page {
  limit: number;
  offset?: number;
}

export interface SearchHit {
  id: string;
  score: number;
  item: ItemFields;
  /** When a region vector matched better than the whole image (where the store can tell). */
  region?: Box;
}

export interface SearchResult {
  hits: SearchHit[];
  /** Number of matching items when the store knows it (estimated for vector search). */
  total?: number;
}

export interface StoreSchema {
  /** Model that made the vectors; an index holds vectors of one model only. */
  modelId: string;
  dimensions: number;
}

/** What the index holds; modelId and dimensions are absent while no model has opened it (items without vectors only). */
export interface StoreStats extends Partial<StoreSchema> {
  items: number;
  /** Whole-image plus region vectors. */
  vectors: number;
  /** Items stored without a vector (harvested without a model): not found by vector search or similar items yet. */
  itemsWithoutVectors: number;
}

export interface VectorStore {
  /**
   * Creates the index or checks that it was built for the same model and dimensions. Without a
   * schema (no model), opens the index as it is, creating it when there is none, to hold items
   * without vectors and answer everything that needs no model; the first open with a schema then
   * records that model's, and a store opened without one follows a schema another process recorded.
   */
  open(schema?: StoreSchema): Promise<void>;
  upsert(items: UpsertItem[]): Promise<void>;
  /**
   * Replaces the fields of items already indexed and keeps their vectors (metadata changed,
   * pixels did not); ids not in the index are ignored.
   */
  updateFields(items: ItemFields[]): Promise<void>;
  delete(ids: string[]): Promise<void>;
  /** Removes every item of these manifests (by manifest URL or id) or sources; returns how many. */
  deleteWhere(where: { manifest?: string[]; source?: string[] }): Promise<number>;
  get(id: string): Promise<ItemFields | undefined>;
  /** Whole-image vectors of indexed items, in the order asked; undefined for ids not in the index or stored without a vector. */
  vectors(ids: string[]): Promise<Array<Float32Array | undefined>>;
  /** Nearest neighbours of a vector by cosine similarity, among the items that have vectors (none while the index has no schema). */
  nearest(vector: Float32Array, opts: Page & { filter?: ItemFilter }): Promise<SearchResult>;
  /**
   * Nearest neighbours of an indexed item's whole-image vector, the item itself excluded; no hits
   * for an item stored without a vector. An id not in the index is an InvalidQueryError.
   */
  similar(id: string, opts: Page & { filter?: ItemFilter }): Promise<SearchResult>;
  keyword(query: string, opts: Page & { filter?: ItemFilter }): Promise<SearchResult>;
  /** Keyword and vector results merged; semanticRatio 0 is keyword only, 1 vector only (items without vectors match by keywords only). */
  hybrid(query: string, vector: Float32Array, opts: Page & { filter?: ItemFilter; semanticRatio: number }): Promise<SearchResult>;
  /**
   * Every item passing the filter with all its vectors, a page at a time in a stable order:
   * `after` is the `next` of the page before (opaque, valid for this store only). Pages are read
   * while writes may happen: an item written meanwhile may be seen or not, but none is seen twice
   * by the embedded store. With `vectors: false`, items come without their vectors (cheaper).
   */
  scan(opts: { filter?: ItemFilter; limit: number; after?: string; vectors?: boolean }): Promise<ScanPage>;
  facets(fields: FacetField[], filter?: ItemFilter): Promise<Record<FacetField, Record<string, number>>>;
  stats(): Promise<StoreStats>;
  close(): Promise<void>;
}
