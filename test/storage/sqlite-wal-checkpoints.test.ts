import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { createSqliteStore } from '../../src/storage/sqlite/sqlite-store.ts';
import type { Store } from '../../src/storage/store.ts';

const PAGE = 4096;
const RESTART_FRAMES = 1_000;

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

  it('stays bounded while a writer commits continually, and loses nothing', async () => {
    // A writer that never checkpoints itself, as the server's connection: ~40 MB of commits,
    // ten times what the WAL may hold before it is started over.
    const writer = new BetterSqlite3(file);
    writer.pragma('busy_timeout = 5000');
    writer.pragma('wal_autocheckpoint = 0');
    writer.exec('CREATE TABLE filler (id INTEGER PRIMARY KEY, body BLOB)');
    const insert = writer.prepare('INSERT INTO filler (body) VALUES (?)');
    const commit = writer.transaction((rows: number) => {
      for (let i = 0; i < rows; i++) insert.run(Buffer.alloc(PAGE - 200, i % 251));
    });
    let largestWal = 0;
    const transactions = 400;
    for (let t = 0; t < transactions; t++) {
      commit(25);
      largestWal = Math.max(largestWal, statSync(`${file}-wal`).size);
      // The server's event loop does other work between two commits.
      await new Promise<void>((resolve) => setTimeout(resolve, 2));
    }
    const rows = (writer.prepare('SELECT count(*) AS n FROM filler').get() as { n: number }).n;
    writer.close();
    assert.equal(rows, transactions * 25);
    // Past the limit, one RESTART pass and the next commit start over: a few limits at most.
    assert.ok(
      largestWal < 4 * RESTART_FRAMES * PAGE,
      `the WAL reached ${Math.round(largestWal / 1e6)} MB with a limit of ${Math.round((RESTART_FRAMES * PAGE) / 1e6)} MB`,
    );
  });
});
