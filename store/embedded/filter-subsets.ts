import type { SqlFilter } from './filters.ts';

/** What a filter selected: its item count, and its rowids once a scan needed them. */
interface Subset {
  count: number;
  rowids?: number[];
}

/**
 * The subsets that filters selected, kept while the database is unchanged. Portals ask again and
 * again within the same few filters (a collection, a manifest, a rights value), and at a million
 * items counting a 10 % filter and listing its rowids cost 10 ms a query before any vector is read.
 * Any commit, this connection's or another process's (`serve --workers`), empties the cache:
 * `version` is read once per query and changes with both. Bounded by the rowids held.
 */
export class FilterSubsets {
  private readonly byFilter = new Map<string, Subset>();
  private held = 0;
  private version: string | undefined;

  constructor(private readonly maxRowids: number) {}

  /** The cached subset of this filter at this version of the database, refreshed as the last used. */
  get(filter: SqlFilter, version: string): Subset | undefined {
    if (version !== this.version) {
      this.byFilter.clear();
      this.held = 0;
      this.version = version;
      return undefined;
    }
    const key = keyOf(filter);
    const subset = this.byFilter.get(key);
    if (subset) {
      this.byFilter.delete(key);
      this.byFilter.set(key, subset);
    }
    return subset;
  }

  set(filter: SqlFilter, version: string, subset: Subset): void {
    if (version !== this.version) return;
    const size = subset.rowids?.length ?? 0;
    if (size > this.maxRowids) return;
    const key = keyOf(filter);
    this.held -= this.byFilter.get(key)?.rowids?.length ?? 0;
    this.byFilter.delete(key);
    this.byFilter.set(key, subset);
    this.held += size;
    // The least recently used go first.
    for (const [oldest, kept] of this.byFilter) {
      if (this.held <= this.maxRowids && this.byFilter.size <= MAX_FILTERS) break;
      this.byFilter.delete(oldest);
      this.held -= kept.rowids?.length ?? 0;
    }
  }
}

/** Filters cached at once, whatever their size (counts alone are small). */
const MAX_FILTERS = 256;

const keyOf = (filter: SqlFilter): string => `${filter.where}\u0000${JSON.stringify(filter.params)}`;
