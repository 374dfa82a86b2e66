import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, sql, type Generated } from 'kysely';
import { MAIN_WRITE_LOCK_TABLE } from '../../src/storage/sqlite/log-file.ts';
import { LockWaitingSqliteDialect } from '../../src/storage/sqlite/lock-waiting-dialect.ts';
import { WalFileSync } from '../../src/storage/sqlite/wal-file-sync.ts';

interface Db {
  items: { id: Generated<number>; note: string };
}

const FULL = 2;
const NORMAL = 1;

describe('SQLite: durable commits fsynced off the event loop', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'cdp-off-loop-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** A store file, its connection at FULL, and a Kysely over it whose commits sync `walPath`. */
  function open(name: string, walPath?: string) {
    const file = path.join(dir, `${name}.sqlite`);
    const sqlite = new BetterSqlite3(file);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = FULL');
    sqlite.exec(`CREATE TABLE items (id INTEGER PRIMARY KEY, note TEXT NOT NULL)`);
    sqlite.exec(`CREATE TABLE ${MAIN_WRITE_LOCK_TABLE} (unused INTEGER)`);
    const wal = new WalFileSync(walPath ?? `${file}-wal`, 'the main database');
    let syncs = 0;
    const counted = {
      sync: () => {
        syncs += 1;
        return wal.sync();
      },
    };
    const db = new Kysely<Db>({
      dialect: new LockWaitingSqliteDialect({ database: sqlite, offLoopCommits: { sqlite, wal: counted } }),
    });
    return {
      sqlite,
      db,
      syncs: () => syncs,
      close: async () => {
        await db.destroy();
        wal.close();
      },
    };
  }

  it('a transaction at FULL commits at NORMAL, is fsynced once, and leaves the connection at FULL', async () => {
    const store = open('durable');
    try {
      let levelInside: unknown;
      await store.db.transaction().execute(async (trx) => {
        levelInside = store.sqlite.pragma('synchronous', { simple: true });
        await trx.insertInto('items').values({ note: 'kept' }).execute();
      });
      assert.equal(levelInside, NORMAL);
      assert.equal(store.syncs(), 1);
      assert.equal(store.sqlite.pragma('synchronous', { simple: true }), FULL);
      const notes = (await sql<{ note: string }>`select note from items`.execute(store.db)).rows;
      assert.deepEqual(
        notes.map((r) => r.note),
        ['kept'],
      );
      assert.equal(store.syncs(), 1, 'a read outside a transaction syncs nothing');
    } finally {
      await store.close();
    }
  });

  it('a rolled-back transaction is not fsynced and leaves the connection at FULL', async () => {
    const store = open('rollback');
    try {
      await assert.rejects(
        store.db.transaction().execute(async (trx) => {
          await trx.insertInto('items').values({ note: 'dropped' }).execute();
          throw new Error('changed my mind');
        }),
        /changed my mind/,
      );
      assert.equal(store.syncs(), 0);
      assert.equal(store.sqlite.pragma('synchronous', { simple: true }), FULL);
      assert.equal(store.sqlite.prepare('select count(*) from items').pluck().get(), 0);
    } finally {
      await store.close();
    }
  });

  // Linux refuses fsync on a FIFO (EINVAL): a stand-in for a disk that failed to write.
  it('a commit whose fsync fails is reported as failed; a transaction already at NORMAL needs none', async () => {
    const fifo = path.join(dir, 'broken-wal');
    execFileSync('mkfifo', [fifo]);
    const store = open('broken', fifo);
    try {
      await assert.rejects(
        store.db.transaction().execute(async (trx) => {
          await trx.insertInto('items').values({ note: 'not durable' }).execute();
        }),
        /fsync of the main database failed \(EINVAL\); restart the server/,
      );
      assert.equal(store.sqlite.pragma('synchronous', { simple: true }), FULL);
      // State replayed from the log commits at NORMAL by choice (workspace-write.ts).
      store.sqlite.pragma('synchronous = NORMAL');
      await store.db.transaction().execute(async (trx) => {
        await trx.insertInto('items').values({ note: 'replayable' }).execute();
      });
      assert.equal(store.syncs(), 1, 'only the transaction that began at FULL asked for an fsync');
      assert.equal(store.sqlite.pragma('synchronous', { simple: true }), NORMAL);
    } finally {
      await store.close();
    }
  });

  it('two commits on one held connection: a failed fsync fails the whole use, once, when it ends', async () => {
    const fifo = path.join(dir, 'broken-wal-2');
    execFileSync('mkfifo', [fifo]);
    const store = open('two-commits', fifo);
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      await assert.rejects(
        store.db.connection().execute(async (connection) => {
          await sql`begin`.execute(connection);
          await sql`insert into items (note) values ('first')`.execute(connection);
          await sql`commit`.execute(connection);
          // Long enough for the first fsync to fail before the second commit.
          await new Promise((resolve) => setTimeout(resolve, 50));
          await sql`begin`.execute(connection);
          await sql`insert into items (note) values ('second')`.execute(connection);
          await sql`commit`.execute(connection);
          // Both fsyncs fail before the release asks for them: neither may go unhandled.
          await new Promise((resolve) => setTimeout(resolve, 50));
        }),
        /fsync of the main database failed/,
      );
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.deepEqual(unhandled, []);
      assert.equal(store.syncs(), 2);
      assert.equal(store.sqlite.pragma('synchronous', { simple: true }), FULL);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      await store.close();
    }
  });
});
