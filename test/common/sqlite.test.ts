import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BUSY_TIMEOUT_MS, openDatabase, SchemaTooNewError } from '../../common/index.ts';

describe('common: one SQLite opener for every database', () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'reprise-sqlite-'));
    dirs.push(dir);
    return dir;
  };
  after(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('opens with WAL, foreign keys and the busy timeout, and refuses a file of a newer schema', () => {
    const file = path.join(tempDir(), 'a.db');
    const db = openDatabase(file, { version: 2, ddl: 'CREATE TABLE IF NOT EXISTS t (x)', what: 'test database' });
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
    assert.equal(db.pragma('busy_timeout', { simple: true }), BUSY_TIMEOUT_MS);
    db.close();
    assert.throws(
      () => openDatabase(file, { version: 1, ddl: '', what: 'test database' }),
      (err: Error) => err instanceof SchemaTooNewError && /written by a newer Reprise \(schema 2, this one knows 1\)/.test(err.message),
    );
  });
});
