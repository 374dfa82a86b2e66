/**
 * "completed" means the bytes are gone: an erasure's request stays `running` until the SQLite
 * WAL, which still holds the pages as they were before the erase, is copied back and truncated.
 * Another reader of the file (a backup, a long query) can keep it from being truncated; the
 * request then waits, and is resumed at the purge when its lease runs out.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { createManualClock } from '../../src/shared/clock.ts';
import { admin, sendOk } from '../support/http-helpers.ts';
import { describeOnStore } from '../support/stores.ts';
import { createTestApp } from '../support/test-app.ts';
import { drained, eventually, url, type RequestView } from './privacy-helpers.ts';

const EMAIL = 'ada.purged@example.org';
const USER = 'ada-user-purge-7';

describeOnStore('sqlite', 'erasure: the files are purged before the request completes', (fixture) => {
  it('stays running while a reader holds the WAL, past the purge’s retries; completes after its lease once the file is free', async () => {
    const handle = await fixture.fresh();
    const dir = handle.env['CDP_DATA_DIR'];
    assert.ok(dir !== undefined);
    const clock = createManualClock(Date.now());
    const t = await createTestApp(handle.store, { clock });
    const reader = new BetterSqlite3(path.join(dir, 'cdp.sqlite'), { readonly: true });
    try {
      await sendOk(t, 'identify', { userId: USER, traits: { email: EMAIL, plan: 'pro' } });
      await sendOk(t, 'track', { userId: USER, event: 'Order Completed', properties: { revenue: 5 } });
      await drained(t);
      // A reader's open snapshot: the WAL cannot be truncated under it.
      reader.exec('BEGIN');
      reader.prepare('SELECT count(*) FROM workspaces').get();

      const res = await admin(t, 'POST', url(t, '/privacy-requests'), {
        type: 'erase',
        identifier: { type: 'email', value: EMAIL },
      });
      assert.equal(res.statusCode, 202, res.body);
      const id = res.json<RequestView>().id;
      const stored = () => t.store.privacyRequests.get(t.workspace.id, id);
      const status = async () =>
        (await admin(t, 'GET', url(t, `/privacy-requests/${id}`))).json<RequestView>().status;
      await eventually(async () => ((await stored())?.finishedMs != null ? true : undefined), 'outcome');
      assert.equal((await stored())?.identifierValue, null);
      // The purge retries for 15 s, then gives up; the request stays running all along.
      const started = performance.now();
      while (performance.now() - started < 16_500) {
        assert.equal(await status(), 'running');
        await new Promise((r) => setTimeout(r, 500));
      }
      reader.exec('COMMIT');
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(await status(), 'running', 'nothing retries before the lease runs out');

      clock.advance(61_000);
      t.app.services.privacyRequests.wake();
      await eventually(async () => ((await status()) === 'completed' ? true : undefined), 'completed');
      const done = await stored();
      assert.equal(done?.attempts, 2);
      assert.deepEqual((done?.result as { deleted: Record<string, number> }).deleted['events'], 2);
      for (const file of ['cdp.sqlite', 'cdp.sqlite-wal']) {
        const bytes: Buffer = readFileSync(path.join(dir, file));
        for (const needle of [EMAIL, USER])
          assert.equal(bytes.includes(Buffer.from(needle)), false, `${needle} still in ${file}`);
      }
      // Resumed at the purge: the outcome was audited once, not again.
      const audit = await admin(t, 'GET', url(t, '/audit-log?limit=100'));
      assert.equal(audit.statusCode, 200, audit.body);
      const entries = audit.json<{ items: { action: string }[] }>().items;
      assert.equal(entries.filter((e) => e.action === 'privacy request completed').length, 1);
    } finally {
      if (reader.inTransaction) reader.exec('COMMIT');
      reader.close();
      await t.close();
      await handle.store.close();
    }
  });
});
