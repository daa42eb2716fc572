/**
 * The embedded store's SQLite tables. SQLite is the source of truth; the HNSW file beside it
 * is derived and can always be rebuilt from `vectors`. Versioned with user_version (and the
 * `schema_version` meta key, for humans reading the file) so that a later release can migrate.
 */
export const STORE_SCHEMA_VERSION = 1;

export const STORE_SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

-- rowid is the FTS5 content rowid and the join key of the side tables; id is the harvester's itemId.
CREATE TABLE IF NOT EXISTS items (
  rowid         INTEGER PRIMARY KEY,
  id            TEXT NOT NULL UNIQUE,
  canvas_id     TEXT NOT NULL,
  manifest_id   TEXT NOT NULL,
  manifest_url  TEXT NOT NULL,
  source        TEXT,
  label         TEXT NOT NULL,
  date          TEXT,
  rights        TEXT,
  text          TEXT NOT NULL,
  collections   TEXT NOT NULL,        -- JSON array, root first, as given
  labels        TEXT NOT NULL,        -- JSON array, as given
  record        TEXT NOT NULL         -- JSON, returned as stored
);
CREATE INDEX IF NOT EXISTS items_manifest_id ON items(manifest_id);
CREATE INDEX IF NOT EXISTS items_manifest_url ON items(manifest_url);
CREATE INDEX IF NOT EXISTS items_source ON items(source);
CREATE INDEX IF NOT EXISTS items_rights ON items(rights);
CREATE INDEX IF NOT EXISTS items_date ON items(date);

-- Multi-valued filter fields, one row per value, so that a filter is an index lookup.
CREATE TABLE IF NOT EXISTS item_collections (
  collection    TEXT NOT NULL,
  item_rowid    INTEGER NOT NULL REFERENCES items(rowid) ON DELETE CASCADE,
  PRIMARY KEY (collection, item_rowid)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS item_collections_item ON item_collections(item_rowid);

CREATE TABLE IF NOT EXISTS item_labels (
  label         TEXT NOT NULL,
  item_rowid    INTEGER NOT NULL REFERENCES items(rowid) ON DELETE CASCADE,
  PRIMARY KEY (label, item_rowid)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS item_labels_item ON item_labels(item_rowid);

-- Metadata facets (ItemFields.facets): one row per name and value.
CREATE TABLE IF NOT EXISTS item_facets (
  name          TEXT NOT NULL,
  value         TEXT NOT NULL,
  item_rowid    INTEGER NOT NULL REFERENCES items(rowid) ON DELETE CASCADE,
  ord           INTEGER NOT NULL,     -- the values' order, as given
  PRIMARY KEY (name, value, item_rowid)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS item_facets_item ON item_facets(item_rowid);

-- key is the HNSW key. AUTOINCREMENT so that a key is never reused: a key found in an old
-- index file or in the change log always means the same vector, or a vector that is gone.
CREATE TABLE IF NOT EXISTS vectors (
  key           INTEGER PRIMARY KEY AUTOINCREMENT,
  item_rowid    INTEGER NOT NULL REFERENCES items(rowid) ON DELETE CASCADE,
  ord           INTEGER NOT NULL,     -- 0: the whole image; 1…: regions in the order given
  box           TEXT,                 -- JSON {x,y,w,h} for regions
  vector        BLOB NOT NULL         -- little-endian float32, L2-normalised
);
CREATE INDEX IF NOT EXISTS vectors_item ON vectors(item_rowid, ord);

-- Vector keys added or removed since the HNSW file was last saved, with the generation of the
-- transaction that did it: replayed at open instead of rebuilding, trimmed after each save.
CREATE TABLE IF NOT EXISTS ann_log (
  seq           INTEGER PRIMARY KEY,
  generation    INTEGER NOT NULL,
  key           INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS ann_log_generation ON ann_log(generation);

CREATE VIRTUAL TABLE IF NOT EXISTS items_fts USING fts5(
  label, text,
  content = 'items', content_rowid = 'rowid',
  tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER IF NOT EXISTS items_fts_insert AFTER INSERT ON items BEGIN
  INSERT INTO items_fts(rowid, label, text) VALUES (new.rowid, new.label, new.text);
END;
CREATE TRIGGER IF NOT EXISTS items_fts_delete AFTER DELETE ON items BEGIN
  INSERT INTO items_fts(items_fts, rowid, label, text) VALUES ('delete', old.rowid, old.label, old.text);
END;
CREATE TRIGGER IF NOT EXISTS items_fts_update AFTER UPDATE OF label, text ON items BEGIN
  INSERT INTO items_fts(items_fts, rowid, label, text) VALUES ('delete', old.rowid, old.label, old.text);
  INSERT INTO items_fts(rowid, label, text) VALUES (new.rowid, new.label, new.text);
END;
`;
