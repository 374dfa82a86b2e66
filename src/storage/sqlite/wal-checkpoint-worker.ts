import { parentPort, workerData } from 'node:worker_threads';
import BetterSqlite3 from 'better-sqlite3';

/**
 * Copies the WAL into the database file from a connection of its own, on its own thread: the
 * server's connection never checkpoints (its `wal_autocheckpoint` is 0), because a checkpoint
 * inside a commit copies pages and fsyncs the WAL and the database file on the event loop,
 * where every request and pipeline batch waits behind it.
 *
 * PASSIVE never blocks the writer, but under writes without a pause it never finishes either
 * (frames keep arriving behind it), and the WAL restarts from its beginning only when a write
 * finds every frame copied: the file would grow without bound. So once the WAL holds more than
 * `restartFrames`, a RESTART pass takes the write lock for the little a PASSIVE pass just left
 * (the writer waits that long, in its busy handler) and the next write starts the WAL over.
 */
interface CheckpointerData {
  readonly filename: string;
  readonly intervalMs: number;
  readonly busyIntervalMs: number;
  readonly restartFrames: number;
}

const { filename, intervalMs, busyIntervalMs, restartFrames } = (workerData as { data: CheckpointerData })
  .data;
const db = new BetterSqlite3(filename);
// A RESTART waits this long for the writer's current transaction, then gives up until next pass.
db.pragma('busy_timeout = 1000');

interface CheckpointResult {
  readonly busy: number;
  readonly log: number;
  readonly checkpointed: number;
}

function checkpoint(mode: 'PASSIVE' | 'RESTART'): CheckpointResult | undefined {
  try {
    return (db.pragma(`wal_checkpoint(${mode})`) as CheckpointResult[])[0];
  } catch {
    // Busy or shutting down: the next pass tries again.
    return undefined;
  }
}

/** Whether the pass copied anything (more is likely arriving: the next pass comes sooner). */
function pass(): boolean {
  const passive = checkpoint('PASSIVE');
  if (passive !== undefined && passive.log > restartFrames) checkpoint('RESTART');
  const copied = passive !== undefined && passive.checkpointed > lastCheckpointed;
  lastCheckpointed = passive?.checkpointed ?? 0;
  return copied;
}

let lastCheckpointed = 0;
let timer: NodeJS.Timeout | undefined;
function schedule(delayMs: number): void {
  timer = setTimeout(() => schedule(pass() ? busyIntervalMs : intervalMs), delayMs);
}
schedule(intervalMs);

parentPort?.on('message', (message: string) => {
  if (message !== 'stop') return;
  clearTimeout(timer);
  try {
    checkpoint('PASSIVE');
  } finally {
    db.close();
    parentPort?.postMessage('stopped');
  }
});
