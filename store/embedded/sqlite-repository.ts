import type Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { openDatabase, StatementCache } from '../../common/index.ts';
import { StoreSchemaError } from '../errors.ts';
import type { Box, FacetField, ItemFields, StoreSchema } from '../types.ts';
import type { SqlFilter } from './filters.ts';
import { FilterSubsets } from './filter-subsets.ts';
import { STORE_SCHEMA, STORE_SCHEMA_VERSION } from './schema.ts';
import { fromBlob, toBlob } from './vectors.ts';

/** An item whose vectors are already checked and normalised; none for an item stored without a vector. */
export interface PreparedItem {
  fields: ItemFields;
  vectors: Array<{ box?: Box; vector: Float32Array }>;
}

export interface VectorRow {
  key: number;
  itemRowid: number;
  ord: number;
  box: Box | undefined;
  vector: Float32Array;
}

/** What a write did to the vectors, for the ANN index to follow. */
export interface VectorChanges {
  added: Array<{ key: number; item: number; vector: Float32Array }>;
  removed: number[];
  generation: number;
  /** Items created minus items deleted, so that counts need no count(*) over a large table. */
  itemDelta: number;
  /** Items that gained a whole-image vector minus items that lost one (or were deleted with one). */
  embeddedDelta: number;
}

interface ItemRow {
  rowid: number;
  id: string;
  canvas_id: string;
  manifest_id: string;
  manifest_url: string;
  source: string | null;
  label: string;
  date: string | null;
  rights: string | null;
  text: string;
  collections: string;
  labels: string;
  record: string;
}

const ITEM_COLUMNS = 'i.rowid, i.id, i.canvas_id, i.manifest_id, i.manifest_url, i.source, i.label, i.date, i.rights, i.text, i.collections, i.labels, i.record';

function toFields(row: ItemRow): ItemFields {
  const fields: ItemFields = {
    id: row.id,
    canvasId: row.canvas_id,
    manifestId: row.manifest_id,
    manifestUrl: row.manifest_url,
    collections: JSON.parse(row.collections) as string[],
    label: row.label,
    labels: JSON.parse(row.labels) as string[],
    text: row.text,
    record: JSON.parse(row.record) as Record<string, unknown>,
  };
  // Absent rather than undefined, so that what comes back deep-equals what went in.
  if (row.source !== null) fields.source = row.source;
  if (row.date !== null) fields.date = row.date;
  if (row.rights !== null) fields.rights = row.rights;
  return fields;
}

const sameBox = (a: Box | undefined, b: Box | undefined) =>
  a === b || (!!a && !!b && a.x === b.x && a.y === b.y && a.w === b.w && a.h === b.h);

/**
 * The SQLite side of the embedded store: items, their filter fields, vectors and the full-text
 * index, in WAL mode. Every write is one transaction, so a process killed at any instant leaves
 * each item either whole (fields, side tables, all its vectors) or as it was before.
 */
export class SqliteRepository {
  readonly db: Database.Database;
  private readonly statements: StatementCache;
  /** 64 MB: the rowids of 160 filters of 10 % at a million items. */
  private readonly subsets = new FilterSubsets(64 * 2 ** 20);

  constructor(readonly file: string) {
    this.db = openDatabase(file, {
      version: STORE_SCHEMA_VERSION,
      ddl: STORE_SCHEMA,
      what: 'store',
      migrate: (db) => {
        const set = db.prepare(`INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO NOTHING`);
        db.prepare(`INSERT INTO meta (key, value) VALUES ('schema_version', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`).run(String(STORE_SCHEMA_VERSION));
        set.run('store_id', randomUUID());
        set.run('generation', '0');
      },
    });
    this.statements = new StatementCache(this.db);
  }

  private statement(sql: string): Database.Statement {
    return this.statements.get(sql);
  }

  close(): void {
    this.db.close();
  }

  // --- meta ---------------------------------------------------------------

  getMeta(key: string): string | undefined {
    return this.statement(`SELECT value FROM meta WHERE key = ?`).pluck().get(key) as string | undefined;
  }

  private setMeta(key: string, value: string): void {
    this.statement(`INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`).run(key, value);
  }

  /** Changes when another connection commits to the database (not for this connection's own writes). */
  dataVersion(): number {
    return this.statement(`PRAGMA data_version`).pluck().get() as number;
  }

  /** A random id made with the database: an index file made for another database is never taken for this one's. */
  get storeId(): string {
    return this.getMeta('store_id')!;
  }

  get generation(): number {
    return Number(this.getMeta('generation'));
  }

  /** The model and dimensions recorded by the first open with a model; undefined before. */
  storedSchema(): StoreSchema | undefined {
    const modelId = this.getMeta('model_id');
    const dimensions = this.getMeta('dimensions');
    return modelId !== undefined && dimensions !== undefined ? { modelId, dimensions: Number(dimensions) } : undefined;
  }

  /** Records the schema on first use; afterwards refuses another model or dimension. */
  checkSchema(index: string, wanted: StoreSchema): void {
    this.db.transaction(() => {
      const modelId = this.getMeta('model_id');
      const dimensions = this.getMeta('dimensions');
      if (modelId === undefined || dimensions === undefined) {
        this.setMeta('model_id', wanted.modelId);
        this.setMeta('dimensions', String(wanted.dimensions));
        return;
      }
      if (modelId !== wanted.modelId || Number(dimensions) !== wanted.dimensions) {
        throw new StoreSchemaError(index, { modelId, dimensions: Number(dimensions) }, wanted);
      }
    })();
  }

  // --- writes -------------------------------------------------------------

  /**
   * Inserts or replaces items with their vectors, in one transaction. An item whose vectors are
   * unchanged (same boxes, same bytes) keeps its vector keys, so a metadata change sent as a
   * full upsert does not churn the ANN index.
   */
  upsert(items: PreparedItem[]): VectorChanges {
    const upsertItem = this.statement(
      `INSERT INTO items (id, canvas_id, manifest_id, manifest_url, source, label, date, rights, text, collections, labels, record)
       VALUES (@id, @canvasId, @manifestId, @manifestUrl, @source, @label, @date, @rights, @text, @collections, @labels, @record)
       ON CONFLICT(id) DO UPDATE SET canvas_id = excluded.canvas_id, manifest_id = excluded.manifest_id,
         manifest_url = excluded.manifest_url, source = excluded.source, label = excluded.label, date = excluded.date,
         rights = excluded.rights, text = excluded.text, collections = excluded.collections, labels = excluded.labels,
         record = excluded.record
       RETURNING rowid`,
    );
    const exists = this.statement(`SELECT 1 FROM items WHERE id = ?`).pluck();
    const existingVectors = this.statement(`SELECT key, ord, box, vector FROM vectors WHERE item_rowid = ? ORDER BY ord`);
    const deleteVectors = this.statement(`DELETE FROM vectors WHERE item_rowid = ?`);
    const insertVector = this.statement(`INSERT INTO vectors (item_rowid, ord, box, vector) VALUES (?, ?, ?, ?)`);
    return this.db.transaction(() => {
      const generation = this.generation + 1;
      const added: VectorChanges['added'] = [];
      const removed: number[] = [];
      let itemDelta = 0;
      let embeddedDelta = 0;
      for (const item of items) {
        if (!exists.get(item.fields.id)) itemDelta++;
        const rowid = (upsertItem.get(this.itemParams(item.fields)) as { rowid: number }).rowid;
        this.replaceSideTables(rowid, item.fields);
        const old = existingVectors.all(rowid) as Array<{ key: number; ord: number; box: string | null; vector: Buffer }>;
        embeddedDelta += (item.vectors.length > 0 ? 1 : 0) - (old.some((row) => row.ord === 0) ? 1 : 0);
        const unchanged =
          old.length === item.vectors.length &&
          old.every((row, i) => sameBox(row.box === null ? undefined : (JSON.parse(row.box) as Box), item.vectors[i]!.box) && row.vector.equals(toBlob(item.vectors[i]!.vector)));
        if (unchanged) continue;
        removed.push(...old.map((row) => row.key));
        deleteVectors.run(rowid);
        item.vectors.forEach((v, ord) => {
          const key = Number(insertVector.run(rowid, ord, v.box ? JSON.stringify(v.box) : null, toBlob(v.vector)).lastInsertRowid);
          added.push({ key, item: rowid, vector: v.vector });
        });
      }
      this.logChanges(generation, [...removed, ...added.map((a) => a.key)]);
      // An id given twice in one batch replaces vectors added moments before: only the last ones live.
      const gone = new Set(removed);
      const fresh = new Set(added.map((a) => a.key));
      const live = added.filter((a) => !gone.has(a.key));
      return { added: live, removed: removed.filter((k) => !fresh.has(k)), itemDelta, embeddedDelta, generation: added.length || removed.length ? generation : generation - 1 };
    })();
  }

  /** Replaces the fields of items already present; returns how many were. */
  updateFields(items: ItemFields[]): number {
    const update = this.statement(
      `UPDATE items SET canvas_id = @canvasId, manifest_id = @manifestId, manifest_url = @manifestUrl, source = @source,
         label = @label, date = @date, rights = @rights, text = @text, collections = @collections, labels = @labels, record = @record
       WHERE id = @id RETURNING rowid`,
    );
    return this.db.transaction(() => {
      let updated = 0;
      for (const fields of items) {
        const row = update.get(this.itemParams(fields)) as { rowid: number } | undefined;
        if (!row) continue;
        this.replaceSideTables(row.rowid, fields);
        updated++;
      }
      return updated;
    })();
  }

  /** Deletes items (their vectors and side rows follow by cascade); returns the removed vector keys. */
  deleteIds(ids: string[]): { deleted: number; changes: VectorChanges } {
    const keysOf = this.statement(`SELECT v.key, v.ord FROM vectors v JOIN items i ON i.rowid = v.item_rowid WHERE i.id = ?`);
    const del = this.statement(`DELETE FROM items WHERE id = ?`);
    return this.db.transaction(() => {
      const generation = this.generation + 1;
      const removed: number[] = [];
      let deleted = 0;
      let embedded = 0;
      for (const id of new Set(ids)) {
        const rows = keysOf.all(id) as Array<{ key: number; ord: number }>;
        removed.push(...rows.map((r) => r.key));
        if (rows.some((r) => r.ord === 0)) embedded++;
        deleted += del.run(id).changes;
      }
      this.logChanges(generation, removed);
      return { deleted, changes: { added: [], removed, itemDelta: -deleted, embeddedDelta: -embedded, generation: removed.length ? generation : generation - 1 } };
    })();
  }

  idsWhere(where: { manifest?: string[]; source?: string[] }): string[] {
    const manifests = where.manifest ?? [];
    const sources = where.source ?? [];
    if (!manifests.length && !sources.length) return [];
    const ph = (n: number) => Array.from({ length: n }, () => '?').join(', ');
    const clauses: string[] = [];
    if (manifests.length) clauses.push(`manifest_id IN (${ph(manifests.length)}) OR manifest_url IN (${ph(manifests.length)})`);
    if (sources.length) clauses.push(`source IN (${ph(sources.length)})`);
    return this.statement(`SELECT id FROM items WHERE ${clauses.join(' OR ')}`).pluck().all(...manifests, ...manifests, ...sources) as string[];
  }

  private itemParams(f: ItemFields) {
    return {
      id: f.id,
      canvasId: f.canvasId,
      manifestId: f.manifestId,
      manifestUrl: f.manifestUrl,
      source: f.source ?? null,
      label: f.label,
      date: f.date ?? null,
      rights: f.rights ?? null,
      text: f.text,
      collections: JSON.stringify(f.collections),
      labels: JSON.stringify(f.labels),
      record: JSON.stringify(f.record),
    };
  }

  private sideStatements?: Record<'delCollections' | 'delLabels' | 'delFacets' | 'addCollection' | 'addLabel' | 'addFacet', Database.Statement>;

  private replaceSideTables(rowid: number, f: ItemFields): void {
    const s = (this.sideStatements ??= {
      delCollections: this.statement(`DELETE FROM item_collections WHERE item_rowid = ?`),
      delLabels: this.statement(`DELETE FROM item_labels WHERE item_rowid = ?`),
      delFacets: this.statement(`DELETE FROM item_facets WHERE item_rowid = ?`),
      addCollection: this.statement(`INSERT OR IGNORE INTO item_collections (collection, item_rowid) VALUES (?, ?)`),
      addLabel: this.statement(`INSERT OR IGNORE INTO item_labels (label, item_rowid) VALUES (?, ?)`),
      addFacet: this.statement(`INSERT OR IGNORE INTO item_facets (name, value, item_rowid, ord) VALUES (?, ?, ?, ?)`),
    });
    s.delCollections.run(rowid);
    s.delLabels.run(rowid);
    s.delFacets.run(rowid);
    for (const c of f.collections) s.addCollection.run(c, rowid);
    for (const l of f.labels) s.addLabel.run(l, rowid);
    let ord = 0;
    for (const [name, values] of Object.entries(f.facets ?? {})) for (const v of values) s.addFacet.run(name, v, rowid, ord++);
  }

  /** The metadata facets of these items (ItemFields.facets), in the order they were given. */
  private facetsOf(rowids: number[]): Map<number, Record<string, string[]>> {
    const out = new Map<number, Record<string, string[]>>();
    const all = this.statement(`SELECT item_rowid, name, value FROM item_facets WHERE item_rowid IN (SELECT value FROM json_each(?)) ORDER BY item_rowid, ord`).raw().all(JSON.stringify(rowids)) as Array<[number, string, string]>;
    for (const [rowid, name, value] of all) {
      const facets = out.get(rowid) ?? {};
      (facets[name] ??= []).push(value);
      out.set(rowid, facets);
    }
    return out;
  }

  private withFacets(rows: ItemRow[]): Map<number, ItemFields> {
    const facets = this.facetsOf(rows.map((r) => r.rowid));
    return new Map(
      rows.map((row) => {
        const fields = toFields(row);
        const f = facets.get(row.rowid);
        if (f) fields.facets = f;
        return [row.rowid, fields];
      }),
    );
  }

  private logChanges(generation: number, keys: number[]): void {
    if (keys.length === 0) return;
    const log = this.statement(`INSERT INTO ann_log (generation, key) VALUES (?, ?)`);
    for (const key of keys) log.run(generation, key);
    this.setMeta('generation', String(generation));
  }

  // --- the change log -------------------------------------------------------

  /**
   * The vector keys touched after `generation`, when the log still holds every generation since
   * (a gap means the index file is older than the log reaches, or SQLite was changed behind the
   * store's back): then the caller rebuilds instead.
   */
  changedSince(generation: number): number[] | undefined {
    const current = this.generation;
    if (generation > current) return undefined;
    if (generation === current) return [];
    const logged = this.statement(`SELECT count(DISTINCT generation) FROM ann_log WHERE generation > ?`).pluck().get(generation) as number;
    if (logged !== current - generation) return undefined;
    return this.statement(`SELECT DISTINCT key FROM ann_log WHERE generation > ? ORDER BY key`).pluck().all(generation) as number[];
  }

  /** Records that the HNSW file was saved at this generation: a commit, so readers mapping the file see data_version move and look. */
  markIndexSaved(generation: number): void {
    this.setMeta('index_saved', String(generation));
  }

  /** The generation of the last HNSW file saved, if one was recorded. */
  indexSavedGeneration(): number | undefined {
    const value = this.getMeta('index_saved');
    return value === undefined ? undefined : Number(value);
  }

  /** Forgets the log up to a generation the saved index file reflects. */
  trimLog(generation: number): void {
    this.statement(`DELETE FROM ann_log WHERE generation <= ?`).run(generation);
  }

  // --- reads ----------------------------------------------------------------

  get(id: string): ItemFields | undefined {
    const row = this.statement(`SELECT ${ITEM_COLUMNS} FROM items i WHERE i.id = ?`).get(id) as ItemRow | undefined;
    return row && this.withFacets([row]).get(row.rowid);
  }

  rowidOf(id: string): number | undefined {
    return this.statement(`SELECT rowid FROM items WHERE id = ?`).pluck().get(id) as number | undefined;
  }

  itemsByRowid(rowids: number[]): Map<number, ItemFields> {
    const rows = this.statement(`SELECT ${ITEM_COLUMNS} FROM items i WHERE i.rowid IN (SELECT value FROM json_each(?))`).all(JSON.stringify(rowids)) as ItemRow[];
    return this.withFacets(rows);
  }

  countItems(filter: SqlFilter): number {
    const version = this.version();
    const cached = this.subsets.get(filter, version);
    if (cached) return cached.count;
    // Side tables only: count from their primary keys, without a lookup per item in the wide items table.
    const count = filter.rowids
      ? (this.statement(`SELECT count(*) FROM (${filter.rowids.sql})`).pluck().get(...filter.rowids.params) as number)
      : (this.statement(`SELECT count(*) FROM items i WHERE ${filter.where}`).pluck().get(...filter.params) as number);
    this.subsets.set(filter, version, { count });
    return count;
  }

  /** Whether a filtered search should ask the index first (see FilterSubsets.indexWorthTrying). */
  indexWorthTrying(filter: SqlFilter): boolean {
    return this.subsets.indexWorthTrying(filter, this.version());
  }

  recordIndexOutcome(filter: SqlFilter, short: boolean): void {
    this.subsets.recordIndex(filter, this.version(), short);
  }

  /** Changes with every commit to the database, this connection's (total_changes) or another's (data_version). */
  private version(): string {
    return this.statement(`SELECT total_changes() || ':' || data_version FROM pragma_data_version`).pluck().get() as string;
  }

  countVectors(filter: SqlFilter): number {
    if (!filter.active) return this.statement(`SELECT count(*) FROM vectors`).pluck().get() as number;
    return this.statement(`SELECT count(*) FROM vectors v JOIN items i ON i.rowid = v.item_rowid WHERE ${filter.where}`).pluck().get(...filter.params) as number;
  }

  /** The whole-image vector of an item. */
  wholeVector(rowid: number): Float32Array | undefined {
    const blob = this.statement(`SELECT vector FROM vectors WHERE item_rowid = ? AND ord = 0`).pluck().get(rowid) as Buffer | undefined;
    return blob && fromBlob(blob);
  }

  /** Which of these vector keys belong to items passing the filter, and to which item. */
  itemsOfKeys(keys: number[], filter: SqlFilter): Map<number, number> {
    // Without a filter the items table need not be joined: the vector row names its item.
    const sql = filter.active
      ? `SELECT v.key, v.item_rowid FROM vectors v JOIN items i ON i.rowid = v.item_rowid WHERE v.key IN (SELECT value FROM json_each(?)) AND ${filter.probe}`
      : `SELECT key, item_rowid FROM vectors WHERE key IN (SELECT value FROM json_each(?))`;
    const params = filter.active ? filter.probeParams : [];
    const rows = this.statement(sql).raw().all(JSON.stringify(keys), ...params) as Array<[number, number]>;
    return new Map(rows);
  }


  /** Which of these items pass the filter (ANN candidates whose owners are known): probed by key, see SqlFilter.keyedProbe. */
  itemsPassing(rowids: number[], filter: SqlFilter): Set<number> {
    if (!filter.active) return new Set(rowids);
    // A filter a scan has already listed (it failed the index before, or is asked again): no SQL.
    const members = this.subsets.members(filter, this.version());
    if (members) return new Set(rowids.filter(members));
    const rows = this.statement(`SELECT j.value FROM json_each(?) j WHERE ${filter.keyedProbe}`)
      .pluck()
      .all(JSON.stringify(rowids), ...filter.keyedProbeParams) as number[];
    return new Set(rows);
  }

  vectorsOfItems(rowids: number[]): VectorRow[] {
    const rows = this
      .statement(`SELECT key, item_rowid, ord, box, vector FROM vectors WHERE item_rowid IN (SELECT value FROM json_each(?))`)
      .raw()
      .all(JSON.stringify(rowids)) as Array<[number, number, number, string | null, Buffer]>;
    return rows.map(([key, itemRowid, ord, box, blob]) => ({ key, itemRowid, ord, box: box === null ? undefined : (JSON.parse(box) as Box), vector: fromBlob(blob) }));
  }

  /** Every vector of the items passing the filter, streamed (exact scans). */
  *iterateVectors(filter: SqlFilter): Generator<VectorRow> {
    const stmt = filter.active
      ? this.statement(`SELECT v.key, v.item_rowid, v.ord, v.box, v.vector FROM vectors v JOIN items i ON i.rowid = v.item_rowid WHERE ${filter.where}`)
      : this.statement(`SELECT key, item_rowid, ord, box, vector FROM vectors`);
    for (const [key, itemRowid, ord, box, blob] of stmt.raw().iterate(...filter.params) as IterableIterator<[number, number, number, string | null, Buffer]>) {
      yield { key, itemRowid, ord, box: box === null ? undefined : (JSON.parse(box) as Box), vector: fromBlob(blob) };
    }
  }

  /** Vectors with these keys (replaying the change log). */
  vectorsByKey(keys: number[]): Array<{ key: number; item: number; vector: Float32Array }> {
    const rows = this.statement(`SELECT key, item_rowid, vector FROM vectors WHERE key IN (SELECT value FROM json_each(?))`).raw().all(JSON.stringify(keys)) as Array<[number, number, Buffer]>;
    return rows.map(([key, item, blob]) => ({ key, item, vector: fromBlob(blob) }));
  }

  /**
   * The rowids of the items passing a filter, for exact scans of the subset: one JSON array
   * built inside SQLite parses several times faster than as many rows handed to JavaScript.
   */
  filteredRowids(filter: SqlFilter): Int32Array | Float64Array {
    const version = this.version();
    const cached = this.subsets.get(filter, version);
    if (cached?.rowids) return cached.rowids;
    const json = filter.rowids
      ? this.statement(`SELECT json_group_array(item_rowid) FROM (${filter.rowids.sql})`).pluck().get(...filter.rowids.params)
      : this.statement(`SELECT json_group_array(i.rowid) FROM items i WHERE ${filter.where}`).pluck().get(...filter.params);
    const listed = JSON.parse(json as string) as number[];
    // Half the memory of a list of numbers; rowids past 2³¹ (never reached by harvests) keep 64 bits.
    const rowids = listed.every((r) => r <= 0x7fffffff) ? Int32Array.from(listed) : Float64Array.from(listed);
    this.subsets.set(filter, version, { count: rowids.length, rowids });
    return rowids;
  }

  /**
   * Item rowids in the order the slab lays its rows out: by collection path (root first, so a
   * collection's sub-collections follow it: the closing bracket is trimmed so that a path sorts
   * just before its own extensions), then manifest, then rowid. A collection's or a manifest's
   * items are then side by side however they were harvested.
   */
  itemsInLayoutOrder(): number[] {
    const json = this.statement(`SELECT json_group_array(rowid) FROM (SELECT rowid FROM items ORDER BY rtrim(collections, ']'), manifest_id, rowid)`).pluck().get() as string;
    return JSON.parse(json) as number[];
  }

  /** All vectors in key order, in pages (rebuilding the index without holding them all). */
  *vectorPages(pageSize: number): Generator<Array<{ key: number; item: number; vector: Float32Array }>> {
    const stmt = this.statement(`SELECT key, item_rowid, vector FROM vectors WHERE key > ? ORDER BY key LIMIT ?`).raw();
    let after = -1;
    for (;;) {
      const rows = stmt.all(after, pageSize) as Array<[number, number, Buffer]>;
      if (rows.length === 0) return;
      // Copies: a page outlives the statement's buffers once the next page is read.
      yield rows.map(([key, item, blob]) => ({ key, item, vector: Float32Array.from(fromBlob(blob)) }));
      after = rows[rows.length - 1]![0];
    }
  }

  // --- keyword ----------------------------------------------------------------

  countMatches(expression: string, filter: SqlFilter): number {
    return this
      .statement(`SELECT count(*) FROM items_fts f JOIN items i ON i.rowid = f.rowid WHERE items_fts MATCH ? AND ${filter.probe}`)
      .pluck()
      .get(expression, ...filter.probeParams) as number;
  }

  /** Documents matching an FTS5 expression, best bm25 first (label weighted twice), at most `limit`. */
  matches(expression: string, filter: SqlFilter, limit: number): Array<{ rowid: number; label: string; text: string; bm25: number }> {
    return this
      .statement(
        `SELECT i.rowid AS rowid, i.label AS label, i.text AS text, bm25(items_fts, 2.0, 1.0) AS bm25
         FROM items_fts f JOIN items i ON i.rowid = f.rowid
         WHERE items_fts MATCH ? AND ${filter.probe}
         ORDER BY bm25, i.rowid LIMIT ?`,
      )
      .all(expression, ...filter.probeParams, limit) as Array<{ rowid: number; label: string; text: string; bm25: number }>;
  }

  /** Items in insertion order (a keyword search with no words, like Meilisearch's placeholder search). */
  listRowids(filter: SqlFilter, offset: number, limit: number): number[] {
    return this.statement(`SELECT i.rowid FROM items i WHERE ${filter.where} ORDER BY i.rowid LIMIT ? OFFSET ?`).pluck().all(...filter.params, limit, offset) as number[];
  }

  /** Items passing the filter after a rowid, in rowid order (scans: a cursor, not an offset, so that deep pages cost the same). */
  rowidsAfter(filter: SqlFilter, after: number, limit: number): number[] {
    return this.statement(`SELECT i.rowid FROM items i WHERE i.rowid > ? AND ${filter.where} ORDER BY i.rowid LIMIT ?`).pluck().all(after, ...filter.params, limit) as number[];
  }

  // --- facets and stats ---------------------------------------------------------

  facet(field: FacetField, filter: SqlFilter): Record<string, number> {
    if (field.startsWith('meta.')) {
      const rows = this
        .statement(`SELECT f.value, count(*) FROM item_facets f JOIN items i ON i.rowid = f.item_rowid WHERE f.name = ? AND ${filter.where} GROUP BY 1`)
        .raw()
        .all(field.slice(5), ...filter.params) as Array<[string, number]>;
      return Object.fromEntries(rows);
    }
    // Years and decades of ISO dates (and of their prefixes): their first four characters.
    const year = `i.date IS NOT NULL AND length(i.date) >= 4 AND substr(i.date, 1, 4) GLOB '[0-9][0-9][0-9][0-9]'`;
    const sql: Record<Exclude<FacetField, `meta.${string}`>, string> = {
      year: `SELECT substr(i.date, 1, 4), count(*) FROM items i WHERE ${year} AND ${filter.where} GROUP BY 1`,
      decade: `SELECT substr(i.date, 1, 3) || '0s', count(*) FROM items i WHERE ${year} AND ${filter.where} GROUP BY 1`,
      manifest: `SELECT i.manifest_id, count(*) FROM items i WHERE ${filter.where} GROUP BY 1`,
      rights: `SELECT i.rights, count(*) FROM items i WHERE i.rights IS NOT NULL AND ${filter.where} GROUP BY 1`,
      source: `SELECT i.source, count(*) FROM items i WHERE i.source IS NOT NULL AND ${filter.where} GROUP BY 1`,
      collection: `SELECT c.collection, count(*) FROM item_collections c JOIN items i ON i.rowid = c.item_rowid WHERE ${filter.where} GROUP BY 1`,
      labels: `SELECT l.label, count(*) FROM item_labels l JOIN items i ON i.rowid = l.item_rowid WHERE ${filter.where} GROUP BY 1`,
    };
    const rows = this.statement(sql[field as keyof typeof sql]).raw().all(...filter.params) as Array<[string, number]>;
    return Object.fromEntries(rows);
  }

  /** Items, vectors, and items with a whole-image vector (the others were stored without a model). */
  counts(): { items: number; vectors: number; embedded: number } {
    return {
      items: this.statement(`SELECT count(*) FROM items`).pluck().get() as number,
      vectors: this.statement(`SELECT count(*) FROM vectors`).pluck().get() as number,
      // Answered from the (item_rowid, ord) index alone: no vector blob is read.
      embedded: this.statement(`SELECT count(*) FROM vectors WHERE ord = 0`).pluck().get() as number,
    };
  }
}
