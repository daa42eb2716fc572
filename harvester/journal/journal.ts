import type Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { openDatabase, openReadOnly, StatementCache } from '../../common/index.ts';
import { JOURNAL_SCHEMA, JOURNAL_VERSION } from './schema.ts';
import { regionItemIdsOfJson } from '../region-items.ts';

export type CanvasStatus = 'pending' | 'fetched' | 'indexed' | 'failed';

const COUNTS_SQL = `SELECT status, COUNT(*) AS n FROM canvases GROUP BY status`;

function countsByStatus(statement: Database.Statement): Record<CanvasStatus, number> {
  const out: Record<CanvasStatus, number> = { pending: 0, fetched: 0, indexed: 0, failed: 0 };
  for (const r of statement.all() as Array<{ status: CanvasStatus; n: number }>) out[r.status] = r.n;
  return out;
}

export interface CanvasRow {
  item_id: string;
  manifest_url: string;
  canvas_id: string;
  idx: number;
  record: string;
  record_hash: string;
  image_url: string;
  image_etag: string | null;
  image_last_modified: string | null;
  image_hash: string | null;
  image_width: number | null;
  image_height: number | null;
  status: CanvasStatus;
  reason: string | null;
  retryable: number;
  attempts: number;
  model_id: string | null;
  metadata_dirty: number;
}

export interface DocumentRow {
  url: string;
  kind: string;
  doc_id: string | null;
  label: string | null;
  etag: string | null;
  last_modified: string | null;
  content_hash: string | null;
  children: string | null;
  status: 'ok' | 'failed';
  error: string | null;
}

export interface SourceRow {
  id: number;
  url: string;
  kind: string | null;
  collection: string | null;
  change_watermark: string | null;
}

/** A canvas as the latest version of its manifest describes it. */
export interface CanvasUpsert {
  itemId: string;
  manifestUrl: string;
  canvasId: string;
  index: number;
  record: string;
  recordHash: string;
  imageUrl: string;
}

/** A canvas still to fetch or index: new, fetched but not indexed, or failed with attempts left (one `?`: harvest.maxAttempts). */
const NEEDS_WORK = `(status IN ('pending', 'fetched') OR (status = 'failed' AND retryable = 1 AND attempts < ?))`;

export interface CanvasChanges {
  added: number;
  imageChanged: number;
  metadataChanged: number;
  unchanged: number;
  removed: string[];
  /** Manifest URLs whose canvases these are (same item ids): the manifest moved from there. */
  movedFrom: string[];
}

const now = () => new Date().toISOString();

/**
 * Thin repository over the SQLite journal. Every state change is a single
 * statement or a transaction, so a process killed at any instant leaves a
 * journal that the next run can continue from.
 */
export class Journal {
  readonly db: Database.Database;
  private readonly statements: StatementCache;

  constructor(readonly file: string) {
    this.db = openDatabase(file, { version: JOURNAL_VERSION, ddl: JOURNAL_SCHEMA, what: 'journal' });
    this.statements = new StatementCache(this.db);
  }

  close(): void {
    this.db.close();
  }

  private statement(sql: string): Database.Statement {
    return this.statements.get(sql);
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  // --- runs ---------------------------------------------------------------

  startRun(args: unknown): number {
    // A run still marked running was killed: say so rather than leave it dangling.
    this.statement(`UPDATE runs SET status = 'interrupted', finished_at = ? WHERE status = 'running'`).run(now());
    const info = this
      .statement(`INSERT INTO runs (started_at, status, args) VALUES (?, 'running', ?)`)
      .run(now(), JSON.stringify(args));
    return Number(info.lastInsertRowid);
  }

  finishRun(runId: number, status: string, summary: unknown): void {
    this
      .statement(`UPDATE runs SET finished_at = ?, status = ?, summary = ? WHERE id = ?`)
      .run(now(), status, JSON.stringify(summary), runId);
  }

  lastRuns(limit = 10): Array<{ id: number; started_at: string; finished_at: string | null; status: string; summary: string | null }> {
    return this.statement(`SELECT id, started_at, finished_at, status, summary FROM runs ORDER BY id DESC LIMIT ?`).all(limit) as never;
  }

  // --- sources ------------------------------------------------------------

  ensureSource(url: string, collection?: string): SourceRow {
    this
      .statement(`INSERT INTO sources (url, collection, added_at) VALUES (?, ?, ?) ON CONFLICT(url) DO UPDATE SET collection = COALESCE(excluded.collection, collection)`)
      .run(url, collection ?? null, now());
    return this.statement(`SELECT id, url, kind, collection, change_watermark FROM sources WHERE url = ?`).get(url) as SourceRow;
  }

  updateSource(id: number, fields: { kind?: string; changeWatermark?: string; lastRunId?: number }): void {
    this
      .statement(
        `UPDATE sources SET kind = COALESCE(?, kind), change_watermark = COALESCE(?, change_watermark), last_run_id = COALESCE(?, last_run_id) WHERE id = ?`,
      )
      .run(fields.kind ?? null, fields.changeWatermark ?? null, fields.lastRunId ?? null, id);
  }

  // --- documents ----------------------------------------------------------

  getDocument(url: string): DocumentRow | undefined {
    return this.statement(`SELECT * FROM documents WHERE url = ?`).get(url) as DocumentRow | undefined;
  }

  saveDocument(doc: {
    url: string;
    kind: string;
    docId?: string;
    label?: string;
    etag?: string;
    lastModified?: string;
    contentHash?: string;
    children?: string;
    status: 'ok' | 'failed';
    error?: string;
    runId: number;
  }): void {
    // A failed fetch keeps the validators and hash of the last good version, so that
    // the next run can still ask conditionally and nothing already indexed is dropped.
    this
      .statement(
        `INSERT INTO documents (url, kind, doc_id, label, etag, last_modified, content_hash, children, status, error, fetched_at, seen_run_id)
         VALUES (@url, @kind, @docId, @label, @etag, @lastModified, @contentHash, @children, @status, @error, @fetchedAt, @runId)
         ON CONFLICT(url) DO UPDATE SET
           kind = excluded.kind,
           doc_id = COALESCE(excluded.doc_id, doc_id),
           label = COALESCE(excluded.label, label),
           etag = CASE WHEN excluded.status = 'ok' THEN excluded.etag ELSE etag END,
           last_modified = CASE WHEN excluded.status = 'ok' THEN excluded.last_modified ELSE last_modified END,
           content_hash = COALESCE(excluded.content_hash, content_hash),
           children = COALESCE(excluded.children, children),
           status = excluded.status, error = excluded.error,
           fetched_at = excluded.fetched_at, seen_run_id = excluded.seen_run_id`,
      )
      .run({
        url: doc.url,
        kind: doc.kind,
        docId: doc.docId ?? null,
        label: doc.label ?? null,
        etag: doc.etag ?? null,
        lastModified: doc.lastModified ?? null,
        contentHash: doc.contentHash ?? null,
        children: doc.children ?? null,
        status: doc.status,
        error: doc.error ?? null,
        fetchedAt: now(),
        runId: doc.runId,
      });
  }

  // --- manifests reached from sources -------------------------------------

  linkManifest(sourceId: number, manifestUrl: string, collectionPath: string[], runId: number): void {
    this
      .statement(
        `INSERT INTO source_manifests (source_id, manifest_url, collection_path, seen_run_id) VALUES (?, ?, ?, ?)
         ON CONFLICT(source_id, manifest_url) DO UPDATE SET collection_path = excluded.collection_path, seen_run_id = excluded.seen_run_id`,
      )
      .run(sourceId, manifestUrl, JSON.stringify(collectionPath), runId);
  }

  unlinkManifest(sourceId: number, manifestUrl: string): void {
    this.statement(`DELETE FROM source_manifests WHERE source_id = ? AND manifest_url = ?`).run(sourceId, manifestUrl);
  }

  /** Unlinks manifests a fully traversed source no longer lists; returns the manifests no source lists any more. */
  unlinkUnseen(sourceId: number, runId: number): string[] {
    return this.transaction(() => {
      const unseen = this
        .statement(`SELECT manifest_url FROM source_manifests WHERE source_id = ? AND seen_run_id <> ?`)
        .pluck()
        .all(sourceId, runId) as string[];
      this.statement(`DELETE FROM source_manifests WHERE source_id = ? AND seen_run_id <> ?`).run(sourceId, runId);
      return unseen.filter((url) => !this.isLinked(url));
    });
  }

  isLinked(manifestUrl: string): boolean {
    return !!this.statement(`SELECT 1 FROM source_manifests WHERE manifest_url = ? LIMIT 1`).get(manifestUrl);
  }

  /** Other URLs whose canvases are indexed for the manifest that calls itself `docId`. */
  manifestsWithDocId(docId: string, exceptUrl: string): string[] {
    return this
      .statement(
        `SELECT d.url FROM documents d WHERE d.doc_id = ? AND d.kind = 'manifest' AND d.url <> ?
           AND EXISTS (SELECT 1 FROM canvases c WHERE c.manifest_url = d.url)`,
      )
      .pluck()
      .all(docId, exceptUrl) as string[];
  }

  /** Manifest URLs other than `exceptUrl` that hold some of these items: where a manifest moved from. */
  manifestsHolding(itemIds: string[], exceptUrl: string): string[] {
    const stmt = this.statement(`SELECT manifest_url FROM canvases WHERE item_id = ?`).pluck();
    const found = new Set<string>();
    for (const id of itemIds) {
      const url = stmt.get(id) as string | undefined;
      if (url !== undefined && url !== exceptUrl) found.add(url);
    }
    return [...found];
  }

  /**
   * The manifest at `from` is now at `to` (the same items: a published folder served on another
   * port, or behind another name). Its canvases move with what they know of their images, so
   * nothing is fetched or embedded again; image URLs under the old address follow to the new one.
   * The old URL's document and links go: it is not a manifest of its own.
   */
  moveManifest(from: string, to: string): void {
    const [oldBase, newBase] = movedBases(from, to);
    this.transaction(() => {
      const rows = this.statement(`SELECT item_id, image_url FROM canvases WHERE manifest_url = ?`).all(from) as Array<{ item_id: string; image_url: string }>;
      const move = this.statement(`UPDATE canvases SET manifest_url = ?, image_url = ?, updated_at = ? WHERE item_id = ?`);
      const t = now();
      for (const row of rows) {
        const imageUrl = oldBase !== undefined && row.image_url.startsWith(`${oldBase}/`) ? `${newBase}${row.image_url.slice(oldBase.length)}` : row.image_url;
        move.run(to, imageUrl, t, row.item_id);
      }
      this.statement(`DELETE FROM documents WHERE url = ?`).run(from);
      this.statement(`DELETE FROM source_manifests WHERE manifest_url = ?`).run(from);
    });
  }

  // --- canvases -----------------------------------------------------------

  canvasesOfManifest(manifestUrl: string): CanvasRow[] {
    return this.statement(`SELECT * FROM canvases WHERE manifest_url = ? ORDER BY idx`).all(manifestUrl) as CanvasRow[];
  }

  /**
   * Brings the canvases of one manifest in line with its latest version, in one transaction:
   * new canvases become pending, a changed image goes back to pending, a metadata-only change
   * is flagged for the stage, and canvases that disappeared are deleted (their ids returned
   * so that the caller removes them from the index). Region items (region-items.ts) follow their
   * canvas: those a canvas no longer has are returned for removal, and a canvas that gained regions
   * is indexed again (from the image cache when it is there), since new regions need its pixels.
   */
  syncManifestCanvases(manifestUrl: string, canvases: CanvasUpsert[], opts: { recheckImages: boolean }): CanvasChanges {
    return this.transaction(() => {
      const movedFrom = this.manifestsHolding(canvases.map((c) => c.itemId), manifestUrl);
      for (const from of movedFrom) this.moveManifest(from, manifestUrl);
      const existing = new Map(this.canvasesOfManifest(manifestUrl).map((row) => [row.item_id, row]));
      const changes: CanvasChanges = { added: 0, imageChanged: 0, metadataChanged: 0, unchanged: 0, removed: [], movedFrom };
      const insert = this.statement(
        `INSERT INTO canvases (item_id, manifest_url, canvas_id, idx, record, record_hash, image_url, status, updated_at)
         VALUES (@itemId, @manifestUrl, @canvasId, @index, @record, @recordHash, @imageUrl, 'pending', @now)`,
      );
      const resetImage = this.statement(
        `UPDATE canvases SET canvas_id = @canvasId, idx = @index, record = @record, record_hash = @recordHash, image_url = @imageUrl,
           image_etag = NULL, image_last_modified = NULL, status = 'pending', reason = NULL, retryable = 1, attempts = 0, updated_at = @now
         WHERE item_id = @itemId`,
      );
      const updateRecord = this.statement(
        `UPDATE canvases SET canvas_id = @canvasId, idx = @index, record = @record, record_hash = @recordHash,
           metadata_dirty = CASE WHEN status = 'indexed' THEN 1 ELSE metadata_dirty END, updated_at = @now
         WHERE item_id = @itemId`,
      );
      // Processed again as if another stage had indexed it: from the cached image, else fetched anew.
      const reindex = this.statement(
        `UPDATE canvases SET status = CASE WHEN image_hash IS NOT NULL THEN 'fetched' ELSE 'pending' END, model_id = NULL,
           metadata_dirty = 0, updated_at = @now WHERE item_id = @itemId AND status = 'indexed'`,
      );
      // A changed manifest may mean changed pixels behind the same URL: ask again, conditionally.
      const recheck = this.statement(
        `UPDATE canvases SET status = 'pending', updated_at = @now WHERE item_id = @itemId AND status = 'indexed'`,
      );
      const retryFailed = this.statement(
        `UPDATE canvases SET status = 'pending', attempts = 0, retryable = 1, updated_at = @now WHERE item_id = @itemId AND status = 'failed'`,
      );
      const t = now();
      for (const c of canvases) {
        const row = existing.get(c.itemId);
        existing.delete(c.itemId);
        const params = { ...c, now: t };
        let gainedRegions = false;
        if (row && row.record_hash !== c.recordHash) {
          const before = regionItemIdsOfJson(row.item_id, row.record);
          const after = new Set(regionItemIdsOfJson(c.itemId, c.record));
          changes.removed.push(...before.filter((id) => !after.has(id)));
          gainedRegions = [...after].some((id) => !before.includes(id));
        }
        if (!row) {
          insert.run(params);
          changes.added++;
        } else if (row.image_url !== c.imageUrl) {
          resetImage.run(params);
          changes.imageChanged++;
        } else {
          if (row.record_hash !== c.recordHash) {
            updateRecord.run(params);
            if (gainedRegions) reindex.run(params);
            changes.metadataChanged++;
          } else changes.unchanged++;
          if (opts.recheckImages) {
            recheck.run(params);
            retryFailed.run(params);
          }
        }
      }
      const del = this.statement(`DELETE FROM canvases WHERE item_id = ?`);
      for (const [gone, row] of existing) {
        del.run(gone);
        changes.removed.push(gone, ...regionItemIdsOfJson(gone, row.record));
      }
      return changes;
    });
  }

  /** Deletes a manifest's canvases and document; returns the ids of its items in the index, region items included. */
  deleteManifestCanvases(manifestUrl: string): string[] {
    return this.transaction(() => {
      const rows = this.statement(`SELECT item_id, record FROM canvases WHERE manifest_url = ?`).all(manifestUrl) as Array<{ item_id: string; record: string }>;
      const ids = rows.flatMap((row) => [row.item_id, ...regionItemIdsOfJson(row.item_id, row.record)]);
      this.statement(`DELETE FROM canvases WHERE manifest_url = ?`).run(manifestUrl);
      this.statement(`DELETE FROM documents WHERE url = ?`).run(manifestUrl);
      return ids;
    });
  }

  /** Canvases that still need work, oldest first; failed ones only while attempts remain. */
  *workQueue(maxAttempts: number): Generator<CanvasRow> {
    const stmt = this.statement(`SELECT * FROM canvases WHERE ${NEEDS_WORK} AND item_id > ? ORDER BY item_id LIMIT 500`);
    let after = '';
    for (;;) {
      const rows = stmt.all(maxAttempts, after) as CanvasRow[];
      if (!rows.length) return;
      for (const row of rows) {
        after = row.item_id;
        yield row;
      }
    }
  }

  /** The canvases of one manifest that still need work, in canvas order (bounded by harvest.maxCanvasesPerManifest). */
  manifestWork(manifestUrl: string, maxAttempts: number): CanvasRow[] {
    return this.statement(`SELECT * FROM canvases WHERE manifest_url = ? AND ${NEEDS_WORK} ORDER BY idx`).all(manifestUrl, maxAttempts) as CanvasRow[];
  }

  /** How many canvases still need work, leaving out those in `except` (ids only: no records read). */
  countWork(maxAttempts: number, except: ReadonlySet<string>): number {
    let n = 0;
    for (const id of this.statement(`SELECT item_id FROM canvases WHERE ${NEEDS_WORK}`).pluck().iterate(maxAttempts) as IterableIterator<string>) {
      if (!except.has(id)) n++;
    }
    return n;
  }

  /**
   * Canvases indexed by a stage the current one does not take as its own (a new model, or a stage
   * that stored them without vectors) go back to work; their cached images are used, so nothing
   * is downloaded again.
   */
  requeueOtherStages(keeps: (indexedBy: string | null) => boolean): number {
    return this.transaction(() => {
      const stages = this.statement(`SELECT DISTINCT model_id FROM canvases WHERE status = 'indexed'`).pluck().all() as Array<string | null>;
      const requeue = this.statement(
        `UPDATE canvases SET status = CASE WHEN image_hash IS NOT NULL THEN 'fetched' ELSE 'pending' END, updated_at = ?
         WHERE status = 'indexed' AND model_id IS ?`,
      );
      let n = 0;
      for (const stage of stages) if (!keeps(stage)) n += requeue.run(now(), stage).changes;
      return n;
    });
  }

  metadataDirty(): CanvasRow[] {
    return this.statement(`SELECT * FROM canvases WHERE metadata_dirty = 1`).all() as CanvasRow[];
  }

  clearMetadataDirty(itemIds: string[]): void {
    const stmt = this.statement(`UPDATE canvases SET metadata_dirty = 0 WHERE item_id = ?`);
    this.transaction(() => itemIds.forEach((id) => stmt.run(id)));
  }

  markFetched(itemId: string, f: { etag?: string; lastModified?: string; hash: string }): void {
    this
      .statement(
        `UPDATE canvases SET status = 'fetched', image_etag = ?, image_last_modified = ?, image_hash = ?, reason = NULL, updated_at = ? WHERE item_id = ?`,
      )
      .run(f.etag ?? null, f.lastModified ?? null, f.hash, now(), itemId);
  }

  /** The image did not change since it was indexed (304 or same bytes). */
  markUnchanged(itemId: string): void {
    this.statement(`UPDATE canvases SET status = 'indexed', reason = NULL, updated_at = ? WHERE item_id = ?`).run(now(), itemId);
  }

  /** Returns the items no longer in the journal (their manifest was removed meanwhile): the index must drop them. */
  markIndexed(items: Array<{ itemId: string; width: number; height: number }>, modelId: string): string[] {
    const stmt = this.statement(
      `UPDATE canvases SET status = 'indexed', image_width = ?, image_height = ?, model_id = ?, reason = NULL, metadata_dirty = 0, updated_at = ? WHERE item_id = ?`,
    );
    const t = now();
    return this.transaction(() => items.filter((i) => stmt.run(i.width, i.height, modelId, t, i.itemId).changes === 0).map((i) => i.itemId));
  }

  markFailed(itemId: string, reason: string, retryable: boolean): void {
    this
      .statement(
        `UPDATE canvases SET status = 'failed', reason = ?, retryable = ?, attempts = attempts + 1, updated_at = ? WHERE item_id = ?`,
      )
      .run(reason, retryable ? 1 : 0, now(), itemId);
  }

  counts(): Record<CanvasStatus, number> {
    return countsByStatus(this.statement(COUNTS_SQL));
  }

  /**
   * Canvases per status in the journal at `file`, read on a read-only connection that waits at
   * most `timeoutMs` for a lock: under WAL it never waits for a harvest writing beside it, so a
   * server's status request cannot stall. Undefined when there is no journal or it cannot be read.
   */
  static readCounts(file: string, timeoutMs = 200): Record<CanvasStatus, number> | undefined {
    if (!existsSync(file)) return undefined;
    let db: Database.Database | undefined;
    try {
      db = openReadOnly(file, timeoutMs);
      return countsByStatus(db.prepare(COUNTS_SQL));
    } catch {
      return undefined;
    } finally {
      db?.close();
    }
  }

  /** Canvases indexed by stages whose id starts with this (e.g. the stage without a model). */
  countIndexedBy(stageIdPrefix: string): number {
    return this
      .statement(`SELECT COUNT(*) FROM canvases WHERE status = 'indexed' AND substr(model_id, 1, ?) = ?`)
      .pluck()
      .get(stageIdPrefix.length, stageIdPrefix) as number;
  }

  failures(limit = 1000): Array<{ item_id: string; canvas_id: string; manifest_url: string; image_url: string; reason: string }> {
    return this
      .statement(`SELECT item_id, canvas_id, manifest_url, image_url, reason FROM canvases WHERE status = 'failed' ORDER BY manifest_url, idx LIMIT ?`)
      .all(limit) as never;
  }
}

/**
 * The old and new address of a manifest that moved: the URLs less the path they share (cut at a
 * `/`), e.g. `http://127.0.0.1:3000` and `http://127.0.0.1:4000` for `…/iiif/manifest.json`.
 * Undefined when the paths differ.
 */
function movedBases(from: string, to: string): [string | undefined, string | undefined] {
  let shared = 0;
  while (shared < from.length && shared < to.length && from[from.length - 1 - shared] === to[to.length - 1 - shared]) shared++;
  const suffix = from.slice(from.length - shared);
  const cut = suffix.indexOf('/');
  if (cut < 0) return [undefined, undefined];
  const keep = suffix.length - cut;
  return [from.slice(0, from.length - keep), to.slice(0, to.length - keep)];
}
