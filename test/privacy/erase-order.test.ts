/**
 * An erasure deletes the person's events first, in a transaction of its own, then everything
 * else (storage/kysely/subject-erase.ts, deleteEvents). On SQLite the log is a file of its own
 * and a transaction over both files commits them one after the other: in one transaction, a
 * crash between the two commits could leave the person's events with their profile and
 * identifiers gone, and nothing for the retry to find them by. Here the second transaction is
 * made to fail (a trigger refuses to delete identifiers): the events are gone already, the
 * profile is still there, and a new request erases the rest.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { admin, sendOk, withApp } from '../support/http-helpers.ts';
import { describeEachStore, type StoreHandle } from '../support/stores.ts';
import type { TestApp } from '../support/test-app.ts';
import { drained, lookup, privacyRequest, url } from './privacy-helpers.ts';

const SQLITE_TRIGGER = `CREATE TRIGGER interrupt_erase BEFORE DELETE ON profile_identifiers
  BEGIN SELECT RAISE(ABORT, 'interrupted for the test'); END`;
const POSTGRES_TRIGGER = [
  `CREATE FUNCTION interrupt_erase() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN RAISE EXCEPTION 'interrupted for the test'; END $$`,
  `CREATE TRIGGER interrupt_erase BEFORE DELETE ON profile_identifiers
     FOR EACH ROW EXECUTE FUNCTION interrupt_erase()`,
];

async function onStore(handle: StoreHandle, statements: readonly string[]): Promise<void> {
  const url = handle.env['CDP_DATABASE_URL'];
  if (url !== undefined) {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      for (const statement of statements) await client.query(statement);
    } finally {
      await client.end();
    }
    return;
  }
  const db = new BetterSqlite3(path.join(handle.env['CDP_DATA_DIR'] ?? '', 'cdp.sqlite'));
  try {
    db.pragma('busy_timeout = 5000');
    for (const statement of statements) db.exec(statement);
  } finally {
    db.close();
  }
}

async function eventsOf(t: TestApp, ...ids: string[]): Promise<number> {
  const res = await admin(t, 'GET', url(t, `/events?limit=100`));
  assert.equal(res.statusCode, 200, res.body);
  return res
    .json<{ items: { userId?: string; anonymousId?: string }[] }>()
    .items.filter((e) => ids.includes(e.userId ?? '') || ids.includes(e.anonymousId ?? '')).length;
}

describeEachStore('an interrupted erasure', (fixture) => {
  it('has deleted the events first; the profile is left for the retry, which erases the rest', async () => {
    const handle = await fixture.fresh();
    await withApp(handle.store, {}, async (t) => {
      await sendOk(t, 'batch', {
        batch: [
          { type: 'track', anonymousId: 'anon-ola', event: 'Viewed', messageId: 'ola-1' },
          {
            type: 'identify',
            anonymousId: 'anon-ola',
            userId: 'u-ola',
            traits: { email: 'ola@example.com' },
            messageId: 'ola-2',
          },
          { type: 'track', userId: 'u-ola', event: 'Order Completed', messageId: 'ola-3' },
          { type: 'track', userId: 'u-kai', event: 'Viewed', messageId: 'kai-1' },
        ],
      });
      await drained(t);
      assert.equal(await eventsOf(t, 'anon-ola', 'u-ola'), 3);

      await onStore(handle, t.store.dialect === 'postgres' ? POSTGRES_TRIGGER : [SQLITE_TRIGGER]);
      const interrupted = await privacyRequest(t, 'erase', { type: 'email', value: 'ola@example.com' });
      assert.equal(interrupted.status, 'failed', JSON.stringify(interrupted));
      assert.equal(await eventsOf(t, 'anon-ola'), 0, 'events found by the anonymous id are gone');
      assert.equal(await eventsOf(t, 'u-ola'), 0, 'events found by the user id are gone');
      assert.ok(await lookup(t, 'email', 'ola@example.com'), 'the profile is there for the retry');

      await onStore(
        handle,
        t.store.dialect === 'postgres'
          ? ['DROP TRIGGER interrupt_erase ON profile_identifiers', 'DROP FUNCTION interrupt_erase()']
          : ['DROP TRIGGER interrupt_erase'],
      );
      const retried = await privacyRequest(t, 'erase', { type: 'email', value: 'ola@example.com' });
      assert.equal(retried.status, 'completed', JSON.stringify(retried));
      assert.equal(await lookup(t, 'email', 'ola@example.com'), undefined);
      assert.equal(await lookup(t, 'user_id', 'u-ola'), undefined);
      assert.equal(await lookup(t, 'anonymous_id', 'anon-ola'), undefined);
      assert.equal(await eventsOf(t, 'u-kai'), 1, "another person's event stays");
    });
  });
});
