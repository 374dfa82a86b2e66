import type { Database as SqliteDatabase } from 'better-sqlite3';
import type {
  KyselyPlugin,
  PluginTransformQueryArgs,
  PluginTransformResultArgs,
  QueryResult,
  RootOperationNode,
  UnknownRow,
} from 'kysely';

/** Thread time a transaction may run its statements before it lets waiting work in. */
const SLICE_MS = 4;

/**
 * better-sqlite3 runs each statement synchronously, so a long transaction on the main file (a
 * pipeline batch: hundreds of ms of statements) would hold the event loop from its BEGIN to its
 * COMMIT, and every request arriving meanwhile would wait for all of it. The ack path does not
 * need this connection (it appends to the log file on its own connection, log-file.ts), so the
 * transaction can give the thread away between two statements: after each statement that ends
 * a slice of `SLICE_MS` inside a transaction, it waits one turn of the event loop (the
 * `yieldWith` function: the pipeline's gate counts that time as the requests'). Statements of
 * others on this connection still wait for the transaction's end (Kysely holds the
 * connection), as on any database.
 */
export class TransactionSlices implements KyselyPlugin {
  readonly #sqlite: SqliteDatabase;
  #sliceStartMs = 0;
  #yield: () => Promise<void> = () => new Promise<void>((resolve) => setImmediate(resolve));

  constructor(sqlite: SqliteDatabase) {
    this.#sqlite = sqlite;
  }

  /** How a transaction gives the thread away (the default: one turn of the event loop). */
  yieldWith(yieldFn: () => Promise<void>): void {
    this.#yield = yieldFn;
  }

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return args.node;
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    const nowMs = performance.now();
    if (!this.#sqlite.inTransaction) this.#sliceStartMs = nowMs;
    else if (nowMs - this.#sliceStartMs >= SLICE_MS) {
      await this.#yield();
      this.#sliceStartMs = performance.now();
    }
    return args.result;
  }
}
