/**
 * When the store cannot be reached, the events being processed are not to blame: the stage's
 * batch goes back to the bus whole and comes again once the store answers, without being split,
 * without an attempt counted, and without anything moved to the failed events. During an
 * outage of a PostgreSQL store, requests get 503 `storage.unavailable` with Retry-After (never
 * 500), and once it is over every acknowledged event is stored once and processed.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import type { Stage } from '../../src/pipeline/stage.ts';
import type { BackfillProgress } from '../../src/segments/segment-types.ts';
import { describeEachStore, type StoreKind } from '../support/stores.ts';
import { TEST_PG_ADMIN_URL } from '../support/postgres.ts';
import { basicAuth, createTestApp, type TestApp } from '../support/test-app.ts';

/** With one attempt, any failure blamed on an event moves it to the failed events at once. */
const ONE_ATTEMPT = { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 };

/** A real "cannot reach the store" error of the store's own driver. */
async function driverOutageError(kind: StoreKind): Promise<Error> {
  if (kind === 'sqlite') {
    const db = new BetterSqlite3(':memory:');
    try {
      db.pragma('max_page_count = 1');
      db.exec('CREATE TABLE t (x BLOB)');
      db.prepare('INSERT INTO t VALUES (?)').run(Buffer.alloc(100_000));
    } catch (error) {
      return error as Error;
    } finally {
      db.close();
    }
  } else {
    const client = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:1/none' });
    try {
      await client.connect();
    } catch (error) {
      return error as Error;
    }
  }
  throw new Error('the driver did not fail');
}

async function until(condition: () => Promise<boolean> | boolean, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await sleep(25);
  }
  assert.fail(`timed out waiting for ${what}`);
}

async function sendBatch(t: TestApp, prefix: string, n: number) {
  return t.app.http.inject({
    method: 'POST',
    url: '/v1/batch',
    headers: basicAuth(t.writeKey),
    payload: {
      batch: Array.from({ length: n }, (_, i) => ({
        type: 'track',
        event: 'E',
        userId: `u-${prefix}-${i}`,
        messageId: `${prefix}-${i}`,
      })),
    },
  });
}

async function adminSql(text: string, values: unknown[] = []): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_PG_ADMIN_URL });
  await client.connect();
  try {
    await client.query(text, values);
  } finally {
    await client.end();
  }
}

/** The database refuses new connections and loses the ones it had, as in a restart. */
async function cutOff(database: string): Promise<void> {
  await adminSql(`ALTER DATABASE ${database} WITH ALLOW_CONNECTIONS false`);
  await adminSql('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [database]);
}

async function reconnect(database: string): Promise<void> {
  await adminSql(`ALTER DATABASE ${database} WITH ALLOW_CONNECTIONS true`);
}

/** The PostgreSQL database a fixture's server would use. */
function databaseName(env: Record<string, string>): string {
  return new URL(env['CDP_DATABASE_URL'] ?? '').pathname.slice(1);
}

/** A stage that records the messageIds it processed. */
function recordingStage(name: string): { stage: Stage; processed: Set<string> } {
  const processed = new Set<string>();
  const stage: Stage = {
    name,
    maxBatch: 100,
    async handle(event) {
      processed.add(event.messageId);
    },
  };
  return { stage, processed };
}

async function failedEvents(t: TestApp): Promise<unknown[]> {
  const response = await t.app.http.inject({
    method: 'GET',
    url: `/api/v1/workspaces/${t.workspace.slug}/failed-events`,
    headers: t.adminHeaders,
  });
  assert.equal(response.statusCode, 200, response.body);
  return response.json<{ items: unknown[] }>().items;
}

describeEachStore('store outage in the pipeline', (fixture) => {
  it('hands the batch back whole and processes it once the store answers again', async () => {
    const { store } = await fixture.fresh();
    const outage = await driverOutageError(fixture.kind);
    let outageUntil = 0;
    const batches: { ids: string[]; failed: boolean }[] = [];
    const processed = new Set<string>();
    const stage: Stage = {
      name: 'outage-probe',
      maxBatch: 50,
      async handle(event) {
        await this.handleBatch?.([event], { clock: { now: () => Date.now() }, attempt: 1 });
      },
      async handleBatch(events) {
        if (outageUntil === 0) outageUntil = Date.now() + 300;
        const failed = Date.now() < outageUntil;
        batches.push({ ids: events.map((e) => e.messageId), failed });
        if (failed) throw outage;
        for (const e of events) processed.add(e.messageId);
      },
    };
    const t = await createTestApp(store, { stages: [stage], retryPolicy: ONE_ATTEMPT });
    try {
      const response = await sendBatch(t, 'o', 10);
      assert.equal(response.statusCode, 200, response.body);
      await until(() => processed.size === 10, 'all ten processed');
      assert.deepEqual(await failedEvents(t), []);
      // Split in halves (the poison-event search), the entries would have failed one by one.
      const [first, ...rest] = batches;
      assert.ok(first?.failed, 'the first batch met the outage');
      const retried = rest.find((batch) => !batch.failed);
      assert.ok(retried, 'delivered again after the outage');
      for (const id of first.ids) assert.ok(retried.ids.includes(id), `${id} delivered again with the rest`);
      for (const batch of rest.filter((b) => b.failed))
        assert.deepEqual(batch.ids, first.ids, 'a batch that met the outage comes again whole');
    } finally {
      await t.close();
    }
  });

  // SQLite is a file in the process: its outages (locked, full, read-only) are covered above and
  // in test/storage/store-unavailable.test.ts; a server that refuses connections is PostgreSQL's.
  if (fixture.kind !== 'postgres') return;

  it('answers 503 with Retry-After while PostgreSQL refuses connections, and loses nothing', async () => {
    const handle = await fixture.fresh();
    const name = databaseName(handle.env);
    const { stage, processed } = recordingStage('counting');
    const t = await createTestApp(handle.store, { stages: [stage], retryPolicy: ONE_ATTEMPT });
    try {
      assert.equal((await sendBatch(t, 'before', 20)).statusCode, 200);
      await until(() => processed.size === 20, 'processed before the outage');

      await cutOff(name);
      try {
        const ingest = await sendBatch(t, 'during', 5);
        const list = await t.app.http.inject({
          method: 'GET',
          url: `/api/v1/workspaces/${t.workspace.slug}/events`,
          headers: t.adminHeaders,
        });
        for (const response of [ingest, list]) {
          assert.equal(response.statusCode, 503, response.body);
          assert.equal(response.json().error.code, 'storage.unavailable');
          assert.ok(Number(response.headers['retry-after']) >= 1, 'Retry-After');
          // The driver's words stay in the server log.
          assert.doesNotMatch(response.body, /accepting connections|terminat|cause/i);
        }
        for (let i = 0; i < 4; i++) assert.equal((await sendBatch(t, `again-${i}`, 1)).statusCode, 503);
        // Six failed requests, one line in the log: an outage does not flood it. Nor do the
        // background loops (deliveries, key ring, scheduler, the bus), which poll about once a
        // second: each says it once.
        await sleep(3_500);
        const outageLines = t.logs.filter((line) =>
          line.includes('request failed: the store is unavailable'),
        );
        assert.equal(outageLines.length, 1, outageLines.join('\n'));
        const errorMessages = t.logs
          .map((line) => JSON.parse(line) as { level: number; msg: string; group?: string })
          .filter((entry) => entry.level >= 50)
          // Each consumer group (stage) says it for itself.
          .map((entry) => `${entry.msg.replace(/ \(.*$/, '')}${entry.group ? ` [${entry.group}]` : ''}`);
        assert.ok(errorMessages.length >= 2, `the outage was logged: ${errorMessages.join(' | ')}`);
        for (const message of new Set(errorMessages))
          assert.equal(
            errorMessages.filter((m) => m === message).length,
            1,
            `logged more than once during the outage: ${message}`,
          );
      } finally {
        await reconnect(name);
      }

      const after = await sendBatch(t, 'after', 20);
      assert.equal(after.statusCode, 200, after.body);
      await until(() => processed.size === 40, 'processed after the outage');
      assert.equal([...processed].filter((id) => id.startsWith('during')).length, 0);
      assert.deepEqual(await failedEvents(t), []);
      const stats = await t.app.http.inject({
        method: 'GET',
        url: `/api/v1/workspaces/${t.workspace.slug}/stats`,
        headers: t.adminHeaders,
      });
      assert.equal(stats.json().events, 40);
    } finally {
      await t.close();
    }
  });

  it('starts its background work while PostgreSQL is away, and catches up once it is back', async () => {
    const handle = await fixture.fresh();
    const name = databaseName(handle.env);
    const { stage, processed } = recordingStage('late-start');
    const t = await createTestApp(handle.store, { stages: [stage], retryPolicy: ONE_ATTEMPT, start: false });
    try {
      // A backfill a previous process left unfinished: resumed at start, and again once the
      // store answers when it did not at start.
      const { segments } = t.app.services;
      const { segment: created } = await segments.create(t.workspace.id, {
        name: 'Late',
        slug: 'late',
        definition: 'traits.plan = "pro"',
      });
      await segments.idle();
      const unfinished: BackfillProgress = {
        status: 'backfilling',
        total: 0,
        done: 0,
        startedMs: null,
        finishedMs: null,
        error: null,
      };
      assert.ok(
        await handle.store.segments.setBackfill(t.workspace.id, created.id, created.version, unfinished),
      );
      await cutOff(name);
      try {
        // Every loop's first read fails here (the pipeline, the scheduler, the suppression
        // lists, deliveries, privacy requests): none may end the process with an unhandled
        // rejection, which the test runner would report as a failure of this test.
        await t.app.start();
        await sleep(2_500);
      } finally {
        await reconnect(name);
      }
      const response = await sendBatch(t, 'late', 10);
      assert.equal(response.statusCode, 200, response.body);
      await until(() => processed.size === 10, 'processed once the store is back');
      assert.deepEqual(await failedEvents(t), []);
      await until(
        async () => (await segments.get(t.workspace.id, 'late')).backfill.status === 'ready',
        'the unfinished backfill resumed once the store is back',
      );
    } finally {
      await t.close();
    }
  });
});
