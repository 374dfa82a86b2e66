/**
 * What a backfill or a redefinition owes the real-time stage, end to end through the API: the
 * instant its members' windows lapse, the Audience events of its changes, the segments that
 * read what it changed; and new profiles checked against every segment.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import {
  admin,
  audienceKeys,
  eventually,
  sendOk,
  sharedStore,
  withApp,
  wsUrl,
} from '../support/http-helpers.ts';
import { describeEachStore } from '../support/stores.ts';
import { createManualClock, type TestApp } from '../support/test-app.ts';

const START = Date.parse('2026-06-01T12:00:00Z');
const MINUTE = 60_000;
const DAY = 86_400_000;

interface Profile {
  id: string;
  segments: string[];
  computed: Record<string, unknown>;
}

async function profileOf(t: TestApp, type: string, value: string): Promise<Profile | undefined> {
  const res = await admin(t, 'GET', wsUrl(t, `/profiles/lookup?type=${type}&value=${value}`));
  return res.statusCode === 200 ? res.json<Profile>() : undefined;
}

const user = (t: TestApp, userId: string) => profileOf(t, 'user_id', userId);

async function ready(t: TestApp, path: string): Promise<void> {
  await eventually(async () => {
    const res = await admin(t, 'GET', wsUrl(t, path));
    return res.json<{ status: string }>().status === 'ready' ? true : undefined;
  }, `${path} ready`);
}

async function createSegment(t: TestApp, slug: string, definition: string): Promise<void> {
  const res = await admin(t, 'POST', wsUrl(t, '/segments'), { name: slug, slug, definition });
  assert.equal(res.statusCode, 201, res.body);
  await ready(t, `/segments/${slug}`);
}

async function createTrait(t: TestApp, name: string, definition: unknown): Promise<void> {
  const res = await admin(t, 'POST', wsUrl(t, '/computed-traits'), { name, definition });
  assert.equal(res.statusCode, 201, res.body);
  await ready(t, `/computed-traits/${name}`);
}

const sortedAudienceKeys = async (t: TestApp, profileId: string, name: string): Promise<string[]> =>
  (await audienceKeys(t, profileId, name)).sort();

describeEachStore('backfill follow-up', (fixture) => {
  const store = sharedStore(fixture);

  it('a member added by a backfill leaves when its window lapses, with Audience events', async () => {
    const clock = createManualClock(START);
    await withApp(await store(), { clock }, async (t) => {
      const sent = START - 9 * MINUTE - 30_000;
      await sendOk(t, 'track', { userId: 'win1', event: 'Ping', timestamp: new Date(sent).toISOString() });
      await sendOk(t, 'track', { userId: 'pong1', event: 'Pong', timestamp: new Date(sent).toISOString() });
      const win1 = await eventually(() => user(t, 'win1'), 'win1');
      const pong1 = await eventually(() => user(t, 'pong1'), 'pong1');
      await createSegment(t, 'recent-ping', 'did "Ping" in last 10 minutes');
      await createSegment(t, 'no-recent-ping', 'not did "Ping" in last 10 minutes');
      await createTrait(t, 'pongs_1d', { kind: 'event_count', event: 'Pong', window: { days: 1 } });
      assert.deepEqual((await user(t, 'win1'))?.segments, ['recent-ping']);
      assert.equal((await user(t, 'pong1'))?.computed['pongs_1d'], 1);
      // The backfill's entries reached the log like real-time ones, each once.
      assert.deepEqual(await sortedAudienceKeys(t, win1.id, 'Audience Entered'), ['recent-ping']);
      assert.deepEqual(await sortedAudienceKeys(t, pong1.id, 'Audience Entered'), ['no-recent-ping']);
      assert.deepEqual(await t.store.audienceState.pendingTransitions(Number.MAX_SAFE_INTEGER, 10), []);

      const lapse = sent + 10 * MINUTE + 1;
      clock.set(lapse - 1);
      await t.app.scheduler.runDue();
      assert.deepEqual((await user(t, 'win1'))?.segments, ['recent-ping']);
      clock.set(lapse);
      assert.ok((await t.app.scheduler.runDue()) >= 1, 'win1 was due when its window lapsed');
      assert.deepEqual((await user(t, 'win1'))?.segments, ['no-recent-ping']);
      await eventually(async () => {
        const exited = await sortedAudienceKeys(t, win1.id, 'Audience Exited');
        return exited.length > 0 ? exited : undefined;
      }, 'Audience Exited for win1').then((keys) => assert.deepEqual(keys, ['recent-ping']));

      clock.set(sent + DAY + 1);
      await t.app.scheduler.runDue();
      assert.equal((await user(t, 'pong1'))?.computed['pongs_1d'], 0);
    });
  });

  it('a new profile is evaluated against every segment, whatever created it', async () => {
    const clock = createManualClock(START);
    await withApp(await store(), { clock }, async (t) => {
      await createSegment(t, 'never-ordered', 'not did "Order Completed"');
      await createSegment(t, 'no-plan', 'not traits.plan exists');
      await sendOk(t, 'track', { anonymousId: 'fresh-anon', event: 'Page Thing' });
      const fresh = await eventually(async () => {
        const p = await profileOf(t, 'anonymous_id', 'fresh-anon');
        return p?.segments.length === 2 ? p : undefined;
      }, 'the new profile in both segments');
      assert.deepEqual(fresh.segments, ['never-ordered', 'no-plan']);
      // An existing profile still goes through the dependency index: an event no segment
      // reads changes nothing.
      await sendOk(t, 'track', {
        anonymousId: 'fresh-anon',
        event: 'Page Thing',
        timestamp: new Date(START + 1_000).toISOString(),
      });
      await eventually(async () => {
        const keys = await sortedAudienceKeys(t, fresh.id, 'Audience Entered');
        return keys.length === 2 ? keys : undefined;
      }, 'one Audience Entered per segment');
    });
  });

  it('redefining a computed trait or a segment re-evaluates the segments that read it', async () => {
    const clock = createManualClock(START);
    await withApp(await store(), { clock }, async (t) => {
      await createTrait(t, 'orders_90d', {
        kind: 'event_count',
        event: 'Order Completed',
        window: { days: 90 },
      });
      await createSegment(t, 'vip', 'computed.orders_90d > 2');
      await createSegment(t, 'pro', 'traits.plan = "pro"');
      await createSegment(t, 'pro-vip', 'in segment "vip" and in segment "pro"');
      const at = (ms: number) => new Date(ms).toISOString();
      for (const [userId, ordered] of [
        ['old-buyer', START - 5 * DAY],
        ['new-buyer', START - 60 * MINUTE],
      ] as const) {
        await sendOk(t, 'identify', { userId, traits: { plan: 'pro' }, timestamp: at(ordered - 1_000) });
        for (let i = 0; i < 3; i++)
          await sendOk(t, 'track', { userId, event: 'Order Completed', timestamp: at(ordered + i) });
      }
      for (const userId of ['old-buyer', 'new-buyer'])
        await eventually(async () => {
          const p = await user(t, userId);
          return p?.segments.join(',') === 'pro,pro-vip,vip' ? p : undefined;
        }, `${userId} in every segment`);
      const oldBuyer = await user(t, 'old-buyer');
      assert.ok(oldBuyer !== undefined);

      // Later than every profile write: only what the recompute owes can reach these profiles.
      clock.set(START + MINUTE);
      const redefined = await admin(t, 'PATCH', wsUrl(t, '/computed-traits/orders_90d'), {
        definition: { kind: 'event_count', event: 'Order Completed', window: { days: 1 } },
      });
      assert.equal(redefined.statusCode, 200, redefined.body);
      await ready(t, '/computed-traits/orders_90d');
      const dropped = await user(t, 'old-buyer');
      assert.equal(dropped?.computed['orders_90d'], 0);
      assert.deepEqual(dropped?.segments, ['pro']);
      assert.deepEqual((await user(t, 'new-buyer'))?.segments, ['pro', 'pro-vip', 'vip']);
      await eventually(async () => {
        const keys = await sortedAudienceKeys(t, oldBuyer.id, 'Audience Exited');
        return keys.length === 2 ? keys : undefined;
      }, 'Audience Exited from vip and pro-vip').then((keys) => assert.deepEqual(keys, ['pro-vip', 'vip']));

      clock.set(START + 2 * MINUTE);
      const repointed = await admin(t, 'PATCH', wsUrl(t, '/segments/pro'), {
        definition: 'traits.plan = "gold"',
      });
      assert.equal(repointed.statusCode, 200, repointed.body);
      await ready(t, '/segments/pro');
      assert.deepEqual((await user(t, 'new-buyer'))?.segments, ['vip']);
      const proVip = await admin(t, 'GET', wsUrl(t, '/segments/pro-vip/members'));
      assert.deepEqual(proVip.json<{ items: unknown[] }>().items, []);
      assert.deepEqual(await t.store.audienceState.pendingTransitions(Number.MAX_SAFE_INTEGER, 10), []);
    });
  });

  it('a merge announces what changed for the person, never a membership twice', async () => {
    const clock = createManualClock(START);
    await withApp(await store(), { clock }, async (t) => {
      await createSegment(t, 'pro', 'traits.plan = "pro"');
      await createSegment(t, 'no-email', 'not traits.email exists');
      const at = (ms: number) => new Date(ms).toISOString();
      // An anonymous visitor (the older profile) and a known pro user, then the alias that
      // makes them one person: the survivor is the visitor's profile.
      await sendOk(t, 'track', {
        anonymousId: 'm-anon',
        event: 'Page Thing',
        timestamp: at(START - 3 * MINUTE),
      });
      await sendOk(t, 'identify', {
        userId: 'm-user',
        traits: { plan: 'pro' },
        timestamp: at(START - 2 * MINUTE),
      });
      const visitor = await eventually(async () => {
        const p = await profileOf(t, 'anonymous_id', 'm-anon');
        return p?.segments.join(',') === 'no-email' ? p : undefined;
      }, 'the visitor in no-email');
      await eventually(async () => {
        const p = await user(t, 'm-user');
        return p?.segments.join(',') === 'no-email,pro' ? p : undefined;
      }, 'the user in both');
      await sendOk(t, 'alias', { previousId: 'm-anon', userId: 'm-user', timestamp: at(START - MINUTE) });
      const person = await eventually(async () => {
        const p = await user(t, 'm-user');
        return p?.id === visitor.id && p.segments.join(',') === 'no-email,pro' ? p : undefined;
      }, 'one profile in both segments');
      // Each segment was announced once for this person, before the merge; the merge adds none.
      await t.app.scheduler.runDue();
      assert.deepEqual(await sortedAudienceKeys(t, person.id, 'Audience Entered'), [
        'no-email',
        'no-email',
        'pro',
      ]);
      assert.deepEqual(await sortedAudienceKeys(t, person.id, 'Audience Exited'), []);

      // A member merged into a profile that does not qualify: the person left, and says so.
      await sendOk(t, 'identify', {
        userId: 'e-user',
        traits: { email: 'e@x.co' },
        timestamp: at(START - 3 * MINUTE),
      });
      await sendOk(t, 'track', {
        anonymousId: 'e-anon',
        event: 'Page Thing',
        timestamp: at(START - 2 * MINUTE),
      });
      const known = await eventually(() => user(t, 'e-user'), 'the known user');
      await eventually(async () => {
        const p = await profileOf(t, 'anonymous_id', 'e-anon');
        return p?.segments.join(',') === 'no-email' ? p : undefined;
      }, 'the visitor in no-email');
      await sendOk(t, 'alias', { previousId: 'e-anon', userId: 'e-user', timestamp: at(START - MINUTE) });
      await eventually(async () => {
        const p = await profileOf(t, 'anonymous_id', 'e-anon');
        return p?.id === known.id ? p : undefined;
      }, 'the visitor merged into the known user');
      const exited = await eventually(async () => {
        const keys = await sortedAudienceKeys(t, known.id, 'Audience Exited');
        return keys.length > 0 ? keys : undefined;
      }, 'Audience Exited for the merged member');
      assert.deepEqual(exited, ['no-email']);
      assert.deepEqual((await user(t, 'e-user'))?.segments, []);
    });
  });
});
