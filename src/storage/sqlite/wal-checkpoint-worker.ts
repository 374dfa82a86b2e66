import { parentPort, workerData } from 'node:worker_threads';
import BetterSqlite3 from 'better-sqlite3';

/**
 * Copies the WAL into the database file from a connection of its own, on its own thread, so
 * the appender's commits never pay for checkpoints. PASSIVE never blocks the writer; once a
 * pass has copied every frame, the next commit restarts the WAL from its beginning.
 */
const { filename, intervalMs } = (workerData as { data: { filename: string; intervalMs: number } }).data;
const db = new BetterSqlite3(filename);
db.pragma('busy_timeout = 100');
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // Busy or shutting down: the next pass tries again.
  }
}, intervalMs);
parentPort?.on('message', (message: string) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } finally {
    db.close();
    parentPort?.postMessage('stopped');
  }
});
