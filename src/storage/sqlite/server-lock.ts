/**
 * One server per data dir. The embedded store keeps state in the server's memory that a second
 * server on the same files would not see: the dedup index of recent messageIds (the same
 * message sent to each would be stored twice), the pipeline's cursors and caches (two consumers
 * of one group), the checkpoint worker. So `cdp start` holds an exclusive SQLite lock on a small
 * file next to the database for as long as it runs; a second server on the same data dir stops
 * at start with a message saying so. The operating system releases the lock when the process
 * ends, `kill -9` included, so no stale lock is ever left to clean up. CLI commands do not take
 * it: they run next to the server, as before.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';

export const SERVER_LOCK_FILE = 'server.lock';

export class DataDirInUseError extends Error {
  constructor(dataDir: string) {
    super(
      `another cdp server is running on the data dir ${dataDir}: the embedded SQLite store serves one ` +
        'server process. Stop the other one, give this one another CDP_DATA_DIR, or use PostgreSQL ' +
        '(CDP_DATABASE_URL) to run several processes.',
    );
    this.name = 'DataDirInUseError';
  }
}

export interface ServerLock {
  release(): void;
}

export function lockDataDir(dataDir: string): ServerLock {
  mkdirSync(dataDir, { recursive: true });
  const db = new BetterSqlite3(path.join(dataDir, SERVER_LOCK_FILE));
  try {
    db.pragma('busy_timeout = 0');
    // A rollback-journal database: BEGIN EXCLUSIVE takes the file's exclusive lock at once.
    db.exec('BEGIN EXCLUSIVE');
  } catch (error) {
    db.close();
    if ((error as { code?: unknown }).code === 'SQLITE_BUSY') throw new DataDirInUseError(dataDir);
    throw error;
  }
  return {
    release: () => {
      if (!db.open) return;
      db.exec('ROLLBACK');
      db.close();
    },
  };
}
