import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, sql, SqliteDialect } from 'kysely';
import { GroupCommitter } from '../../src/ingestion/group-committer.ts';
import type { AcceptedEvent } from '../../src/ingestion/message-types.ts';
import { LOG_TABLES, logFileOf } from '../../src/storage/sqlite/log-file.ts';
import { createSqliteStore } from '../../src/storage/sqlite/sqlite-store.ts';
import { TransactionSlices } from '../../src/storage/sqlite/transaction-slices.ts';
import type { Store } from '../../src/storage/store.ts';

const WS = 'ws_logfile';

const event = (n: number): AcceptedEvent => ({
  workspaceId: WS,
  sourceId: 'src_logfile',
  messageId: `m-${n}`,
  type: 'track',
  event: 'Tested',
  userId: `u-${n}`,
  anonymousId: null,
  timestampMs: 1_700_000_000_000 + n,
  receivedMs: Date.now(),
  payload: JSON.stringify({ type: 'track', event: 'Tested', userId: `u-${n}`, messageId: `m-${n}` }),
});

const committerOf = (store: Store): GroupCommitter =>
  new GroupCommitter({
    log: store.events,
    dedupWindowMs: 86_400_000,
    now: () => Date.now(),
    maxPendingEvents: 100_000,
    onCommitted: () => undefined,
  });

const tablesOf = (file: string): string[] => {
  const db = new BetterSqlite3(file, { readonly: true });
  try {
    return db
      .prepare<[], { name: string }>("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
      .all()
      .map((row) => row.name);
  } finally {
    db.close();
  }
};

const seqsOf = async (store: Store): Promise<number[]> =>
  (await store.events.readAfter(0, 1000)).map((e) => e.seq).sort((a, b) => a - b);

// The ack path appends to a file of its own (storage/sqlite/log-file.ts), so that a pipeline
// batch's transaction on the main file does not hold acknowledgements up.
describe('SQLite: the event log in its own file', () => {
  let dir: string;
  let file: string;

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'cdp-logfile-'));
    file = path.join(dir, 'cdp.sqlite');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps the log tables in the log file and nothing of them in the main file', async () => {
    const store = createSqliteStore({ filename: file });
    await store.migrate();
    await store.close();
    const main = tablesOf(file);
    const log = tablesOf(logFileOf(file));
    for (const table of LOG_TABLES) {
      assert.ok(log.includes(table), `${table} in the log file`);
      assert.ok(!main.includes(table), `${table} not in the main file`);
    }
    assert.ok(main.includes('profiles') && !log.includes('profiles'));
  });

  it('acknowledges appends while a write transaction holds the main file', async () => {
    const store = createSqliteStore({ filename: file });
    await store.migrate();
    const committer = committerOf(store);
    try {
      const order: string[] = [];
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      // The transaction stays open across turns of the event loop, as a pipeline batch does
      // between its slices; the fallback only keeps a failing run from hanging.
      const transaction = store.profileState.exclusive(WS, Date.now(), async () => {
        await held;
        order.push('transaction ended');
      });
      const fallback = setTimeout(release, 5_000);
      const outcome = await committer.append([event(1), event(2)]);
      order.push('appended');
      release();
      await transaction;
      clearTimeout(fallback);
      assert.equal(outcome.stored, 2);
      assert.deepEqual(order, ['appended', 'transaction ended']);
    } finally {
      await committer.close();
      await store.close();
    }
  });

  it('waits for a log file locked by another connection without holding the event loop', async () => {
    const store = createSqliteStore({ filename: file });
    await store.migrate();
    const committer = committerOf(store);
    const other = new BetterSqlite3(logFileOf(file));
    try {
      other.exec('BEGIN IMMEDIATE');
      let ticks = 0;
      const ticker = setInterval(() => (ticks += 1), 2);
      const appended = committer.append([event(3)]);
      let settled = false;
      void appended.finally(() => (settled = true)).catch(() => undefined);
      // Until the loop has turned a few times (however loaded the machine), the lock still held.
      for (let waited = 0; ticks < 5 && waited < 5_000; waited += 10)
        await new Promise((resolve) => setTimeout(resolve, 10));
      clearInterval(ticker);
      assert.equal(settled, false, 'the append waits for the lock');
      other.exec('COMMIT');
      const outcome = await appended;
      assert.equal(outcome.stored, 1);
      assert.ok(ticks >= 5, `the event loop ran while the append waited (${ticks} ticks)`);
    } finally {
      other.close();
      await committer.close();
      await store.close();
    }
  });

  it('moves the log of a store from before the split, keeping its sequence numbers', async () => {
    const legacy = path.join(dir, 'legacy.sqlite');
    const store = createSqliteStore({ filename: legacy });
    await store.migrate();
    const committer = committerOf(store);
    await committer.append([event(10), event(11), event(12)]);
    await committer.close();
    const before = await seqsOf(store);
    await store.close();
    assert.equal(before.length, 3);
    // Back to the layout of earlier versions: the log's tables in the main file, none in the
    // log file; and the last entry deleted (erased), whose number must not come back.
    const db = new BetterSqlite3(legacy);
    db.prepare('ATTACH DATABASE ? AS log').run(logFileOf(legacy));
    for (const table of LOG_TABLES) {
      const ddl = db
        .prepare<[string], { sql: string }>(
          "SELECT sql FROM log.sqlite_schema WHERE type = 'table' AND name = ?",
        )
        .get(table);
      assert.ok(ddl);
      const indexes = db
        .prepare<[string], { sql: string }>(
          "SELECT sql FROM log.sqlite_schema WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
        )
        .all(table);
      db.exec(ddl.sql);
      for (const index of indexes) db.exec(index.sql);
      db.exec(`INSERT INTO main."${table}" SELECT * FROM log."${table}"`);
      db.exec(`DROP TABLE log."${table}"`);
    }
    db.prepare('DELETE FROM main.events WHERE seq = ?').run(before[2]);
    db.close();
    assert.ok(tablesOf(legacy).includes('events'));

    const reopened = createSqliteStore({ filename: legacy });
    try {
      await reopened.migrate();
      assert.ok(!tablesOf(legacy).includes('events'), 'moved out of the main file');
      assert.deepEqual(await seqsOf(reopened), before.slice(0, 2));
      assert.equal(await reopened.events.countByWorkspace(WS), 3, 'the counters moved too');
      const again = committerOf(reopened);
      const outcome = await again.append([event(13)]);
      await again.close();
      assert.ok(
        (outcome.seqs[0] ?? 0) > (before[2] ?? Infinity),
        `a deleted number is not handed out again: ${JSON.stringify({ before, outcome })}`,
      );
      // Deduplication still finds the moved entries.
      const repeat = committerOf(reopened);
      const duplicate = await repeat.append([event(10)]);
      await repeat.close();
      assert.equal(duplicate.stored, 0);
    } finally {
      await reopened.close();
    }
  });
});

describe('SQLite transactions in slices', () => {
  it('let the event loop run between statements of a long transaction', async () => {
    const sqlite = new BetterSqlite3(':memory:');
    const slices = new TransactionSlices(sqlite);
    const db = new Kysely<Record<string, never>>({
      dialect: new SqliteDialect({ database: sqlite }),
      plugins: [slices],
    });
    try {
      // One count per turn of the event loop (statements alone only ever await microtasks).
      let turns = 0;
      let spinning = true;
      const spin = (): void => {
        turns += 1;
        if (spinning) setImmediate(spin);
      };
      setImmediate(spin);
      await new Promise((resolve) => setImmediate(resolve));
      const before = turns;
      await db.transaction().execute(async (trx) => {
        // Until the loop has turned three times (a slice is a few ms), or 2 s without.
        const started = performance.now();
        while (turns - before < 3 && performance.now() - started < 2_000) await sql`select 1`.execute(trx);
      });
      const inside = turns - before;
      // Without a transaction, statements run back to back (each is its own).
      const started = performance.now();
      while (performance.now() - started < 20) await sql`select 1`.execute(db);
      const outside = turns - before - inside;
      spinning = false;
      assert.ok(inside >= 3, `the event loop turned during the transaction (${inside} times)`);
      assert.equal(outside, 0, 'no turn given away outside a transaction');
    } finally {
      await db.destroy();
    }
  });
});
