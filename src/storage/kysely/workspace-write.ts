import { CompiledQuery, sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../database-schema.ts';
import type { SqlDialectName } from '../sql-dialect.ts';
import { MAIN_WRITE_LOCK_TABLE } from '../sqlite/log-file.ts';

export type Db = Kysely<Database> | Transaction<Database>;

/** Advisory lock classes (the first key of `pg_advisory_xact_lock(class, hashtext(workspace))`). */
export const LOCK_CLASS = {
  /** The profile state of a workspace (storage/kysely/profile-state.repository.ts). */
  profileState: 7_270_003,
  consent: 7_270_006,
  privacy: 7_270_007,
} as const;

export interface WriteOptions {
  /**
   * The transaction writes only state derived from the event log (profiles, consent values,
   * memberships, consumer cursors): it commits without waiting for the disk (SQLite
   * `synchronous=NORMAL` for this commit, PostgreSQL `synchronous_commit=off`). A power loss
   * can then drop the last few such commits, never half of one, and always together with the
   * cursor positions that came after them (both logs are sequential), so the pipeline simply
   * processes those events again. Acknowledged events and admin changes keep full durability.
   */
  readonly replayable?: boolean;
  /**
   * Commits without waiting for the disk too, for a write that is not derived state but whose
   * caller has the flush started right after the commit and answers without waiting for it
   * (an audit entry of a read: governance/audit-log.ts).
   */
  readonly flushedByCaller?: boolean;
  /**
   * SQLite: the transaction also writes the event log (deleting events, their counters), whose
   * file the ack path appends to on a connection of its own. Its write lock is taken up front
   * too: a transaction that read the log and wrote it afterwards would fail
   * (SQLITE_BUSY_SNAPSHOT) whenever an append committed in between. Appends wait meanwhile.
   */
  readonly writesLog?: boolean;
}

// The statements around every SQLite write transaction, as SQL text: Kysely would build and
// compile each again on every transaction (compiled-once.ts).
const SQLITE = {
  readSynchronous: CompiledQuery.raw('pragma synchronous'),
  synchronousNormal: CompiledQuery.raw('pragma synchronous = normal'),
  begin: CompiledQuery.raw('begin'),
  lockMain: CompiledQuery.raw(`delete from main.${MAIN_WRITE_LOCK_TABLE} where 0`),
  // Unqualified: the log's own file when it has one (log-file.ts), else the main file.
  lockLog: CompiledQuery.raw('delete from workspace_counters where 0'),
  commit: CompiledQuery.raw('commit'),
  rollback: CompiledQuery.raw('rollback'),
} as const;

/**
 * One write transaction per workspace and lock class, safe across processes. SQLite: the main
 * file's write lock is taken up front (a deferred transaction could fail to upgrade after
 * another process wrote), by a statement that writes nothing there rather than by
 * `BEGIN IMMEDIATE`, which would lock the log's file too and stop the ack path's appends for
 * the whole transaction (storage/sqlite/log-file.ts). PostgreSQL: a transaction-scoped
 * advisory lock.
 */
export async function workspaceWrite<T>(
  db: Kysely<Database>,
  dialect: SqlDialectName,
  lockClass: number,
  workspaceId: string,
  work: (trx: Db) => Promise<T>,
  options: WriteOptions = {},
): Promise<T> {
  return writeTransaction(db, dialect, work, { ...options, lock: { lockClass, workspaceId } });
}

/** A write transaction on either dialect (SQLite: the main file locked up front), optionally locked. */
export async function writeTransaction<T>(
  db: Kysely<Database>,
  dialect: SqlDialectName,
  work: (trx: Db) => Promise<T>,
  options: WriteOptions & { readonly lock?: { lockClass: number; workspaceId: string } } = {},
): Promise<T> {
  const { lock, writesLog = false } = options;
  const replayable = options.replayable === true || options.flushedByCaller === true;
  if (dialect === 'postgres') {
    return db.transaction().execute(async (trx) => {
      if (replayable) await sql`set local synchronous_commit to off`.execute(trx);
      if (lock)
        await sql`select pg_advisory_xact_lock(${lock.lockClass}, hashtext(${lock.workspaceId}))`.execute(
          trx,
        );
      return work(trx);
    });
  }
  return db.connection().execute(async (connection) => {
    // The setting applies to the connection: it is put back before anyone else can use it.
    let restore: unknown;
    if (replayable) {
      restore = (await connection.executeQuery<{ synchronous: number }>(SQLITE.readSynchronous)).rows[0]
        ?.synchronous;
      await connection.executeQuery(SQLITE.synchronousNormal);
    }
    try {
      await connection.executeQuery(SQLITE.begin);
      try {
        await connection.executeQuery(SQLITE.lockMain);
        if (writesLog) await connection.executeQuery(SQLITE.lockLog);
        const result = await work(connection);
        await connection.executeQuery(SQLITE.commit);
        return result;
      } catch (error) {
        await connection.executeQuery(SQLITE.rollback);
        throw error;
      }
    } finally {
      if (restore !== undefined)
        await connection.executeQuery(CompiledQuery.raw(`pragma synchronous = ${Number(restore)}`));
    }
  });
}

export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
