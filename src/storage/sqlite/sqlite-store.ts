import { mkdirSync } from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { Database } from '../database-schema.ts';
import { createKyselyStore } from '../kysely/kysely-store.ts';
import type { Store } from '../store.ts';
import { createSqliteAppender } from './sqlite-event-appender.ts';

export interface SqliteStoreOptions {
  /** A file path, or ':memory:' for throwaway tests. */
  readonly filename: string;
}

/**
 * The embedded store. WAL with synchronous=FULL: a commit is fsynced before it returns, so an
 * acknowledged event survives power loss. One connection: SQLite has one writer anyway, and
 * Kysely's driver serializes every statement on it.
 */
export function createSqliteStore(options: SqliteStoreOptions): Store {
  if (options.filename !== ':memory:') mkdirSync(path.dirname(options.filename), { recursive: true });
  const sqlite = new BetterSqlite3(options.filename);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  // 16 MB page cache (the default is 2 MB): the hot tail of the log and its index stay cached.
  sqlite.pragma('cache_size = -16384');
  // Checkpoints copy the WAL into the database file; the default (1000 pages) keeps the WAL small.
  sqlite.pragma('wal_autocheckpoint = 4000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  return createKyselyStore({
    db,
    dialect: 'sqlite',
    appender: createSqliteAppender(db, sqlite),
    close: async () => {
      await db.destroy();
    },
  });
}
