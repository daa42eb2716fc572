import type { SqlFilter } from './filters.ts';

/** What a filter selected: its item count, and its rowids once a scan needed them. */
interface Subset {
  count: number;
  rowids?: Int32Array | Float64Array;
  /** Whether an item passes, made from the rowids when the index's candidates are checked, and the bytes it holds. */
  members?: { passes: (rowid: number) => boolean; bytes: number };
  /** How the index fared for this filter: tries, how many came up short of hits, scans chosen since. */
  index?: { tries: number; short: number; skipped: number };
}

/**
 * A membership test over a filter's rowids: a bit a rowid up to the largest when the filter keeps
 * more than one item in 32 (125 KB at a million items), a Set otherwise.
 */
function membership(rowids: Int32Array | Float64Array): NonNullable<Subset['members']> {
  let max = 0;
  for (let i = 0; i < rowids.length; i++) if (rowids[i]! > max) max = rowids[i]!;
  if (rowids.length * 32 < max) {
    const set = new Set(rowids);
    // About what V8 takes a Set entry.
    return { passes: (rowid) => set.has(rowid), bytes: rowids.length * 24 };
  }
  const bits = new Uint8Array((max >> 3) + 1);
  for (let i = 0; i < rowids.length; i++) bits[rowids[i]! >> 3]! |= 1 << (rowids[i]! & 7);
  return { passes: (rowid) => rowid >= 0 && rowid <= max && (bits[rowid >> 3]! & (1 << (rowid & 7))) !== 0, bytes: bits.length };
}

const bytesOf = (subset: Subset | undefined): number => (subset?.rowids?.byteLength ?? 0) + (subset?.members?.bytes ?? 0);

/**
 * The subsets that filters selected, kept while the database is unchanged. Portals ask again and
 * again within the same few filters (a collection, a manifest, a rights value), and at a million
 * items counting a 10 % filter and listing its rowids cost 10 ms a query before any vector is read.
 * Any commit, this connection's or another process's (`serve --workers`), empties the cache:
 * `version` is read once per query and changes with both. Bounded by the bytes held (rowids as
 * 32-bit integers), so that a portal's usual filters stay: at a million items, the listings of
 * every collection of a three-level tree together take 12 MB.
 */
export class FilterSubsets {
  private readonly byFilter = new Map<string, Subset>();
  private held = 0;
  private version: string | undefined;

  /** `maxBytes`: what the listed rowids and membership tests may hold together. */
  constructor(private readonly maxBytes: number) {}

  /** The cached subset of this filter at this version of the database, refreshed as the last used. */
  get(filter: SqlFilter, version: string): Subset | undefined {
    if (!this.at(version)) return undefined;
    const key = keyOf(filter);
    const subset = this.byFilter.get(key);
    if (subset) {
      this.byFilter.delete(key);
      this.byFilter.set(key, subset);
    }
    return subset;
  }

  set(filter: SqlFilter, version: string, subset: Subset): void {
    this.at(version);
    if (bytesOf(subset) > this.maxBytes) return;
    const key = keyOf(filter);
    const before = this.byFilter.get(key);
    if (before?.index) subset.index ??= before.index;
    this.held -= bytesOf(before);
    this.byFilter.delete(key);
    this.byFilter.set(key, subset);
    this.held += bytesOf(subset);
    this.evict();
  }

  /** The membership test of a filter whose rowids are listed, made on first use; undefined otherwise. */
  members(filter: SqlFilter, version: string): ((rowid: number) => boolean) | undefined {
    const subset = this.get(filter, version);
    if (!subset?.rowids) return undefined;
    if (!subset.members) {
      subset.members = membership(subset.rowids);
      this.held += subset.members.bytes;
      this.evict();
    }
    return subset.members.passes;
  }

  /** Moves to this version of the database, forgetting every subset if it is another; says whether it was the same. */
  private at(version: string): boolean {
    if (version === this.version) return true;
    this.byFilter.clear();
    this.held = 0;
    this.version = version;
    return false;
  }

  /** The least recently used go first. */
  private evict(): void {
    for (const [oldest, kept] of this.byFilter) {
      if (this.held <= this.maxBytes && this.byFilter.size <= MAX_FILTERS) break;
      this.byFilter.delete(oldest);
      this.held -= bytesOf(kept);
    }
  }

  /**
   * Whether to ask the index first for this filter. A filter that leaves out the neighbourhood of
   * the queries asked within it (a collection of maps searched with photographs) leaves the index's
   * candidates short again and again, and each try costs a few milliseconds before the scan that
   * answers: once most tries have come up short, the scan goes first, and one query in
   * RETRY_EVERY still tries the index in case the queries have changed.
   */
  indexWorthTrying(filter: SqlFilter, version: string): boolean {
    const stats = this.get(filter, version)?.index;
    if (!stats || stats.tries < 3 || stats.short * 2 <= stats.tries) return true;
    stats.skipped++;
    return stats.skipped % RETRY_EVERY === 0;
  }

  /** Records whether the index's candidates were enough for a query within this filter. */
  recordIndex(filter: SqlFilter, version: string, short: boolean): void {
    const subset = this.get(filter, version);
    if (!subset) return;
    const stats = (subset.index ??= { tries: 0, short: 0, skipped: 0 });
    stats.tries++;
    if (short) stats.short++;
    // Recent tries weigh most.
    if (stats.tries >= 32) {
      stats.tries /= 2;
      stats.short /= 2;
    }
  }
}

/** While the scan goes first, one query in this many still tries the index. */
const RETRY_EVERY = 16;

/** Filters cached at once, whatever their size (counts alone are small). */
const MAX_FILTERS = 256;

const keyOf = (filter: SqlFilter): string => `${filter.where}\u0000${JSON.stringify(filter.params)}`;
