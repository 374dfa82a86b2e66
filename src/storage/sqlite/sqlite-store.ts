import { mkdirSync } from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely } from 'kysely';
import { ConnectionUse, LockWaitingSqliteDialect, whileBusy } from './lock-waiting-dialect.ts';
import { LOG_SCHEMA, logFileOf, MAIN_WRITE_LOCK_TABLE, moveLogTables } from './log-file.ts';
import { TransactionSlices } from './transaction-slices.ts';
import type { Database } from '../database-schema.ts';
import { createKyselyStore } from '../kysely/kysely-store.ts';
import type { MainFileFlush } from '../kysely/audit-log.repository.ts';
import type { Store } from '../store.ts';
import { isSqliteUnavailable } from '../store-unavailable.ts';
import { startWorker } from '../../shared/worker-script.ts';
import { seedPlannerStatistics } from './planner-statistics.ts';
import { withStatementCache } from './statement-cache.ts';
import { createSqliteAppender } from './sqlite-event-appender.ts';
import { CoalescedSync } from './coalesced-sync.ts';
import { WalFileSync } from './wal-file-sync.ts';

export interface SqliteStoreOptions {
  /** A file path, or ':memory:' for throwaway tests. */
  readonly filename: string;
  /**
   * Checkpoint the WAL from a worker thread instead of inside commits (the server does; short
   * CLI commands and tests keep SQLite's automatic checkpoints).
   */
  readonly backgroundCheckpoints?: boolean;
  /** With background checkpoints: the WAL size, in pages, past which the WAL is started over. */
  readonly walRestartFrames?: number;
  /** The connection's page cache in MB (`CDP_SQLITE_CACHE_MB`); default 8. */
  readonly cacheMegabytes?: number;
  /**
   * A second connection to a store another connection of this process opened and migrated
   * (the pipeline's thread): it moves nothing between the files and leaves checkpoints to the
   * first one's worker.
   */
  readonly secondary?: boolean;
}

/** SQLite's own checkpoint after a commit, where no worker does it: past 16 MB of WAL. */
const AUTOCHECKPOINT_PAGES = 4_000;

/** 256 MB of 4 KB pages: several seconds of the log at peak ingest. */
const DEFAULT_WAL_RESTART_FRAMES = 65_536;

/**
 * The embedded store. WAL with synchronous=FULL: a commit is fsynced before it returns, so an
 * acknowledged event survives power loss (the log's appends, and the main file's transactions,
 * fsync off the event loop instead: sqlite-event-appender.ts, lock-waiting-dialect.ts). Two files: the event log in its own (log-file.ts), appended to by
 * a connection of its own, and everything else in the main file, on one connection that
 * attaches the log for reading (Kysely's driver serializes every statement on it).
 */
export function createSqliteStore(options: SqliteStoreOptions): Store {
  const inMemory = options.filename === ':memory:';
  if (!inMemory) mkdirSync(path.dirname(options.filename), { recursive: true });
  const sqlite = new BetterSqlite3(options.filename);
  configure(sqlite, options.cacheMegabytes ?? 8);
  // A throwaway store keeps its log in the one database it has.
  const logFile = inMemory ? undefined : logFileOf(options.filename);
  const logWriter = logFile === undefined ? undefined : new BetterSqlite3(logFile);
  if (logWriter !== undefined && logFile !== undefined) {
    // The ack path's connection: its page cache holds the log's tail and its index.
    configure(logWriter, 2);
    sqlite.prepare(`ATTACH DATABASE ? AS ${LOG_SCHEMA}`).run(logFile);
    sqlite.pragma(`${LOG_SCHEMA}.synchronous = FULL`);
    sqlite.pragma(`${LOG_SCHEMA}.secure_delete = ON`);
    sqlite.pragma(`${LOG_SCHEMA}.cache_size = -2048`);
    // Stores from before the split carry their log in the main file.
    if (options.secondary !== true) moveLogTables(sqlite);
  }
  if (options.secondary !== true)
    sqlite.exec(`CREATE TABLE IF NOT EXISTS main.${MAIN_WRITE_LOCK_TABLE} (unused INTEGER)`);
  // Checkpoints copy the WAL into the database file. In the server a worker thread does all of
  // it (wal-checkpoint-worker.ts): a checkpoint inside a commit would copy pages and fsync twice
  // on the event loop. Elsewhere (CLI, tests) SQLite checkpoints after a commit once the WAL
  // holds 4,000 pages (16 MB).
  const checkpointer =
    options.backgroundCheckpoints && !inMemory
      ? startCheckpointer(
          [options.filename, ...(logFile === undefined ? [] : [logFile])],
          options.walRestartFrames ?? DEFAULT_WAL_RESTART_FRAMES,
          () => {
            // Without its worker nothing would copy the WAL back: SQLite's own checkpoints resume.
            for (const connection of [sqlite, logWriter])
              if (connection?.open) connection.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
          },
        )
      : undefined;
  const othersCheckpoint = checkpointer !== undefined || options.secondary === true;
  for (const connection of [sqlite, logWriter])
    connection?.pragma(`wal_autocheckpoint = ${othersCheckpoint ? 0 : AUTOCHECKPOINT_PAGES}`);
  // From here on, locks held by other connections are waited for between turns of the event
  // loop, not in SQLite's busy handler (lock-waiting-dialect.ts).
  sqlite.pragma('busy_timeout = 0');
  const slices = new TransactionSlices(sqlite);
  const mainWal = inMemory ? undefined : new WalFileSync(`${options.filename}-wal`, 'the main database');
  const mainUse = new ConnectionUse();
  const db = new Kysely<Database>({
    dialect: new LockWaitingSqliteDialect({
      database: withStatementCache(sqlite),
      ...(mainWal === undefined ? {} : { offLoopCommits: { sqlite, wal: mainWal } }),
      use: mainUse,
    }),
    plugins: [slices],
  });
  // Stand-alone reads (read-routing.ts) while a pipeline batch holds the main
  // connection (for up to its time budget) go to a read-only connection of their own: in WAL
  // mode a reader need not wait for it. Only then: SQLite drops a connection's page cache
  // whenever another one has committed, so the main connection, warm, serves the rest.
  const reader = inMemory ? undefined : openReader(options.filename, logFile);
  const readerDb =
    reader === undefined
      ? undefined
      : new Kysely<Database>({
          dialect: new LockWaitingSqliteDialect({ database: withStatementCache(reader) }),
        });
  const appender = createSqliteAppender(db, logWriter ?? sqlite, logWriter !== undefined);
  return createKyselyStore({
    db,
    dialect: 'sqlite',
    appender,
    afterMigrate: () =>
      db.connection().execute(async () =>
        whileBusy(
          () => {
            // Migrations create the log's tables in the main file; they belong in the log file.
            if (options.secondary === true) return;
            if (logWriter !== undefined) moveLogTables(sqlite);
            seedPlannerStatistics(sqlite, 'main');
            if (logWriter !== undefined) seedPlannerStatistics(sqlite, LOG_SCHEMA);
          },
          { wholeTransaction: true },
        ),
      ),
    isUnavailable: isSqliteUnavailable,
    reads: () => (readerDb !== undefined && mainUse.heldByReplayableWork ? readerDb : db),
    yieldWithinTransactions: (yieldFn) => slices.yieldWith(yieldFn),
    ...(mainWal === undefined ? {} : { mainFile: sharedFlushes(mainWal) }),
    close: async () => {
      await checkpointer?.stop();
      await db.destroy();
      await readerDb?.destroy();
      appender.close();
      mainWal?.close();
      logWriter?.close();
    },
  });
}

/** The main WAL's fsyncs for commits that do not wait for theirs: shared between them. */
function sharedFlushes(wal: WalFileSync): MainFileFlush {
  const coalesced = new CoalescedSync(wal);
  return {
    sync: () => coalesced.sync(),
    get failure() {
      return wal.failure;
    },
  };
}

/** 2 MB: lookups read a few pages each, and the main connection keeps the large cache. */
const READER_CACHE_KB = 2_048;

/**
 * A read-only connection to the main file, with the log attached as on the main connection.
 * Its busy timeout is 0 like the main connection's: the dialect retries between turns of the
 * event loop (a reader is refused only briefly, while a checkpoint resets the WAL).
 */
function openReader(filename: string, logFile: string | undefined): BetterSqlite3.Database {
  const reader = new BetterSqlite3(filename, { readonly: true, fileMustExist: true });
  reader.pragma('busy_timeout = 0');
  reader.pragma(`cache_size = ${-READER_CACHE_KB}`);
  if (logFile !== undefined) {
    reader.prepare(`ATTACH DATABASE ? AS ${LOG_SCHEMA}`).run(logFile);
    reader.pragma(`${LOG_SCHEMA}.cache_size = ${-READER_CACHE_KB}`);
  }
  return reader;
}

function configure(sqlite: BetterSqlite3.Database, cacheMegabytes: number): void {
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  // Deleted rows (erasure, retention, overwritten profile state) are zeroed in the file, not
  // left in free space: personal data that was erased is gone from the bytes too.
  sqlite.pragma('secure_delete = ON');
  // 8 MB page cache by default (SQLite's is 2 MB): the hot tail of the log and its index stay
  // cached, within the server's memory budget. Larger stores gain from more (the profile
  // indexes are keyed by hashes: every batch touches pages all over them), where memory allows.
  sqlite.pragma(`cache_size = ${-Math.round(cacheMegabytes * 1024)}`);
}

function startCheckpointer(
  filenames: readonly string[],
  restartFrames: number,
  onLost: () => void,
): { stop(): Promise<void> } {
  const worker = startWorker(
    'wal-checkpoint-worker',
    new URL('./wal-checkpoint-worker.ts', import.meta.url),
    {
      data: { filenames, intervalMs: 100, busyIntervalMs: 10, restartFrames },
      resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 16 },
    },
  );
  worker.unref();
  let stopping = false;
  worker.on('error', () => undefined);
  worker.on('exit', () => {
    if (!stopping) onLost();
  });
  return {
    async stop() {
      stopping = true;
      const stopped = new Promise<void>((resolve) => {
        worker.once('message', () => resolve());
        worker.once('exit', () => resolve());
        setTimeout(resolve, 2_000).unref();
      });
      worker.postMessage('stop');
      await stopped;
      await worker.terminate();
    },
  };
}
