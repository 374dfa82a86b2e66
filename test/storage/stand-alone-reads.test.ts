/**
 * A request that only reads is answered while a pipeline batch's transaction holds the store
 * (for up to its time budget): on SQLite through the read-only connection of
 * storage/kysely/read-routing.ts, on PostgreSQL through another pooled connection. What writes
 * (a change, the audit entry of a read of personal data) still waits for the transaction, and so
 * does the profile an action resolves before it writes (`Store.profiles`, not `profileViews`).
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { it } from 'node:test';
import { admin, drained, eventually, sendOk, withApp } from '../support/http-helpers.ts';
import { holdLikeABatch } from '../support/held-batch.ts';
import { describeEachStore } from '../support/stores.ts';
import type { TestApp } from '../support/test-app.ts';

const STILL_WAITING = 'still waiting';
type Answer = Awaited<ReturnType<typeof admin>>;

const url = (t: TestApp, rest: string) => `/api/v1/workspaces/${t.workspace.slug}${rest}`;

async function within<T>(answer: Promise<T>, ms: number): Promise<T | typeof STILL_WAITING> {
  return Promise.race([answer, sleep(ms).then(() => STILL_WAITING as typeof STILL_WAITING)]);
}

describeEachStore('stand-alone reads', (fixture) => {
  it('a request that only reads is answered while a transaction holds the store; writes and audited reads wait for it', async () => {
    const { store } = await fixture.fresh();
    await withApp(store, {}, async (t) => {
      await sendOk(t, 'identify', { userId: 'u-1', traits: { email: 'zoe@example.com', plan: 'pro' } });
      const created = await admin(t, 'POST', url(t, '/tokens'), { name: 'reports', role: 'analyst' });
      const analyst = { authorization: `Bearer ${created.json<{ token: string }>().token}` };
      const byUserId = () =>
        admin(t, 'GET', url(t, '/profiles/lookup?type=user_id&value=u-1'), undefined, analyst);
      await eventually(async () => ((await byUserId()).statusCode === 200 ? true : undefined), 'the profile');
      const segment = await admin(t, 'POST', url(t, '/segments'), {
        name: 'Pro',
        slug: 'pro',
        definition: 'traits.plan = "pro"',
      });
      assert.equal(segment.statusCode, 201, segment.body);
      // Disabled: the test reads it and its deliveries, nothing is sent.
      const destination = await admin(t, 'POST', url(t, '/destinations'), {
        type: 'webhook',
        name: 'crm hook',
        config: { url: 'https://hooks.example.com/cdp' },
        enabled: false,
      });
      assert.equal(destination.statusCode, 201, destination.body);
      const destinationId = destination.json<{ id: string }>().id;
      const members = () => admin(t, 'GET', url(t, '/segments/pro/members'), undefined, analyst);
      await eventually(
        async () => ((await members()).json<{ items: unknown[] }>().items.length === 1 ? true : undefined),
        'the segment backfilled',
      );
      // The backfill's Audience Entered reaches the log after its memberships.
      const events = async () =>
        (await admin(t, 'GET', url(t, '/stats'))).json<{ events: number }>().events === 2 ? true : undefined;
      await eventually(events, 'the Audience Entered event');
      await drained(t);

      const batch = await holdLikeABatch(store, t.workspace.id);
      let write: Promise<Answer> | undefined;
      const pendingReads: Promise<unknown>[] = [];
      let audited: Promise<Answer> | undefined;
      try {
        const lookup = await within(byUserId(), 5_000);
        assert.notEqual(lookup, STILL_WAITING, 'a lookup by a caller without PII access waited');
        if (lookup === STILL_WAITING) return;
        assert.equal(lookup.statusCode, 200);
        const profile = lookup.json<{ id: string; traits: { plan: string } }>();
        assert.equal(profile.traits.plan, 'pro');
        // What an action resolves before it writes is read where the batch writes, after it.
        const forViews = await within(store.profileViews.resolve(t.workspace.id, profile.id), 5_000);
        assert.equal(forViews, profile.id);
        if (fixture.kind === 'sqlite') {
          const forWrites = store.profiles.resolve(t.workspace.id, profile.id);
          assert.equal(await within(forWrites, 300), STILL_WAITING);
          pendingReads.push(forWrites);
        }
        const stats = await within(admin(t, 'GET', url(t, '/stats'), undefined, analyst), 5_000);
        assert.notEqual(stats, STILL_WAITING, 'the stats waited');
        if (stats === STILL_WAITING) return;
        assert.equal(stats.statusCode, 200, stats.body);
        assert.deepEqual(
          (({ events, profiles }) => ({ events, profiles }))(
            stats.json<{ events: number; profiles: number }>(),
          ),
          { events: 2, profiles: 1 }, // the identify and its Audience Entered
        );

        // A segment, its members, a profile's consent, and destinations with their deliveries.
        for (const path of [
          '/segments/pro',
          '/segments/pro/members',
          `/profiles/${profile.id}/consent`,
          '/destinations',
          `/destinations/${destinationId}`,
          `/destinations/${destinationId}/deliveries`,
        ]) {
          const answer = await within(admin(t, 'GET', url(t, path), undefined, analyst), 5_000);
          assert.notEqual(answer, STILL_WAITING, `GET ${path} waited`);
          if (answer === STILL_WAITING) return;
          assert.equal(answer.statusCode, 200, answer.body);
        }

        // A change, and a read of personal data (its audit entry is written before the answer).
        write = admin(t, 'POST', url(t, '/tokens'), { name: 'later', role: 'viewer' });
        audited = admin(t, 'GET', url(t, '/profiles/lookup?type=email&value=zoe@example.com'));
        if (fixture.kind === 'sqlite') {
          // One writer at a time on SQLite: both wait for the transaction to end.
          assert.equal(await within(write, 300), STILL_WAITING);
          assert.equal(await within(audited, 10), STILL_WAITING);
        }
      } finally {
        await batch.release();
        await Promise.all(pendingReads);
      }
      assert.equal((await write).statusCode, 201);
      assert.equal((await audited).statusCode, 200);
      const log = await admin(t, 'GET', url(t, '/audit-log?limit=20'));
      const reads = log
        .json<{ items: { action: string }[] }>()
        .items.filter((e) => e.action === 'GET /api/v1/workspaces/:ws/profiles/lookup');
      assert.equal(reads.length, 1, 'the audited lookup has its entry');
    });
  });
});
