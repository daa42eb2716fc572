import type { Box } from '../types.ts';
import type { AnnIndex } from './ann-index.ts';
import type { SqlFilter } from './filters.ts';
import type { SqliteRepository, VectorRow } from './sqlite-repository.ts';
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
}

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

/** Scores every vector of the filtered items: exact, and cheap while the subset is small. */
function exactScan(repo: SqliteRepository, q: VectorQuery): VectorHit[] {
  const best = new Best();
  for (const row of repo.iterateVectors(q.filter)) best.offer(row, dot(q.vector, row.vector));
  return best.top(q.needed, q.exclude);
}

/**
 * Nearest items by cosine. Without a filter, or with one that keeps many items, the HNSW index
 * proposes candidates (asking for more as the filter gets more selective, then four times more
 * until enough pass it), and the candidates' items are scored again on their exact float32
 * vectors from SQLite, all of them, so that an item's score is its best vector's. A filter
 * that leaves few vectors is answered by an exact scan of just those.
 */
export function vectorSearch(repo: SqliteRepository, ann: AnnIndex, q: VectorQuery, tuning: VectorSearchTuning): VectorHit[] {
  const totalVectors = ann.size;
  if (totalVectors === 0 || q.filteredItems === 0 || q.totalItems === 0) return [];
  const vectorsPerItem = totalVectors / q.totalItems;
  const subsetVectors = q.filteredItems * vectorsPerItem;
  if (q.filter.active && subsetVectors <= tuning.exactScanLimit) return exactScan(repo, q);

  const wanted = q.needed + (q.exclude === undefined ? 0 : 1);
  const selectivity = Math.min(1, q.filteredItems / q.totalItems);
  let k = Math.ceil((wanted * vectorsPerItem * tuning.oversample) / selectivity) + 8;
  let candidates: number[] = [];
  for (;;) {
    k = Math.min(k, totalVectors);
    const found = ann.search(q.vector, k);
    const owners = repo.itemsOfKeys(
      found.map((f) => f.key),
      q.filter,
    );
    const items = new Set<number>();
    for (const f of found) {
      const rowid = owners.get(f.key);
      if (rowid !== undefined && rowid !== q.exclude) items.add(rowid);
    }
    candidates = [...items];
    if (candidates.length >= Math.ceil(q.needed * tuning.oversample) || k >= totalVectors) break;
    // The filter let too few through: ask for more, and scan exactly once asking costs as much.
    if (q.filter.active && k * 4 >= totalVectors) return exactScan(repo, q);
    k *= 4;
  }
  const best = new Best();
  for (const row of repo.vectorsOfItems(candidates)) best.offer(row, dot(q.vector, row.vector));
  return best.top(q.needed, q.exclude);
}
