import path from 'node:path';
import type { Database as SqliteDatabase } from 'better-sqlite3';

/**
 * The event log lives in a SQLite file of its own, attached to the main connection as `log`.
 * A write transaction locks only the files it writes (when it does not begin IMMEDIATE, which
 * locks every attached file), so the ack path appends on a connection of its own to the log
 * file while a pipeline batch holds the main file's write lock: processing no longer makes
 * acknowledgements wait. Table names stay unqualified in every query: SQLite finds `events`
 * in whichever file holds it.
 */
export const LOG_SCHEMA = 'log';

/** What the ack path writes, and so what the log file holds. */
export const LOG_TABLES = ['events', 'workspace_counters'] as const;

/**
 * A table in the main file that a write transaction deletes nothing from, only to take the main
 * file's write lock up front (what BEGIN IMMEDIATE did) without locking the log file.
 */
export const MAIN_WRITE_LOCK_TABLE = 'cdp_write_lock';

/** Rows copied per transaction when a store from before the split moves its log. */
const MOVE_CHUNK_ROWS = 50_000;

/** `…/cdp.sqlite` → `…/cdp-log.sqlite`. */
export function logFileOf(filename: string): string {
  const extension = path.extname(filename);
  return `${filename.slice(0, filename.length - extension.length)}-log${extension || '.sqlite'}`;
}

interface SchemaRow {
  readonly sql: string | null;
}

/**
 * Moves the log's tables from the main file into the log file (stores created before the split,
 * and fresh ones, whose migrations create them in the main file). In steps that each commit in
 * one file: the copy, in chunks, then the drop. A crash before the drop leaves the complete
 * original in the main file, which queries find first; the next start copies again. Runs before
 * the store serves anything. Returns the number of rows moved.
 */
export function moveLogTables(sqlite: SqliteDatabase): number {
  let moved = 0;
  for (const table of LOG_TABLES) {
    const original = sqlite
      .prepare<[string], SchemaRow>("SELECT sql FROM main.sqlite_schema WHERE type = 'table' AND name = ?")
      .get(table);
    if (original?.sql === undefined || original.sql === null) continue;
    const copy = sqlite
      .prepare<[string], SchemaRow>(
        `SELECT sql FROM ${LOG_SCHEMA}.sqlite_schema WHERE type = 'table' AND name = ?`,
      )
      .get(table);
    const indexes = sqlite
      .prepare<[string], SchemaRow>(
        "SELECT sql FROM main.sqlite_schema WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
      )
      .all(table);
    sqlite.transaction(() => {
      if (copy !== undefined) sqlite.exec(`DROP TABLE ${LOG_SCHEMA}.${quote(table)}`);
      sqlite.exec(inLogSchema(original.sql as string, /^(CREATE TABLE\s+)/i));
      for (const index of indexes)
        sqlite.exec(inLogSchema(index.sql as string, /^(CREATE\s+(?:UNIQUE\s+)?INDEX\s+)/i));
    })();
    // Chunks by rowid: the copy of a large log commits as it goes instead of in one WAL.
    const select = sqlite.prepare<[number, number], { rowid: number }>(
      `SELECT rowid FROM main.${quote(table)} WHERE rowid > ? ORDER BY rowid LIMIT 1 OFFSET ?`,
    );
    let from = Number.MIN_SAFE_INTEGER;
    for (;;) {
      const last = select.get(from, MOVE_CHUNK_ROWS - 1);
      const to = last?.rowid ?? Number.MAX_SAFE_INTEGER;
      moved += sqlite
        .prepare(
          `INSERT INTO ${LOG_SCHEMA}.${quote(table)} SELECT * FROM main.${quote(table)} WHERE rowid > ? AND rowid <= ?`,
        )
        .run(from, to).changes;
      if (last === undefined) break;
      from = to;
    }
    sqlite.transaction(() => {
      // AUTOINCREMENT never hands out a sequence number twice, even one whose row was deleted.
      const counted = sqlite
        .prepare("SELECT 1 FROM main.sqlite_schema WHERE type = 'table' AND name = 'sqlite_sequence'")
        .get();
      const sequence =
        counted === undefined
          ? undefined
          : sqlite
              .prepare<[string], { seq: number }>('SELECT seq FROM main.sqlite_sequence WHERE name = ?')
              .get(table);
      if (sequence !== undefined) {
        sqlite.prepare(`DELETE FROM ${LOG_SCHEMA}.sqlite_sequence WHERE name = ?`).run(table);
        sqlite
          .prepare(`INSERT INTO ${LOG_SCHEMA}.sqlite_sequence (name, seq) VALUES (?, ?)`)
          .run(table, sequence.seq);
      }
    })();
    sqlite.transaction(() => {
      sqlite.exec(`DROP TABLE main.${quote(table)}`);
    })();
  }
  return moved;
}

/** Whether the log's tables are in the log file (after `moveLogTables`, or in a new store). */
export function logTablesInLogFile(sqlite: SqliteDatabase): boolean {
  return (
    sqlite
      .prepare<[], { n: number }>(
        `SELECT count(*) AS n FROM ${LOG_SCHEMA}.sqlite_schema WHERE type = 'table' AND name = 'events'`,
      )
      .get()?.n === 1
  );
}

function inLogSchema(statement: string, head: RegExp): string {
  if (!head.test(statement)) throw new Error(`unexpected schema statement: ${statement.slice(0, 80)}`);
  return statement.replace(head, `$1${LOG_SCHEMA}.`);
}

function quote(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
