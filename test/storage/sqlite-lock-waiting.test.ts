import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, sql, type Generated } from 'kysely';
import { MAIN_WRITE_LOCK_TABLE } from '../../src/storage/sqlite/log-file.ts';
import { LockWaitingSqliteDialect } from '../../src/storage/sqlite/lock-waiting-dialect.ts';
import { createSqliteStore } from '../../src/storage/sqlite/sqlite-store.ts';

interface Db {
  items: { id: Generated<number>; note: string };
}

/** Counts turns of the event loop during `ms`. */
async function turnsDuring(ms: number): Promise<number> {
  let turns = 0;
  const timer = setInterval(() => (turns += 1), 1);
  await new Promise((resolve) => setTimeout(resolve, ms));
  clearInterval(timer);
  return turns;
}

// With the pipeline on a thread of its own, two connections write the main file: a lock held
// by one is waited for by the other between turns of its event loop, and every transaction
// takes the lock before it reads.
describe('SQLite: waiting for another connection’s write lock', () => {
  let dir: string;

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'cdp-lock-waiting-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a store write waits for the lock without holding the event loop, then succeeds', async () => {
    const file = path.join(dir, 'store.sqlite');
    const store = createSqliteStore({ filename: file });
    await store.migrate();
    const other = new BetterSqlite3(file);
    try {
      other.exec('BEGIN IMMEDIATE');
      let settled = false;
      const write = store.workspaces
        .create({ id: 'ws_lockwait', slug: 'lock-wait', name: 'Lock wait', createdMs: Date.now() })
        .finally(() => (settled = true));
      const turns = await turnsDuring(200);
      assert.equal(settled, false, 'the write waits while the other connection holds the lock');
      assert.ok(turns >= 40, `the event loop kept turning while the write waited (${turns} turns in 200 ms)`);
      other.exec('COMMIT');
      await write;
      assert.equal((await store.workspaces.findByIdOrSlug('lock-wait'))?.id, 'ws_lockwait');
    } finally {
      other.close();
      await store.close();
    }
  });

  it('a transaction that reads, then writes, holds the lock from its start', async () => {
    const file = path.join(dir, 'tx.sqlite');
    const setup = new BetterSqlite3(file);
    setup.pragma('journal_mode = WAL');
    setup.exec(`CREATE TABLE items (id INTEGER PRIMARY KEY, note TEXT NOT NULL)`);
    setup.exec(`CREATE TABLE ${MAIN_WRITE_LOCK_TABLE} (unused INTEGER)`);
    setup.close();
    const connection = new BetterSqlite3(file);
    connection.pragma('busy_timeout = 0');
    const db = new Kysely<Db>({ dialect: new LockWaitingSqliteDialect({ database: connection }) });
    const other = new BetterSqlite3(file);
    other.pragma('busy_timeout = 0');
    try {
      let otherWrite: unknown;
      await db.transaction().execute(async (trx) => {
        await trx.selectFrom('items').selectAll().execute();
        // Another connection writing between this read and this write: with a plain deferred
        // BEGIN it would commit, and the write below would fail with SQLITE_BUSY_SNAPSHOT.
        try {
          other.prepare(`INSERT INTO items (note) VALUES ('other')`).run();
        } catch (error) {
          otherWrite = error;
        }
        await trx.insertInto('items').values({ note: 'mine' }).execute();
      });
      assert.equal((otherWrite as { code?: unknown } | undefined)?.code, 'SQLITE_BUSY');
      const notes = (await sql<{ note: string }>`select note from items`.execute(db)).rows.map((r) => r.note);
      assert.deepEqual(notes, ['mine']);
    } finally {
      other.close();
      await db.destroy();
    }
  });
});
