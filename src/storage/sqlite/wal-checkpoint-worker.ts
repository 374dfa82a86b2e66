import { closeSync, fsyncSync, openSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import BetterSqlite3 from 'better-sqlite3';
import { restartDue, type CheckpointProgress } from './wal-restart-policy.ts';

/**
 * Copies the WAL into the database file from a connection of its own, on its own thread: the
 * server's connection never checkpoints (its `wal_autocheckpoint` is 0), because a checkpoint
 * inside a commit copies pages and fsyncs the WAL and the database file on the event loop,
 * where every request and pipeline batch waits behind it.
 *
 * PASSIVE never blocks the writer, but under writes without a pause it never finishes either
 * (frames keep arriving behind it), and the WAL restarts from its beginning only when a write
 * finds every frame copied: the file would grow without bound. So once the WAL holds more than
 * `restartFrames`, and a PASSIVE pass has left little behind, a RESTART pass takes the write lock
 * to copy that little and the next write starts the WAL over. The writer waits meanwhile (in
 * its busy handler, on the event loop), so the lock is held briefly: the pages the PASSIVE
 * passes copied are fsynced before it, outside any lock, and it waits at most 50 ms for the
 * writer's transaction or for readers before giving up until a later pass.
 */
interface CheckpointerData {
  /** The database files (the main file and the log's): each WAL is checkpointed on its own. */
  readonly filenames: readonly string[];
  readonly intervalMs: number;
  readonly busyIntervalMs: number;
  readonly restartFrames: number;
}

const { filenames, intervalMs, busyIntervalMs, restartFrames } = (workerData as { data: CheckpointerData })
  .data;

class FileCheckpointer {
  readonly #db: BetterSqlite3.Database;
  readonly #databaseFile: number;
  #lastCheckpointed = 0;

  constructor(filename: string) {
    this.#db = new BetterSqlite3(filename);
    this.#db.pragma('busy_timeout = 50');
    this.#databaseFile = openSync(filename, 'r');
  }

  checkpoint(mode: 'PASSIVE' | 'RESTART'): CheckpointProgress | undefined {
    try {
      return (this.#db.pragma(`wal_checkpoint(${mode})`) as CheckpointProgress[])[0];
    } catch {
      // Busy or shutting down: the next pass tries again.
      return undefined;
    }
  }

  #flushDatabaseFile(): boolean {
    try {
      fsyncSync(this.#databaseFile);
      return true;
    } catch {
      // The RESTART's own sync would fail too; the writer's next commit reports the disk's state.
      return false;
    }
  }

  /** Whether the pass copied anything (more is likely arriving: the next pass comes sooner). */
  pass(): boolean {
    const passive = this.checkpoint('PASSIVE');
    if (passive === undefined) return false;
    const copied = passive.checkpointed > this.#lastCheckpointed;
    this.#lastCheckpointed = passive.checkpointed;
    if (restartDue(passive, restartFrames) && this.#flushDatabaseFile()) this.checkpoint('RESTART');
    return copied;
  }

  close(): void {
    this.#db.close();
    closeSync(this.#databaseFile);
  }
}

const files = filenames.map((filename) => new FileCheckpointer(filename));
let timer: NodeJS.Timeout | undefined;
function schedule(delayMs: number): void {
  timer = setTimeout(() => {
    let copied = false;
    for (const file of files) copied = file.pass() || copied;
    schedule(copied ? busyIntervalMs : intervalMs);
  }, delayMs);
}
schedule(intervalMs);

parentPort?.on('message', (message: string) => {
  if (message !== 'stop') return;
  clearTimeout(timer);
  try {
    for (const file of files) file.checkpoint('PASSIVE');
  } finally {
    for (const file of files) file.close();
    parentPort?.postMessage('stopped');
  }
});
