import { AsyncLocalStorage } from 'node:async_hooks';
import type { Kysely } from 'kysely';
import type { Database } from '../database-schema.ts';

/**
 * Where a repository's read runs: the store's instance, or, on SQLite while a pipeline batch
 * (replayable work: sqlite/lock-waiting-dialect.ts) holds the main connection for up to its time
 * budget, a read-only connection of its own (sqlite/sqlite-store.ts). In WAL mode that reader does not wait for the writer and
 * sees everything committed; the open transaction's work is not committed yet, so the answer is
 * the one a read just before it began would have had. On PostgreSQL, whose pool has a
 * connection for each, it is always the store's instance.
 */
export type ReadRouting = () => Kysely<Database>;

/**
 * Marks the work whose reads stand alone: an API request that only reads (GET), where nothing
 * it reads decides a write it makes (its audit entry is written on the main connection, as
 * always). Reads made anywhere else (the pipeline, an admin action's read before its write, the
 * CLI) keep to the main connection, whatever repository they go through.
 */
export class StandAloneReads {
  readonly #scope = new AsyncLocalStorage<true>();

  run<T>(work: () => T): T {
    return this.#scope.run(true, work);
  }

  get active(): boolean {
    return this.#scope.getStore() === true;
  }
}
