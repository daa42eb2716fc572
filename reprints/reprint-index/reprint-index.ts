import type Database from 'better-sqlite3';
import path from 'node:path';
import type { ImageFeatures, Rect } from '../features/index.ts';
import type { Vocabulary } from '../features/index.ts';
import {
  decodeDescriptors,
  decodeFrame,
  decodePoints,
  decodeWords,
  encodeDescriptors,
  encodeFrame,
  encodePoints,
  encodeWords,
  type StoredFeatures,
} from './feature-codec.ts';
import { InvertedFile, type Candidate } from './inverted-file.ts';
import { invertedFilePath, loadInvertedFile, saveInvertedFile, type InvertedFileStamp } from './inverted-file-store.ts';
import { REPRINT_SCHEMA, REPRINT_SCHEMA_VERSION } from './schema.ts';
import { openDatabase, RepriseError, SchemaTooNewError } from '../../common/index.ts';

/** What a reprint hit needs to say where it is, without asking the vector store. */
export interface ReprintItem {
  canvasId?: string;
  manifestId?: string;
  manifestUrl?: string;
  manifestLabel?: string;
  label?: string;
  collections?: string[];
  /** Canvas size, to turn source pixels into canvas coordinates (xywh). */
  canvasWidth?: number;
  canvasHeight?: number;
  /**
   * Set on a part of an item: a picture found printed on a page, indexed on its own (at the size
   * a photograph is) with its frame in the page's pixels. Its id is `partId(partOf, n)`; hits and
   * pairs report the item it is part of. It comes and goes with that item.
   */
  partOf?: string;
  /**
   * Set on a region item (an annotated part of a canvas, an item of its own beside it): its
   * features are the region's pixels, and `shown` (the part of the canvas they show, canvas
   * coordinates) maps them onto the canvas, so hits and pairs on it report canvas coordinates. A
   * region item and its own canvas are one printing, never reprints of each other (same-printing.ts).
   */
  region?: RegionOnCanvas;
}

/** Where a region item lies on its canvas. */
export interface RegionOnCanvas {
  /** The canvas's item id. */
  canvasItemId: string;
  /** The region's box on the canvas (the annotation's xywh). */
  box: Rect;
  /** The part of the canvas the region's pixels show: the box cut to the painted image and to whole pixels of it. */
  shown: Rect;
}

/** The id of an item's n-th part (see ReprintItem.partOf). */
export const partId = (id: string, n: number): string => `${id}#${n}`;

export interface ReprintEntry {
  id: string;
  imageHash?: string;
  item: ReprintItem;
  features: ImageFeatures;
  /** The descriptors' words in this index's vocabulary, when the caller has them already (bulk loads); assigned otherwise. */
  words?: Uint16Array;
}

export interface IndexedImage {
  doc: number;
  id: string;
  item: ReprintItem;
  empty?: string;
}

export interface StoredPair {
  a: number;
  b: number;
  inliers: number;
  regionA: Rect;
  regionB: Rect;
}

export class ReprintIndexError extends RepriseError {
  override readonly name = 'ReprintIndexError';
}

interface ImageRow {
  doc: number;
  id: string;
  item: string;
  empty: string | null;
}

/**
 * The reprint index: features per item in SQLite (the source of truth) and the tf-idf inverted
 * file derived from their words in memory. Upsert replaces by item id; delete removes the
 * item's features, words and pairs together, so the candidate stage never returns a deleted item.
 */
export class ReprintIndex {
  private readonly db: Database.Database;
  /** Loaded when first needed (candidates, searchable) unless open() loads it at once. */
  private inverted: InvertedFile | undefined;
  /** SQLite's data_version when the inverted file was loaded: it changes when another connection commits. */
  private loadedVersion = -1;
  private closed = false;

  private constructor(
    readonly file: string,
    readonly vocabulary: Vocabulary,
  ) {
    try {
      this.db = openDatabase(file, { version: REPRINT_SCHEMA_VERSION, ddl: REPRINT_SCHEMA, what: 'reprint index' });
    } catch (err) {
      throw err instanceof SchemaTooNewError ? new ReprintIndexError(err.message, { cause: err }) : err;
    }
  }

  /** The index's SQLite file under `dir`: until a harvest creates it, there is no index to search. */
  static fileIn(dir: string): string {
    return path.join(dir, 'features.db');
  }

  /**
   * Opens (or creates) the index under `dir`; images whose words come from another vocabulary are
   * re-assigned from their descriptors. The inverted file is loaded at once (a server's first
   * search does not wait for it), or with `{ candidates: 'lazily' }` when first asked for: a
   * harvest only writes, and loading it (seconds for a large collection) would stop a server's
   * event loop at the start of every admin harvest for nothing.
   */
  static open(dir: string, vocabulary: Vocabulary, options: { candidates?: 'at-once' | 'lazily' } = {}): ReprintIndex {
    const index = new ReprintIndex(ReprintIndex.fileIn(dir), vocabulary);
    try {
      index.reassignStale();
      if (options.candidates !== 'lazily') index.loadInvertedFile();
    } catch (err) {
      index.close();
      throw err;
    }
    return index;
  }

  private reassignStale(): void {
    const stale = this.db.prepare('SELECT i.doc AS doc, d.data AS data FROM images i JOIN descriptors d ON d.doc = i.doc WHERE i.vocabulary <> ?').iterate(this.vocabulary.id) as Iterable<{ doc: number; data: Buffer }>;
    const update = this.db.prepare('UPDATE images SET words = ?, vocabulary = ?, scanned = 0 WHERE doc = ?');
    const rows = [...stale];
    if (!rows.length) return;
    this.db.transaction(() => {
      for (const row of rows) update.run(encodeWords(this.vocabulary.assign(decodeDescriptors(row.data))), this.vocabulary.id, row.doc);
      // Pairs were found through the old words' candidates; the next scan finds them again.
      this.db.prepare('DELETE FROM pairs').run();
    })();
  }

  /** The generation the in-memory inverted file reflects (its saved file is current at that one). */
  private invertedGeneration = -1;
  /** Where the inverted file last came from: its saved copy, or rebuilt from SQLite (and why). */
  invertedOrigin: { source: 'file' } | { source: 'rebuilt'; reason: string } | undefined;

  private stamp(): InvertedFileStamp {
    const meta = (key: string) => (this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)?.value;
    return { indexId: meta('index_id') ?? '', generation: Number(meta('generation') ?? 0), vocabularyId: this.vocabulary.id };
  }

  /**
   * The inverted file from its saved copy when that is at the index's generation (well under a
   * second at 100k images), else rebuilt from every image's words (19.5 s at 100k) and saved.
   */
  private loadInvertedFile(): InvertedFile {
    const file = invertedFilePath(this.file);
    // One read snapshot: the generation and the words it stamps.
    const { inverted, stamp, rebuilt } = this.db.transaction(() => {
      const stamp = this.stamp();
      this.loadedVersion = this.dataVersion();
      const saved = loadInvertedFile(file, stamp);
      if ('inverted' in saved && saved.inverted.vocabularySize === this.vocabulary.size) {
        this.invertedOrigin = { source: 'file' };
        return { inverted: saved.inverted, stamp, rebuilt: false };
      }
      this.invertedOrigin = { source: 'rebuilt', reason: 'reason' in saved ? saved.reason : 'it was made for another vocabulary size' };
      const inverted = new InvertedFile(this.vocabulary.size);
      const rows = this.db.prepare('SELECT doc, words FROM images WHERE empty IS NULL').iterate() as Iterable<{ doc: number; words: Buffer }>;
      for (const row of rows) inverted.add(row.doc, decodeWords(row.words));
      return { inverted, stamp, rebuilt: true };
    })();
    if (rebuilt) this.saveInverted(inverted, stamp);
    this.inverted = inverted;
    this.invertedGeneration = stamp.generation;
    return inverted;
  }

  private saveInverted(inverted: InvertedFile, stamp: InvertedFileStamp): void {
    try {
      saveInvertedFile(invertedFilePath(this.file), inverted, stamp);
    } catch {
      // A read-only folder or a full disk: the next open rebuilds from SQLite, as before there was a file.
    }
  }

  private invertedFile(): InvertedFile {
    return this.inverted ?? this.loadInvertedFile();
  }

  get size(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM images').get() as { n: number }).n;
  }

  /** Images with features (the inverted file's documents). */
  get searchable(): number {
    return this.invertedFile().size;
  }

  /** Replaces each entry's features by id, in one transaction. */
  upsert(entries: ReprintEntry[]): void {
    this.assertOpen();
    const find = this.db.prepare('SELECT doc, words, image_hash FROM images WHERE id = ?');
    const remove = this.db.prepare('DELETE FROM images WHERE doc = ?');
    const findParts = this.partsQuery('doc, words');
    const insert = this.db.prepare(
      'INSERT INTO images (id, image_hash, vocabulary, item, frame, words, points, empty) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const insertDescriptors = this.db.prepare('INSERT INTO descriptors (doc, data) VALUES (?, ?)');
    const added: Array<{ doc: number; words: Uint16Array }> = [];
    const removed: Array<{ doc: number; words: Uint16Array }> = [];
    this.db.transaction(() => {
      for (const entry of entries) {
        const old = find.get(entry.id) as { doc: number; words: Buffer } | undefined;
        // A whole item replaces its parts too: the entries that follow it bring the new ones.
        const oldParts = entry.item.partOf === undefined ? (findParts(entry.id) as Array<{ doc: number; words: Buffer }>) : [];
        for (const row of old ? [old, ...oldParts] : oldParts) {
          remove.run(row.doc);
          removed.push({ doc: row.doc, words: decodeWords(row.words) });
        }
        const f = entry.features;
        const words = f.empty ? new Uint16Array(0) : (entry.words ?? this.vocabulary.assign(f.descriptors));
        const info = insert.run(
          entry.id,
          entry.imageHash ?? null,
          this.vocabulary.id,
          JSON.stringify(entry.item),
          encodeFrame(f.frame),
          encodeWords(words),
          encodePoints(f.keypoints),
          f.empty ?? null,
        );
        const doc = Number(info.lastInsertRowid);
        if (!f.empty) {
          insertDescriptors.run(doc, encodeDescriptors(f.descriptors));
          added.push({ doc, words });
        }
      }
    })();
    // Not loaded yet: it will be read from the tables, these changes included.
    for (const r of removed) this.inverted?.remove(r.doc, r.words);
    for (const a of added) this.inverted?.add(a.doc, a.words);
  }

  /** Updates what hits say about items (labels, manifest), keeping their features. */
  updateItems(items: Array<{ id: string; item: ReprintItem }>): void {
    this.assertOpen();
    const update = this.db.prepare('UPDATE images SET item = ? WHERE id = ?');
    const parts = this.partsQuery('id');
    this.db.transaction(() => {
      for (const { id, item } of items) {
        update.run(JSON.stringify(item), id);
        for (const part of parts(id) as Array<{ id: string }>) update.run(JSON.stringify({ ...item, partOf: id }), part.id);
      }
    })();
  }

  /** Removes items with their parts. */
  delete(ids: string[]): void {
    this.assertOpen();
    const find = this.db.prepare('SELECT doc, words FROM images WHERE id = ?');
    const findParts = this.partsQuery('doc, words');
    const remove = this.db.prepare('DELETE FROM images WHERE doc = ?');
    const removed: Array<{ doc: number; words: Uint16Array }> = [];
    this.db.transaction(() => {
      for (const id of ids) {
        const row = find.get(id) as { doc: number; words: Buffer } | undefined;
        for (const r of [...(row ? [row] : []), ...(findParts(id) as Array<{ doc: number; words: Buffer }>)]) {
          remove.run(r.doc);
          removed.push({ doc: r.doc, words: decodeWords(r.words) });
        }
      }
    })();
    for (const r of removed) this.inverted?.remove(r.doc, r.words);
  }

  /**
   * The parts of an item (ReprintItem.partOf), by their ids' range (`id#…`, from the unique index)
   * and checked by partOf, so that another item whose id happens to start so is never taken.
   */
  private partsQuery(columns: string): (id: string) => unknown[] {
    const statement = this.db.prepare(`SELECT ${columns} FROM images WHERE id > ? AND id < ? AND json_extract(item, '$.partOf') = ? ORDER BY doc`);
    // '#' + 1 is '$': every id that starts with `${id}#` sorts between the two.
    return (id) => statement.all(`${id}#`, `${id}$`, id);
  }

  /**
   * The region items of a canvas (ReprintItem.region) and their parts, by their ids' range (a region
   * item's id starts with its canvas's and `-`: `{canvas item id}-xywh-x-y-w-h`) and checked by
   * region.canvasItemId, so that another item whose id happens to start so is never taken.
   */
  regionsOf(canvasId: string): IndexedImage[] {
    const statement = this.db.prepare(`SELECT doc, id, item, empty FROM images WHERE id > ? AND id < ? AND json_extract(item, '$.region.canvasItemId') = ? ORDER BY doc`);
    // '-' + 1 is '.': every id that starts with `${canvasId}-` sorts between the two.
    return (statement.all(`${canvasId}-`, `${canvasId}.`, canvasId) as ImageRow[]).map(toImage);
  }

  /** The documents of an item: its own, then its parts'. */
  docsOf(id: string): number[] {
    const own = this.db.prepare('SELECT doc FROM images WHERE id = ?').get(id) as { doc: number } | undefined;
    return [...(own ? [own.doc] : []), ...(this.partsQuery('doc')(id) as Array<{ doc: number }>).map((r) => r.doc)];
  }

  has(id: string): boolean {
    return !!this.db.prepare('SELECT 1 FROM images WHERE id = ?').get(id);
  }

  image(id: string): IndexedImage | undefined {
    const row = this.db.prepare('SELECT doc, id, item, empty FROM images WHERE id = ?').get(id) as ImageRow | undefined;
    return row && toImage(row);
  }

  imageByDoc(doc: number): IndexedImage | undefined {
    const row = this.db.prepare('SELECT doc, id, item, empty FROM images WHERE doc = ?').get(doc) as ImageRow | undefined;
    return row && toImage(row);
  }

  /** Words the inverted file holds for an indexed image. */
  words(doc: number): Uint16Array {
    const row = this.db.prepare('SELECT words FROM images WHERE doc = ?').get(doc) as { words: Buffer } | undefined;
    return row ? decodeWords(row.words) : new Uint16Array(0);
  }

  /** Geometry and descriptors for verification. */
  features(doc: number): StoredFeatures | undefined {
    const row = this.db.prepare('SELECT i.frame AS frame, i.points AS points, d.data AS data FROM images i JOIN descriptors d ON d.doc = i.doc WHERE i.doc = ?').get(doc) as
      | { frame: Buffer; points: Buffer; data: Buffer }
      | undefined;
    return row && { frame: decodeFrame(row.frame), keypoints: decodePoints(row.points), descriptors: decodeDescriptors(row.data) };
  }

  frame(doc: number): ImageFeatures['frame'] | undefined {
    const row = this.db.prepare('SELECT frame FROM images WHERE doc = ?').get(doc) as { frame: Buffer } | undefined;
    return row && decodeFrame(row.frame);
  }

  candidates(words: Uint16Array, limit: number, exclude?: number | ReadonlySet<number>): Candidate[] {
    this.assertOpen();
    this.refreshIfChanged();
    return this.invertedFile().query(words, limit, exclude);
  }

  private dataVersion(): number {
    return this.db.pragma('data_version', { simple: true }) as number;
  }

  /**
   * Another process or connection (a harvest while the API serves) changed the index: reload the
   * inverted file, so that search never returns a deleted item or misses a new one.
   */
  refreshIfChanged(): void {
    if (this.inverted && this.dataVersion() !== this.loadedVersion) this.loadInvertedFile();
  }

  /** All descriptors, image by image (training a vocabulary on the collection). */
  *allDescriptors(): Generator<Uint8Array> {
    for (const row of this.db.prepare('SELECT data FROM descriptors').iterate() as Iterable<{ data: Buffer }>) yield new Uint8Array(row.data);
  }

  /** How many images the collection-wide scan has yet to compare (cheap: a partial index holds exactly them). */
  unscannedCount(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM images WHERE scanned = 0 AND empty IS NULL').get() as { n: number }).n;
  }

  unscanned(limit: number): number[] {
    return (this.db.prepare('SELECT doc FROM images WHERE scanned = 0 AND empty IS NULL ORDER BY doc LIMIT ?').all(limit) as Array<{ doc: number }>).map((r) => r.doc);
  }

  /** Records the pairs one image's scan found and marks it scanned, atomically (a killed scan resumes). */
  recordScan(doc: number, pairs: StoredPair[]): void {
    // A pair found again with more inliers (from another view of a page) keeps that match's regions.
    const insert = this.db.prepare(
      'INSERT INTO pairs (a, b, inliers, region_a, region_b) VALUES (?, ?, ?, ?, ?) ' +
        'ON CONFLICT(a, b) DO UPDATE SET inliers = excluded.inliers, region_a = excluded.region_a, region_b = excluded.region_b WHERE excluded.inliers > pairs.inliers',
    );
    this.db.transaction(() => {
      for (const p of pairs) {
        const [a, b, ra, rb] = p.a < p.b ? [p.a, p.b, p.regionA, p.regionB] : [p.b, p.a, p.regionB, p.regionA];
        if (this.db.prepare('SELECT 1 FROM images WHERE doc = ?').get(b)) insert.run(a, b, p.inliers, JSON.stringify(ra), JSON.stringify(rb));
      }
      this.db.prepare('UPDATE images SET scanned = 1 WHERE doc = ?').run(doc);
    })();
  }

  pairs(): StoredPair[] {
    return (this.db.prepare('SELECT a, b, inliers, region_a, region_b FROM pairs ORDER BY a, b').all() as PairRow[]).map(toPair);
  }

  /** The pairs of one image, either side. */
  pairsOf(doc: number): StoredPair[] {
    return (this.db.prepare('SELECT a, b, inliers, region_a, region_b FROM pairs WHERE a = ? UNION SELECT a, b, inliers, region_a, region_b FROM pairs WHERE b = ? ORDER BY a, b').all(doc, doc) as PairRow[]).map(toPair);
  }

  /** Bytes on disk (database and WAL), for the per-image figure. */
  diskBytes(): number {
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    const pages = this.db.pragma('page_count', { simple: true }) as number;
    const size = this.db.pragma('page_size', { simple: true }) as number;
    return pages * size;
  }

  private assertOpen(): void {
    if (this.closed) throw new ReprintIndexError('the reprint index is closed');
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      // This connection's own writes moved the inverted file on: save it, unless another writer changed the index meanwhile.
      if (this.inverted && this.dataVersion() === this.loadedVersion) {
        const stamp = this.stamp();
        if (stamp.generation !== this.invertedGeneration) this.saveInverted(this.inverted, stamp);
      }
    } finally {
      this.db.close();
    }
  }
}

interface PairRow {
  a: number;
  b: number;
  inliers: number;
  region_a: string;
  region_b: string;
}

const toPair = (r: PairRow): StoredPair => ({ a: r.a, b: r.b, inliers: r.inliers, regionA: JSON.parse(r.region_a) as Rect, regionB: JSON.parse(r.region_b) as Rect });

const toImage = (row: ImageRow): IndexedImage => ({ doc: row.doc, id: row.id, item: JSON.parse(row.item) as ReprintItem, ...(row.empty ? { empty: row.empty } : {}) });
