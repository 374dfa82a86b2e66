import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { createSqliteStore } from '../../src/storage/sqlite/sqlite-store.ts';
import type { Store } from '../../src/storage/store.ts';
import { restartDue } from '../../src/storage/sqlite/wal-restart-policy.ts';

const PAGE = 4096;
const RESTART_FRAMES = 250;

// The server's connection never checkpoints: the checkpoint worker copies the WAL and, since
// its passes never finish under writes without a pause, starts the WAL over past a size.
describe('SQLite WAL under background checkpoints', () => {
  let dir: string;
  let file: string;
  let store: Store;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'cdp-wal-'));
    file = path.join(dir, 'cdp.sqlite');
    store = createSqliteStore({
      filename: file,
      backgroundCheckpoints: true,
      walRestartFrames: RESTART_FRAMES,
    });
    await store.migrate();
  });

  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts over while a writer commits continually, and loses nothing', async () => {
    // A writer that never checkpoints itself, as the server's connection, committing 100 KB
    // every ~2 ms: checkpoint passes never find every frame copied, so without the worker's
    // RESTART the WAL would never start over and would grow with every commit.
    const writer = new BetterSqlite3(file);
    writer.pragma('busy_timeout = 5000');
    writer.pragma('wal_autocheckpoint = 0');
    writer.exec('CREATE TABLE filler (id INTEGER PRIMARY KEY, body BLOB)');
    const insert = writer.prepare('INSERT INTO filler (body) VALUES (?)');
    const commit = writer.transaction((rows: number) => {
      for (let i = 0; i < rows; i++) insert.run(Buffer.alloc(PAGE - 200, i % 251));
    });
    // The WAL header's checkpoint sequence number grows by one each time the WAL starts over.
    const walHeader = Buffer.alloc(16);
    const restartsSoFar = (): number => {
      const fd = openSync(`${file}-wal`, 'r');
      try {
        readSync(fd, walHeader, 0, 16, 0);
      } finally {
        closeSync(fd);
      }
      return walHeader.readUInt32BE(12);
    };
    commit(25);
    const first = restartsSoFar();
    let transactions = 1;
    let largestWal = 0;
    // How soon depends on the worker getting the CPU (CI runs tests side by side): bounded by
    // a count of commits, not by time.
    while (restartsSoFar() - first < 2 && transactions < 600) {
      commit(25);
      transactions++;
      largestWal = Math.max(largestWal, statSync(`${file}-wal`).size);
      // The server's event loop does other work between two commits.
      await new Promise<void>((resolve) => setTimeout(resolve, 2));
    }
    const rows = (writer.prepare('SELECT count(*) AS n FROM filler').get() as { n: number }).n;
    writer.close();
    assert.equal(rows, transactions * 25);
    assert.ok(
      restartsSoFar() - first >= 2,
      `the WAL never started over twice in ${transactions} commits (${Math.round(largestWal / 1e6)} MB)`,
    );
  });
});

describe('when the checkpoint worker starts the WAL over', () => {
  const cases: readonly [string, { log: number; checkpointed: number }, boolean][] = [
    ['below the limit, all copied', { log: 900, checkpointed: 900 }, false],
    ['at the limit', { log: 1_000, checkpointed: 1_000 }, false],
    ['past the limit, all copied', { log: 1_001, checkpointed: 1_001 }, true],
    ['past the limit, a little left', { log: 5_000, checkpointed: 4_950 }, true],
    ['past the limit, exactly the remainder left', { log: 5_000, checkpointed: 4_900 }, true],
    [
      'past the limit, much left (the lock would be held for the copy)',
      { log: 5_000, checkpointed: 4_000 },
      false,
    ],
    ['past the limit, nothing copied yet', { log: 50_000, checkpointed: 0 }, false],
  ];
  for (const [name, progress, expected] of cases)
    it(name, () => assert.equal(restartDue(progress, 1_000, 100), expected));
});
