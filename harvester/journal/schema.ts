/**
 * The harvest journal's tables. Versioned with SQLite's user_version so that a
 * later release can migrate a journal that cron jobs have been filling for years.
 */
export const JOURNAL_VERSION = 1;

export const JOURNAL_SCHEMA = `
CREATE TABLE IF NOT EXISTS sources (
  id            INTEGER PRIMARY KEY,
  url           TEXT NOT NULL UNIQUE,
  kind          TEXT,                 -- manifest | collection | change-stream (known after the first fetch)
  collection    TEXT,                 -- --collection name given by the user
  change_watermark TEXT,              -- change streams: endTime of the newest activity processed
  added_at      TEXT NOT NULL,
  last_run_id   INTEGER
);

CREATE TABLE IF NOT EXISTS documents (
  url           TEXT PRIMARY KEY,     -- as fetched (collections, collection pages, manifests)
  kind          TEXT NOT NULL,        -- manifest | collection | change-stream
  doc_id        TEXT,                 -- the id the document gives itself
  label         TEXT,                 -- JSON language map
  etag          TEXT,
  last_modified TEXT,
  content_hash  TEXT,
  children      TEXT,                 -- collections: JSON list of members, replayed when the server answers 304
  status        TEXT NOT NULL,        -- ok | failed
  error         TEXT,
  fetched_at    TEXT,
  seen_run_id   INTEGER
);

-- Which source reaches which manifest, and through which collections: a manifest
-- disappears from the index only when no source that was fully traversed still lists it.
CREATE TABLE IF NOT EXISTS source_manifests (
  source_id     INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
  manifest_url  TEXT NOT NULL,
  collection_path TEXT NOT NULL,      -- JSON array of collection labels, root first
  seen_run_id   INTEGER NOT NULL,
  PRIMARY KEY (source_id, manifest_url)
);

CREATE TABLE IF NOT EXISTS canvases (
  item_id       TEXT PRIMARY KEY,     -- stable id of the canvas in the index
  manifest_url  TEXT NOT NULL,
  canvas_id     TEXT NOT NULL,
  idx           INTEGER NOT NULL,
  record        TEXT NOT NULL,        -- JSON CanvasRecord plus collection path
  record_hash   TEXT NOT NULL,
  image_url     TEXT NOT NULL,        -- the request resolved at the configured size
  image_etag    TEXT,
  image_last_modified TEXT,
  image_hash    TEXT,                 -- sha256 of the fetched bytes
  image_width   INTEGER,              -- of the fetched image, to map regions back to the canvas
  image_height  INTEGER,
  status        TEXT NOT NULL,        -- pending | fetched | indexed | failed
  reason        TEXT,
  retryable     INTEGER NOT NULL DEFAULT 1,
  attempts      INTEGER NOT NULL DEFAULT 0,
  model_id      TEXT,                 -- the stage that indexed it
  metadata_dirty INTEGER NOT NULL DEFAULT 0,
  updated_at    TEXT NOT NULL,
  UNIQUE (manifest_url, canvas_id)
);
CREATE INDEX IF NOT EXISTS canvases_status ON canvases(status);
CREATE INDEX IF NOT EXISTS canvases_manifest ON canvases(manifest_url);
-- One manifest reached through several URLs is indexed once: found by the id it gives itself.
CREATE INDEX IF NOT EXISTS documents_doc_id ON documents(doc_id);

CREATE TABLE IF NOT EXISTS runs (
  id            INTEGER PRIMARY KEY,
  started_at    TEXT NOT NULL,
  finished_at   TEXT,
  status        TEXT NOT NULL,        -- running | completed | completed-with-failures | failed | interrupted
  args          TEXT,
  summary       TEXT
);
`;
