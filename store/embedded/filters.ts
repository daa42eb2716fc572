import { InvalidQueryError } from '../errors.ts';
import type { ItemFilter } from '../types.ts';

/** A filter as an SQL condition on `items` aliased `i`, with its positional parameters. */
export interface SqlFilter {
  /** For sets driven by the filter (counts, scans): multi-valued fields as rowid lists from their tables. */
  where: string;
  params: unknown[];
  /** The same condition for checking a few given rows (ANN candidates, FTS matches): per-row lookups. */
  probe: string;
  probeParams: unknown[];
  /**
   * The condition on a bare item rowid `j.value` (a json_each row): side tables and indexes are
   * probed by their keys, so checking ANN candidates reads their compact pages instead of one
   * page of the wide `items` table each (ten times faster on a store larger than the page cache).
   */
  keyedProbe: string;
  keyedProbeParams: unknown[];
  /** When only collection and labels are filtered: a query of the matching item rowids that never reads `items`. */
  rowids?: { sql: string; params: unknown[] };
  /** False when the filter constrains nothing, so callers can take the unfiltered path. */
  active: boolean;
}

// An ISO 8601 date or a prefix of one: 1936, 1936-05, 1936-05-01, 1936-05-01T12:00:00Z.
const ISO_PREFIX = /^\d{4}(-\d{2}(-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?)?)?$/;

function values(field: string, value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  for (const v of list) {
    if (typeof v !== 'string') throw new InvalidQueryError(`filter ${field}: expected strings, got ${typeof v}`);
  }
  return list;
}

function date(field: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !ISO_PREFIX.test(value)) {
    throw new InvalidQueryError(`filter ${field}: expected an ISO 8601 date such as 1936 or 1936-05-01, got ${JSON.stringify(value)}`);
  }
  return value;
}

const placeholders = (n: number) => Array.from({ length: n }, () => '?').join(', ');

/**
 * Fields are ANDed, values of one field ORed. An empty list constrains nothing, like an absent
 * field. Dates compare as ISO strings: `dateFrom` as a lower bound (a year sorts before every
 * date in it), `dateTo` on the prefix of the same length, so that "1936" includes all of 1936.
 */
export function compileFilter(filter: ItemFilter | undefined): SqlFilter {
  // Each clause in its two forms: driving (IN a subquery) and probing (EXISTS for one row).
  const clauses: Array<{ scan: string; probe: string; keyed: string; params: unknown[]; side?: string }> = [];
  // A condition on `items` alone; keyed through the row itself unless an index answers it.
  const plain = (sql: string, params: unknown[], keyed = `EXISTS (SELECT 1 FROM items i WHERE i.rowid = j.value AND ${sql})`) =>
    clauses.push({ scan: sql, probe: sql, keyed, params });
  // `column IN (…)` answered by the column's index, whose entries end with the rowid.
  const indexed = (column: string, n: number) => `EXISTS (SELECT 1 FROM items x INDEXED BY items_${column} WHERE x.${column} IN (${placeholders(n)}) AND x.rowid = j.value)`;
  if (filter) {
    const manifests = values('manifest', filter.manifest);
    if (manifests.length) {
      // Callers know a manifest by the id it gives itself or by the URL it was fetched from.
      plain(
        `(i.manifest_id IN (${placeholders(manifests.length)}) OR i.manifest_url IN (${placeholders(manifests.length)}))`,
        [...manifests, ...manifests],
        `(${indexed('manifest_id', manifests.length)} OR ${indexed('manifest_url', manifests.length)})`,
      );
    }
    for (const [field, table, column] of [
      ['collection', 'item_collections', 'collection'],
      ['labels', 'item_labels', 'label'],
    ] as const) {
      const list = values(field, filter[field]);
      if (!list.length) continue;
      const side = `SELECT item_rowid FROM ${table} WHERE ${column} IN (${placeholders(list.length)})`;
      clauses.push({
        scan: `i.rowid IN (${side})`,
        probe: `EXISTS (SELECT 1 FROM ${table} s WHERE s.item_rowid = i.rowid AND s.${column} IN (${placeholders(list.length)}))`,
        keyed: `EXISTS (SELECT 1 FROM ${table} s WHERE s.item_rowid = j.value AND s.${column} IN (${placeholders(list.length)}))`,
        params: list,
        side,
      });
    }
    if (filter.meta !== undefined) {
      if (typeof filter.meta !== 'object' || filter.meta === null || Array.isArray(filter.meta)) throw new InvalidQueryError('filter meta: expected an object of facet name → values');
      for (const [name, value] of Object.entries(filter.meta)) {
        const list = values(`meta.${name}`, value);
        if (!list.length) continue;
        const side = `SELECT item_rowid FROM item_facets WHERE name = ? AND value IN (${placeholders(list.length)})`;
        clauses.push({
          scan: `i.rowid IN (${side})`,
          probe: `EXISTS (SELECT 1 FROM item_facets s WHERE s.item_rowid = i.rowid AND s.name = ? AND s.value IN (${placeholders(list.length)}))`,
          keyed: `EXISTS (SELECT 1 FROM item_facets s WHERE s.item_rowid = j.value AND s.name = ? AND s.value IN (${placeholders(list.length)}))`,
          params: [name, ...list],
          side,
        });
      }
    }
    for (const [field, column] of [
      ['rights', 'rights'],
      ['source', 'source'],
    ] as const) {
      const list = values(field, filter[field]);
      if (list.length) plain(`i.${column} IN (${placeholders(list.length)})`, list, indexed(column, list.length));
    }
    const from = date('dateFrom', filter.dateFrom);
    if (from !== undefined) plain(`i.date >= ?`, [from]);
    const to = date('dateTo', filter.dateTo);
    if (to !== undefined) plain(`substr(i.date, 1, ?) <= ?`, [to.length, to]);
  }
  const params = clauses.flatMap((c) => c.params);
  const out: SqlFilter = {
    where: clauses.length ? clauses.map((c) => c.scan).join(' AND ') : '1',
    params,
    probe: clauses.length ? clauses.map((c) => c.probe).join(' AND ') : '1',
    probeParams: params,
    keyedProbe: clauses.length ? clauses.map((c) => c.keyed).join(' AND ') : '1',
    keyedProbeParams: params,
    active: clauses.length > 0,
  };
  if (clauses.length && clauses.every((c) => c.side)) out.rowids = { sql: clauses.map((c) => c.side).join(' INTERSECT '), params };
  return out;
}
