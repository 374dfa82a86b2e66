import {
  CompiledQuery,
  SqliteDialect,
  type DatabaseConnection,
  type Driver,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';
import type { Database as SqliteDatabase } from 'better-sqlite3';
import { MAIN_WRITE_LOCK_TABLE } from './log-file.ts';

/** How long a statement waits for a write lock held by another connection before it fails. */
export const LOCK_WAIT_MS = 10_000;

/**
 * Runs `attempt` again a few ms later while SQLite answers SQLITE_BUSY, for up to `waitMs`.
 * A statement is retried only for a lock not obtained: within a transaction that read before
 * another connection committed, SQLITE_BUSY_SNAPSHOT cannot succeed by waiting. An attempt
 * that is a whole transaction (`wholeTransaction`) starts from a fresh snapshot each time, so
 * it is retried for that too.
 */
export async function whileBusy<T>(
  attempt: () => T | Promise<T>,
  options: { waitMs?: number; wholeTransaction?: boolean } = {},
): Promise<T> {
  const deadline = performance.now() + (options.waitMs ?? LOCK_WAIT_MS);
  for (let delayMs = 1; ; delayMs = Math.min(20, delayMs * 2)) {
    try {
      return await attempt();
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      const busy =
        code === 'SQLITE_BUSY' ||
        (options.wholeTransaction === true && typeof code === 'string' && code.startsWith('SQLITE_BUSY'));
      if (!busy || performance.now() > deadline) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, delayMs));
  }
}

/**
 * Kysely's SQLite dialect, for a connection whose busy timeout is 0: a write lock held by
 * another connection (the pipeline's thread, a CLI command, the ack path's connection on the
 * log file) is waited for between turns of the event loop, not inside SQLite's busy handler,
 * which would hold this thread, and with it every request, for as long as the other
 * transaction lasts.
 *
 * Kysely's transactions (`db.transaction()`) take the main file's write lock up front, as
 * `writeTransaction` does (storage/kysely/workspace-write.ts): a transaction that read first
 * and wrote later would fail (SQLITE_BUSY_SNAPSHOT) whenever another connection committed in
 * between, which with the pipeline on a thread of its own is all the time.
 */
export class LockWaitingSqliteDialect extends SqliteDialect {
  readonly #offLoop: OffLoopCommits | undefined;
  readonly #use: ConnectionUse | undefined;

  constructor(
    config: ConstructorParameters<typeof SqliteDialect>[0] & {
      offLoopCommits?: OffLoopCommits;
      use?: ConnectionUse;
    },
  ) {
    super(config);
    this.#offLoop = config.offLoopCommits;
    this.#use = config.use;
  }

  override createDriver(): Driver {
    return new LockWaitingDriver(super.createDriver(), this.#offLoop, this.#use);
  }
}

/**
 * Whether a transaction of replayable work holds the connection now: state derived from the log
 * (a pipeline batch, a rebuild's page), which holds it for up to its time budget while giving
 * the thread away between statements. Others' statements on it wait for its end; read-routing.ts
 * sends stand-alone reads elsewhere meanwhile. Such a transaction is the one that begins at
 * `synchronous=NORMAL` (workspace-write.ts sets it; every other begins at FULL). The short
 * transactions of a change or an audit entry do not count: a read waits a fraction of a
 * millisecond for them on the warm main connection rather than read through a connection whose
 * page cache their commit has just emptied.
 */
export class ConnectionUse {
  #replayableWork = false;

  get heldByReplayableWork(): boolean {
    return this.#replayableWork;
  }

  replayableWork(held: boolean): void {
    this.#replayableWork = held;
  }
}

/**
 * Transactions that need full durability (admin changes, audit entries: the connection is at
 * `synchronous=FULL` when they begin) commit with `synchronous=NORMAL` and are then fsynced
 * from libuv's thread pool, as the log's appends are (wal-file-sync.ts); the transaction's
 * caller is answered once the fsync returns. Same durability, without the fsync (0.2 ms
 * typically, 10 ms and more at times on the development machine) holding the event loop and
 * every request behind it, nor the connection: others' statements run during it.
 * Transactions already at NORMAL (state replayed from the log: workspace-write.ts) are left as
 * they are. Writes outside a transaction keep their fsync inside the statement.
 */
export interface OffLoopCommits {
  /** The connection the dialect's database runs on. */
  readonly sqlite: SqliteDatabase;
  /** The fsync of the connection's main WAL file. */
  readonly wal: { sync(): Promise<void> };
}

class LockWaitingDriver implements Driver {
  readonly #inner: Driver;
  readonly #offLoop: OffLoopCommits | undefined;
  readonly #use: ConnectionUse | undefined;
  readonly #wrapped = new WeakMap<DatabaseConnection, DatabaseConnection>();

  constructor(inner: Driver, offLoop: OffLoopCommits | undefined, use: ConnectionUse | undefined) {
    this.#inner = inner;
    this.#offLoop = offLoop;
    this.#use = use;
  }

  init(): Promise<void> {
    return this.#inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const connection = await this.#inner.acquireConnection();
    let wrapped = this.#wrapped.get(connection);
    if (wrapped === undefined) {
      wrapped = new LockWaitingConnection(connection, this.#offLoop, this.#use);
      this.#wrapped.set(connection, wrapped);
    }
    return wrapped;
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    await this.#inner.beginTransaction(connection, settings);
    try {
      await connection.executeQuery(CompiledQuery.raw(`delete from main.${MAIN_WRITE_LOCK_TABLE} where 0`));
    } catch (error) {
      await connection.executeQuery(CompiledQuery.raw('rollback'));
      throw error;
    }
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.#inner.commitTransaction(connection);
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.#inner.rollbackTransaction(connection);
  }

  async savepoint(
    connection: DatabaseConnection,
    name: string,
    compile: Parameters<NonNullable<Driver['savepoint']>>[2],
  ): Promise<void> {
    await this.#inner.savepoint?.(connection, name, compile);
  }

  async rollbackToSavepoint(
    connection: DatabaseConnection,
    name: string,
    compile: Parameters<NonNullable<Driver['rollbackToSavepoint']>>[2],
  ): Promise<void> {
    await this.#inner.rollbackToSavepoint?.(connection, name, compile);
  }

  async releaseSavepoint(
    connection: DatabaseConnection,
    name: string,
    compile: Parameters<NonNullable<Driver['releaseSavepoint']>>[2],
  ): Promise<void> {
    await this.#inner.releaseSavepoint?.(connection, name, compile);
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    if (!(connection instanceof LockWaitingConnection)) return this.#inner.releaseConnection(connection);
    const durable = connection.takePendingSync();
    await this.#inner.releaseConnection(connection.inner);
    // The connection serves others while the disk works; the caller (Kysely awaits the
    // release) is told the transaction is done once the fsync returns, or that it failed.
    await durable;
  }

  destroy(): Promise<void> {
    return this.#inner.destroy();
  }
}

const FULL = 2;

class LockWaitingConnection implements DatabaseConnection {
  readonly inner: DatabaseConnection;
  readonly #offLoop: OffLoopCommits | undefined;
  readonly #use: ConnectionUse | undefined;
  /** The open transaction began at FULL and was switched to NORMAL: it owes an fsync. */
  #owesSync = false;
  /** The fsync of the last commit(s), awaited when the connection is released. */
  #pendingSync: Promise<void> | undefined;

  constructor(
    inner: DatabaseConnection,
    offLoop: OffLoopCommits | undefined,
    use: ConnectionUse | undefined,
  ) {
    this.inner = inner;
    this.#offLoop = offLoop;
    this.#use = use;
  }

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    const offLoop = this.#offLoop;
    if (offLoop === undefined) return whileBusy(() => this.inner.executeQuery<R>(compiledQuery));
    const { sqlite } = offLoop;
    const verb = compiledQuery.sql.trimStart().slice(0, 8).toLowerCase();
    // Kysely rolls back when a statement or the commit failed, also when SQLite had already
    // rolled the transaction back itself (a full disk): that error is the one to report, not
    // "no transaction is active".
    if (verb.startsWith('rollback') && !sqlite.inTransaction) return { rows: [] };
    // SQLite refuses to change the level inside a transaction: it is switched before BEGIN.
    if (verb.startsWith('begin') && !sqlite.inTransaction) {
      if (sqlite.pragma('synchronous', { simple: true }) === FULL) {
        sqlite.pragma('synchronous = NORMAL');
        this.#owesSync = true;
      } else {
        // Begun at NORMAL: replayable work (see ConnectionUse).
        this.#use?.replayableWork(true);
      }
    }
    try {
      const result = await whileBusy(() => this.inner.executeQuery<R>(compiledQuery));
      if (this.#settled() && verb.startsWith('commit')) {
        const sync = offLoop.wal.sync();
        // Observed at once (a failure is reported by the release, not as unhandled).
        sync.catch(() => undefined);
        const before = this.#pendingSync;
        const pending = before === undefined ? sync : Promise.all([before, sync]).then(() => undefined);
        pending.catch(() => undefined);
        this.#pendingSync = pending;
      }
      return result;
    } finally {
      this.#settled();
      if (this.#use?.heldByReplayableWork === true && !sqlite.inTransaction) this.#use.replayableWork(false);
    }
  }

  takePendingSync(): Promise<void> | undefined {
    const pending = this.#pendingSync;
    this.#pendingSync = undefined;
    return pending;
  }

  /** Puts FULL back once the transaction is over (committed, rolled back, or failed). */
  #settled(): boolean {
    if (!this.#owesSync || this.#offLoop === undefined || this.#offLoop.sqlite.inTransaction) return false;
    this.#owesSync = false;
    this.#offLoop.sqlite.pragma('synchronous = FULL');
    return true;
  }

  streamQuery<R>(compiledQuery: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    return this.inner.streamQuery<R>(compiledQuery, chunkSize);
  }
}
