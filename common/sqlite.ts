import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { RepriseError } from './errors.ts';
import { LruCache } from './lru-cache.ts';

/** A SQLite file written by a newer Reprise, whose schema this one does not know. */
export class SchemaTooNewError extends RepriseError {
  override name = 'SchemaTooNewError';
}

/** How long a connection waits for another connection's write transaction before failing with SQLITE_BUSY. */
export const BUSY_TIMEOUT_MS = 5000;

/**
 * Opens a SQLite file the way every part of Reprise keeps its state: WAL (readers never block
 * the writer, a kill never tears a page), foreign keys on, a busy timeout, and a schema version
 * in user_version so that a file written by a newer release is refused rather than misread.
 * `migrate` runs in a transaction with the schema's DDL.
 */
export function openDatabase(
  file: string,
  schema: { version: number; ddl: string; what: string; migrate?: (db: Database.Database) => void },
): Database.Database {
  if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > schema.version) {
      throw new SchemaTooNewError(
        `the ${schema.what} ${file} was written by a newer Reprise (schema ${version}, this one knows ${schema.version}); upgrade Reprise`,
      );
    }
    db.transaction(() => {
      db.exec(schema.ddl);
      db.pragma(`user_version = ${schema.version}`);
      schema.migrate?.(db);
    })();
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/**
 * Opens an existing SQLite file written by openDatabase for reading only, waiting at most
 * `timeoutMs` for a writer's lock: under WAL a reader never waits for the writer beside it, so a
 * status request stays quick while a harvest writes.
 */
export function openReadOnly(file: string, timeoutMs = BUSY_TIMEOUT_MS): Database.Database {
  return new Database(file, { readonly: true, fileMustExist: true, timeout: timeoutMs });
}

/**
 * Prepared statements compiled once per connection: preparing costs more than running the small
 * statements a harvest makes per canvas or a search per query. Bounded, because filter clauses
 * make SQL that varies.
 */
export class StatementCache {
  private readonly statements: LruCache<string, Database.Statement>;

  constructor(
    private readonly db: Database.Database,
    size = 256,
  ) {
    this.statements = new LruCache(size);
  }

  get(sql: string): Database.Statement {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.statements.set(sql, stmt);
    }
    return stmt;
  }
}
