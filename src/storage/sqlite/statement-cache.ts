import type { Database as SqliteDatabase, Statement } from 'better-sqlite3';
import type { SqliteDatabase as KyselySqliteDatabase, SqliteStatement } from 'kysely';

/** Statements kept prepared; the rest are prepared again when they come back. */
const CAPACITY = 256;

/**
 * Kysely's SQLite driver prepares every statement on every execution; for the pipeline's
 * multi-row writes that cost more than running them. This keeps the most recently used
 * statements prepared (keyed by their SQL text, which holds no values: Kysely binds them).
 * Streaming reads (`iterate`) get a statement of their own, since a cached one could be asked
 * to run again while the iteration still holds it.
 */
export function withStatementCache(sqlite: SqliteDatabase): KyselySqliteDatabase {
  // The wrapper Kysely's driver calls is kept with its statement: building it (three closures)
  // for every execution showed in a profile of the lookups.
  const cache = new Map<string, SqliteStatement>();
  const wrap = (sql: string): SqliteStatement => {
    const statement: Statement = sqlite.prepare(sql);
    return {
      reader: statement.reader,
      // One array binds as the positional parameters (no spread: lists can be long).
      all: (parameters) => statement.all(parameters),
      run: (parameters) => statement.run(parameters),
      iterate: (parameters) => sqlite.prepare(sql).iterate(parameters),
    };
  };
  return {
    close: () => {
      cache.clear();
      sqlite.close();
    },
    prepare: (sql: string): SqliteStatement => {
      let wrapper = cache.get(sql);
      if (wrapper === undefined) {
        wrapper = wrap(sql);
        if (cache.size >= CAPACITY) cache.delete(cache.keys().next().value as string);
      } else cache.delete(sql);
      cache.set(sql, wrapper);
      return wrapper;
    },
  };
}
