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
  /** Stable id (the harvester's itemId: 32 hex characters). */
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
  rights?: string;
  /** Searchable text: labels, manifest label, summary, metadata values. */
  text: string;
  /** The harvester's record (IndexedRecord), returned as stored. */
  record: Record<string, unknown>;
}

/** An item to upsert: its fields and its vectors (the whole image first, then regions). */
export interface StoreItem extends ItemFields {
  /** L2-normalised embedding of the whole image. */
  vector: Float32Array;
  /** Extra vectors of the same item, each for a region of the canvas. */
  regions?: Array<{ box: Box; vector: Float32Array }>;
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
}

export type FacetField = 'manifest' | 'collection' | 'rights' | 'labels' | 'source';

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

export interface StoreStats extends StoreSchema {
  items: number;
  /** Whole-image plus region vectors. */
  vectors: number;
}

export interface VectorStore {
  /** Creates the index or checks that it was built for the same model and dimensions. */
  open(schema: StoreSchema): Promise<void>;
  upsert(items: StoreItem[]): Promise<void>;
  /**
   * Replaces the fields of items already indexed and keeps their vectors (metadata changed,
   * pixels did not); ids not in the index are ignored.
   */
  updateFields(items: ItemFields[]): Promise<void>;
  delete(ids: string[]): Promise<void>;
  /** Removes every item of these manifests (by manifest URL or id) or sources; returns how many. */
  deleteWhere(where: { manifest?: string[]; source?: string[] }): Promise<number>;
  get(id: string): Promise<ItemFields | undefined>;
  /** Whole-image vectors of indexed items, in the order asked; undefined for ids not in the index. */
  vectors(ids: string[]): Promise<Array<Float32Array | undefined>>;
  /** Nearest neighbours of a vector by cosine similarity. */
  nearest(vector: Float32Array, opts: Page & { filter?: ItemFilter }): Promise<SearchResult>;
  /** Nearest neighbours of an indexed item's whole-image vector, the item itself excluded. */
  similar(id: string, opts: Page & { filter?: ItemFilter }): Promise<SearchResult>;
  keyword(query: string, opts: Page & { filter?: ItemFilter }): Promise<SearchResult>;
  /** Keyword and vector results merged; semanticRatio 0 is keyword only, 1 vector only. */
  hybrid(query: string, vector: Float32Array, opts: Page & { filter?: ItemFilter; semanticRatio: number }): Promise<SearchResult>;
  facets(fields: FacetField[], filter?: ItemFilter): Promise<Record<FacetField, Record<string, number>>>;
  stats(): Promise<StoreStats>;
  close(): Promise<void>;
}
