/**
 * A store that cannot be reached is not a bad request or a poison event: each adapter tells
 * such errors apart (Store.isUnavailable), and a PostgreSQL connection lost in the middle of a
 * transaction fails that transaction without taking the process down. Every error here is a
 * real one, produced by the real driver against a real database.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { createPostgresStore } from '../../src/storage/postgres/postgres-store.ts';
import { createSqliteStore } from '../../src/storage/sqlite/sqlite-store.ts';
import { AppError } from '../../src/errors/app-error.ts';
import { createTestDatabase, postgresReachable, TEST_PG_ADMIN_URL } from '../support/postgres.ts';
import '../support/stores.ts';

/** What `fn` throws (the test fails if it does not). */
async function thrownBy(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  return assert.fail('expected an error');
}

describe('store unavailable [sqlite]', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cdp-unavailable-'));
  const filename = path.join(dir, 'cdp.sqlite');
  const store = createSqliteStore({ filename });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads a database locked by another writer, and a full one, as unavailable', async () => {
    await store.migrate();
    const holder = new BetterSqlite3(filename);
    const other = new BetterSqlite3(filename);
    try {
      holder.exec('BEGIN IMMEDIATE');
      other.pragma('busy_timeout = 0');
      const busy = await thrownBy(() => other.exec('BEGIN IMMEDIATE'));
      assert.equal((busy as { code?: string }).code, 'SQLITE_BUSY');
      assert.equal(store.isUnavailable(busy), true);
      holder.exec('ROLLBACK');

      // A page limit reached is what a full disk looks like to SQLite.
      other.exec('CREATE TABLE filler (data BLOB)');
      other.pragma(`max_page_count = ${Number(other.pragma('page_count', { simple: true }))}`);
      const full = await thrownBy(() =>
        other.prepare('INSERT INTO filler VALUES (?)').run(Buffer.alloc(1_000_000)),
      );
      assert.equal((full as { code?: string }).code, 'SQLITE_FULL');
      assert.equal(store.isUnavailable(full), true);
      // Wrapped by a caller: the cause still says so.
      assert.equal(store.isUnavailable(new Error('append failed', { cause: full })), true);

      // A file system remounted read-only looks like this.
      const readOnly = new BetterSqlite3(filename, { readonly: true });
      try {
        const refused = await thrownBy(() => readOnly.exec('CREATE TABLE nope (x)'));
        assert.match(String((refused as { code?: string }).code), /^SQLITE_READONLY/);
        assert.equal(store.isUnavailable(refused), true);
      } finally {
        readOnly.close();
      }
    } finally {
      holder.close();
      other.close();
    }
  });

  it('reads errors about the statement or the data as the caller’s problem', async () => {
    const db = new BetterSqlite3(':memory:');
    try {
      db.exec('CREATE TABLE t (id TEXT PRIMARY KEY)');
      db.prepare('INSERT INTO t VALUES (?)').run('a');
      const duplicate = await thrownBy(() => db.prepare('INSERT INTO t VALUES (?)').run('a'));
      assert.match(String((duplicate as { code?: string }).code), /^SQLITE_CONSTRAINT/);
      assert.equal(store.isUnavailable(duplicate), false);
      const syntax = await thrownBy(() => db.exec('SELEC 1'));
      assert.equal(store.isUnavailable(syntax), false);
    } finally {
      db.close();
    }
    assert.equal(store.isUnavailable(new Error('connection reset')), false);
    assert.equal(store.isUnavailable(new AppError('request.invalid_body', 'bad')), false);
    assert.equal(store.isUnavailable(undefined), false);
  });
});

const pgSkip = (await postgresReachable())
  ? false
  : 'PostgreSQL not reachable at 127.0.0.1:5432 (set CI=1 to make this an error)';

describe('store unavailable [postgres]', { skip: pgSkip }, () => {
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  async function freshStore() {
    const database = await createTestDatabase();
    const store = createPostgresStore({ connectionString: database.url });
    cleanups.push(async () => {
      await store.close().catch(() => undefined);
      await database.drop();
    });
    await store.migrate();
    return { store, name: new URL(database.url).pathname.slice(1) };
  }

  async function admin<T extends pg.QueryResultRow>(text: string, values: unknown[] = []) {
    const client = new pg.Client({ connectionString: TEST_PG_ADMIN_URL });
    await client.connect();
    try {
      return await client.query<T>(text, values);
    } finally {
      await client.end();
    }
  }

  it('survives losing the connection of an open transaction, and fails only that transaction', async () => {
    const { store, name } = await freshStore();
    const failure = await thrownBy(() =>
      store.profileState.exclusive('ws_lost', Date.now(), async (session) => {
        await session.profiles(['prf_none']);
        // Between two statements: the client is checked out and no query is running, so the
        // termination reaches it as an 'error' event (unhandled, it used to end the process).
        const { rows } = await admin<{ pid: number }>(
          `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND state = 'idle in transaction'`,
          [name],
        );
        assert.equal(rows.length, 1, 'one transaction open');
        await admin('SELECT pg_terminate_backend($1)', [rows[0]?.pid]);
        await sleep(300);
        await session.profiles(['prf_none']);
      }),
    );
    assert.equal(store.isUnavailable(failure), true, String(failure));
    // The pool let the dead client go: the next statements run on a new connection.
    await store.ping();
    assert.equal(await store.workspaces.findByIdOrSlug('nope'), undefined);
  });

  it('reads refused connections as unavailable until the database accepts them again', async () => {
    const { store, name } = await freshStore();
    await store.ping();
    await admin(`ALTER DATABASE ${name} WITH ALLOW_CONNECTIONS false`);
    try {
      await admin('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [name]);
      const refused = await thrownBy(() => store.ping());
      assert.equal(store.isUnavailable(refused), true, String(refused));
    } finally {
      await admin(`ALTER DATABASE ${name} WITH ALLOW_CONNECTIONS true`);
    }
    await store.ping();
    const duplicate = await thrownBy(() => store.migrate().then(() => admin(`CREATE DATABASE ${name}`)));
    assert.equal((duplicate as { code?: string }).code, '42P04');
    assert.equal(store.isUnavailable(duplicate), false);
    // Errors the server raises with each SQLSTATE: unavailable are its own conditions (disk
    // full, too many connections, shutting down, connection failures), not the statement's.
    const verdicts: [code: string, unavailable: boolean][] = [
      ['53100', true],
      ['53300', true],
      ['57P01', true],
      ['08006', true],
      ['58030', true],
      ['23505', false],
      ['42601', false],
      ['40001', false],
      ['55000', false],
      ['57014', false],
    ];
    for (const [code, unavailable] of verdicts) {
      const raised = await thrownBy(() =>
        admin(`DO $$ BEGIN RAISE EXCEPTION 'raised for the test' USING ERRCODE = '${code}'; END $$`),
      );
      assert.equal((raised as { code?: string }).code, code);
      assert.equal(store.isUnavailable(raised), unavailable, `SQLSTATE ${code}`);
    }
    const unreachable = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:1/none' });
    const refusedSocket = await thrownBy(() => unreachable.connect());
    assert.equal(store.isUnavailable(refusedSocket), true, String(refusedSocket));
  });
});

describe('store unavailable [postgres server that never answers]', () => {
  it('gives up connecting after 5 s and reads that as unavailable', async () => {
    // Accepts connections and never answers: a partitioned network or a hung server.
    const sockets: Socket[] = [];
    const silent = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    // The default timeout (5 s), as the server runs.
    const store = createPostgresStore({ connectionString: `postgres://postgres@127.0.0.1:${port}/none` });
    const giveUp = new AbortController();
    try {
      // Without the timeout the ping would wait for TCP to give up, minutes from now.
      const failure = await thrownBy(() =>
        Promise.race([
          store.ping(),
          sleep(20_000, undefined, { signal: giveUp.signal }).then(() => assert.fail('still connecting')),
        ]),
      );
      assert.equal(store.isUnavailable(failure), true, String(failure));
    } finally {
      giveUp.abort();
      await store.close().catch(() => undefined);
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });
});
