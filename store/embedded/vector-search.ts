import type { Box } from '../types.ts';
import type { AnnIndex } from './ann-index.ts';
import type { SqlFilter } from './filters.ts';
import type { SqliteRepository, VectorRow } from './sqlite-repository.ts';
import type { VectorSlab } from './vector-slab.ts';
import { dot } from './vectors.ts';

export interface VectorHit {
  rowid: number;
  /** Exact cosine of the item's best vector (whole image or region). */
  cosine: number;
  /** Set when a region matched better than the whole image. */
  region?: Box;
}

export interface VectorSearchTuning {
  /** A filtered search whose subset holds at most this many vectors scans them exactly. */
  exactScanLimit: number;
  /** Extra ANN candidates per wanted hit, for quantised indexes whose order is approximate. */
  oversample: number;
  /**
   * Most candidates a filtered query asks of the HNSW index: a filter so selective that the
   * index would have to propose more is answered by a scan of its subset instead.
   */
  maxAnnCandidates: number;
}

/** Where the vectors are: either may be missing for a while, and search still answers. */
export interface VectorIndexes {
  /** The HNSW index; absent while it is rebuilt in the background (every query is then a scan). */
  ann: AnnIndex | undefined;
  /** The int8 copy for scans; absent where it cannot be made (scans then read SQLite). */
  slab: VectorSlab | undefined;
  /** Vectors in the store, regions included. */
  totalVectors: number;
}

/** How a query was answered, for tests and the benchmark. */
export type SearchPath = 'index' | 'index-filtered' | 'scan' | 'sqlite-scan';

export interface VectorQuery {
  vector: Float32Array;
  filter: SqlFilter;
  /** offset + limit: the best this many items are returned. */
  needed: number;
  /** Items passing the filter (the caller counts them once for the total too). */
  filteredItems: number;
  totalItems: number;
  /** An item left out of the results (`similar`). */
  exclude?: number;
}

class Best {
  readonly byItem = new Map<number, { cosine: number; whole: number; ord: number; box: Box | undefined }>();

  offer(row: VectorRow, cosine: number): void {
    const seen = this.byItem.get(row.itemRowid);
    if (!seen) {
      this.byItem.set(row.itemRowid, { cosine, whole: row.ord === 0 ? cosine : -Infinity, ord: row.ord, box: row.box });
      return;
    }
    if (row.ord === 0) seen.whole = cosine;
    if (cosine > seen.cosine) Object.assign(seen, { cosine, ord: row.ord, box: row.box });
  }

  top(n: number, exclude: number | undefined): VectorHit[] {
    const hits: VectorHit[] = [];
    for (const [rowid, b] of this.byItem) {
      if (rowid === exclude) continue;
      const hit: VectorHit = { rowid, cosine: Math.max(-1, Math.min(1, b.cosine)) };
      if (b.ord > 0 && b.box && b.cosine > b.whole) hit.region = b.box;
      hits.push(hit);
    }
    hits.sort((a, b) => b.cosine - a.cosine || a.rowid - b.rowid);
    return hits.slice(0, n);
  }
}

/** The exact top items among `candidates`, each scoring its best vector (whole image or region) on the float32 vectors. */
function rescore(repo: SqliteRepository, q: VectorQuery, candidates: number[]): VectorHit[] {
  const best = new Best();
  for (const row of repo.vectorsOfItems(candidates)) best.offer(row, dot(q.vector, row.vector));
  return best.top(q.needed, q.exclude);
}

/**
 * Re-scores the index's candidates: the int8 copy ranks them first (microseconds) and only the
 * best `needed + RESCORE_MARGIN` are read from SQLite, as a scan's are; the index proposes three
 * times the hits needed because its own order is approximate, and reading every float32 vector
 * was a sixth of a similar-item request's time.
 */
function rescoreCandidates(repo: SqliteRepository, slab: VectorSlab | undefined, q: VectorQuery, candidates: number[]): VectorHit[] {
  const shortlist = slab && candidates.length > q.needed + RESCORE_MARGIN ? slab.nearestItems(q.vector, candidates, q.needed + RESCORE_MARGIN, q.exclude) : candidates;
  return rescore(repo, q, shortlist);
}

/** Candidates beyond those needed that the int8 order passes on to be re-scored exactly: its scores are within about 0.001 of the float32 ones. */
const RESCORE_MARGIN = 16;


/**
 * An exact scan of the items passing the filter (every item without one): the int8 copy ranks
 * them, a few more than needed are re-scored on their float32 vectors. Without the copy, the
 * float32 vectors are read from SQLite: exact, and slow beyond a few thousand.
 */
function scan(repo: SqliteRepository, slab: VectorSlab | undefined, q: VectorQuery): { hits: VectorHit[]; path: SearchPath } {
  if (slab) {
    const items = q.filter.active ? repo.filteredRowids(q.filter) : undefined;
    return { hits: rescore(repo, q, slab.nearestItems(q.vector, items, q.needed + RESCORE_MARGIN, q.exclude)), path: 'scan' };
  }
  const best = new Best();
  for (const row of repo.iterateVectors(q.filter)) best.offer(row, dot(q.vector, row.vector));
  return { hits: best.top(q.needed, q.exclude), path: 'sqlite-scan' };
}

/**
 * The distinct items (not `exclude`) owning these ANN candidates and passing the filter, nearest
 * first. The slab knows each key's item, so SQLite is asked only about the items (a large
 * `vectors` table is 2 KB a row: looking keys up there reads pages all over it).
 */
function candidateItems(repo: SqliteRepository, slab: VectorSlab | undefined, keys: number[], q: VectorQuery): number[] {
  let owners: Array<number | undefined>;
  if (slab) owners = keys.map((key) => slab.itemOfKey(key));
  else {
    const byKey = repo.itemsOfKeys(keys, q.filter);
    owners = keys.map((key) => byKey.get(key));
  }
  const passing = slab && q.filter.active ? repo.itemsPassing([...new Set(owners.filter((o): o is number => o !== undefined))], q.filter) : undefined;
  const items = new Set<number>();
  for (const owner of owners) {
    if (owner === undefined || owner === q.exclude || (passing && !passing.has(owner))) continue;
    items.add(owner);
  }
  return [...items];
}

/**
 * Nearest items by cosine, chosen by how many items the filter keeps (SQLite counts them):
 *
 * - no filter: the HNSW index proposes candidates (more when it is quantised);
 * - a broad filter: the index is asked for enough candidates that, were the filter blind to the
 *   query, `oversample` times the hits needed would pass it; the filter is checked on them in
 *   SQLite. Fewer pass when the filter leaves out the query's neighbourhood (a collection of maps
 *   searched with a photograph): the nearest items that pass are then far down the index's
 *   order, and a scan finds them instead of asking again and again;
 * - a selective filter (its subset small, or the index would have to propose more than
 *   `maxAnnCandidates`): a scan of just its items;
 * - a filter for which the index has mostly come up short: the scan first (FilterSubsets).
 *
 * Candidates are re-scored on their exact float32 vectors from SQLite, every vector of an item,
 * so that an item's score is its best vector's. While the index is rebuilt, every query scans.
 */
export function vectorSearch(repo: SqliteRepository, indexes: VectorIndexes, q: VectorQuery, tuning: VectorSearchTuning): { hits: VectorHit[]; path: SearchPath } {
  const { ann, slab, totalVectors } = indexes;
  if (totalVectors === 0 || q.filteredItems === 0 || q.totalItems === 0) return { hits: [], path: 'index' };
  if (!ann) return scan(repo, slab, q);
  const vectorsPerItem = totalVectors / q.totalItems;
  const wanted = q.needed + (q.exclude === undefined ? 0 : 1);
  const enough = Math.ceil(q.needed * tuning.oversample);

  if (!q.filter.active) {
    let k = Math.ceil(wanted * vectorsPerItem * tuning.oversample) + 8;
    for (;;) {
      k = Math.min(k, totalVectors);
      const items = candidateItems(repo, slab, ann.search(q.vector, k).map((f) => f.key), q);
      // Regions crowd one item's vectors into the candidates: ask for more until enough items come.
      if (items.length >= enough || k >= totalVectors) return { hits: rescoreCandidates(repo, slab, q, items), path: 'index' };
      k *= 4;
    }
  }

  const selectivity = Math.min(1, q.filteredItems / q.totalItems);
  const subsetVectors = q.filteredItems * vectorsPerItem;
  // 1.5: the passing share of the candidates varies; asking half again keeps a short count rare.
  const k = Math.ceil((1.5 * wanted * vectorsPerItem * tuning.oversample) / selectivity) + 16;
  if (subsetVectors <= tuning.exactScanLimit || k > tuning.maxAnnCandidates || k >= totalVectors) return scan(repo, slab, q);
  if (!repo.indexWorthTrying(q.filter)) return scan(repo, slab, q);
  const items = candidateItems(repo, slab, ann.search(q.vector, k).map((f) => f.key), q);
  repo.recordIndexOutcome(q.filter, items.length < enough);
  if (items.length >= enough) return { hits: rescoreCandidates(repo, slab, q, items), path: 'index-filtered' };
  return scan(repo, slab, q);
}
