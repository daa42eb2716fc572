/**
 * The reprint index's SQLite tables, beside the vector store under dataDir (`reprints/features.db`):
 * the vector stores cannot hold hundreds of visual words and keypoint geometry per image
 * (Meilisearch reads only the first ten words of a keyword query), so this index is Reprise's own.
 * Small columns live in `images`, the descriptors (the only large part) in their own table, so that
 * loading the inverted file at start reads no descriptor pages.
 */
export const REPRINT_SCHEMA_VERSION = 1;

export const REPRINT_SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (
  key    TEXT PRIMARY KEY,
  value  TEXT NOT NULL
);

-- doc is the inverted file's document number; AUTOINCREMENT so a number is never reused.
CREATE TABLE IF NOT EXISTS images (
  doc          INTEGER PRIMARY KEY AUTOINCREMENT,
  id           TEXT NOT NULL UNIQUE,   -- the item id (the harvester's itemId)
  image_hash   TEXT,
  vocabulary   TEXT NOT NULL,          -- id of the vocabulary the words come from
  item         TEXT NOT NULL,          -- JSON ReprintItem: canvas, manifest, labels, canvas size
  frame        BLOB NOT NULL,          -- float64 × 7: AnalysisFrame
  words        BLOB NOT NULL,          -- uint16 per keypoint
  points       BLOB NOT NULL,          -- uint16 x, y × 16 per keypoint (analysed pixels)
  empty        TEXT,                   -- why the image has no features, when it has none
  scanned      INTEGER NOT NULL DEFAULT 0  -- 1 once the collection-wide scan has compared it with the index
);

CREATE TABLE IF NOT EXISTS descriptors (
  doc          INTEGER PRIMARY KEY REFERENCES images(doc) ON DELETE CASCADE,
  data         BLOB NOT NULL           -- 128 bytes per keypoint, RootSIFT × 512
);

-- Verified reprint pairs found by the collection-wide scan, a < b; a pair goes with either image.
CREATE TABLE IF NOT EXISTS pairs (
  a            INTEGER NOT NULL REFERENCES images(doc) ON DELETE CASCADE,
  b            INTEGER NOT NULL REFERENCES images(doc) ON DELETE CASCADE,
  inliers      INTEGER NOT NULL,
  region_a     TEXT NOT NULL,          -- JSON Rect in a's source pixels
  region_b     TEXT NOT NULL,
  PRIMARY KEY (a, b)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS pairs_b ON pairs(b);

-- A generation bumped by every change to the words the inverted file is built from: the saved
-- inverted file (features.ivf) is used only at the generation it was saved at. index_id ties it to
-- this database. Triggers, so that every writer bumps it, whatever code path it takes.
INSERT INTO meta (key, value) VALUES ('generation', '0') ON CONFLICT(key) DO NOTHING;
INSERT INTO meta (key, value) VALUES ('index_id', lower(hex(randomblob(16)))) ON CONFLICT(key) DO NOTHING;
CREATE TRIGGER IF NOT EXISTS images_generation_insert AFTER INSERT ON images BEGIN
  UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation';
END;
CREATE TRIGGER IF NOT EXISTS images_generation_delete AFTER DELETE ON images BEGIN
  UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation';
END;
CREATE TRIGGER IF NOT EXISTS images_generation_update AFTER UPDATE OF words, empty ON images BEGIN
  UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation';
END;

-- The images the collection-wide scan has yet to compare: found without reading every row (and its
-- blobs) when a harvest ends, on the server's thread. Older files get it when next opened.
CREATE INDEX IF NOT EXISTS images_unscanned ON images(scanned) WHERE scanned = 0 AND empty IS NULL;
`;
