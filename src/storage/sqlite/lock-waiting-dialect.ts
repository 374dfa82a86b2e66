import {
  CompiledQuery,
  SqliteDialect,
  type DatabaseConnection,
  type Driver,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';
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
  override createDriver(): Driver {
    return new LockWaitingDriver(super.createDriver());
  }
}

class LockWaitingDriver implements Driver {
  readonly #inner: Driver;
  readonly #wrapped = new WeakMap<DatabaseConnection, DatabaseConnection>();

  constructor(inner: Driver) {
    this.#inner = inner;
  }

  init(): Promise<void> {
    return this.#inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const connection = await this.#inner.acquireConnection();
    let wrapped = this.#wrapped.get(connection);
    if (wrapped === undefined) {
      wrapped = new LockWaitingConnection(connection);
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

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.#inner.releaseConnection(
      connection instanceof LockWaitingConnection ? connection.inner : connection,
    );
  }

  destroy(): Promise<void> {
    return this.#inner.destroy();
  }
}

class LockWaitingConnection implements DatabaseConnection {
  readonly inner: DatabaseConnection;

  constructor(inner: DatabaseConnection) {
    this.inner = inner;
  }

  executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    return whileBusy(() => this.inner.executeQuery<R>(compiledQuery));
  }

  streamQuery<R>(compiledQuery: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    return this.inner.streamQuery<R>(compiledQuery, chunkSize);
  }
}
