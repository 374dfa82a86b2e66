/**
 * Real-time memberships end to end: events in through the Tracking API, the profiles stage,
 * the audience listener; the clock alone moving a window; Audience Entered/Exited in the log;
 * an account's change reaching every member through `group.*`.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { admin, audienceKeys, eventually, sendOk, sharedStore, withApp } from '../support/http-helpers.ts';
import type { AudienceTransition } from '../../src/segments/audience-state.port.ts';
import { describeEachStore } from '../support/stores.ts';
import { createManualClock, type TestApp } from '../support/test-app.ts';

const START = Date.parse('2026-06-01T12:00:00Z');
const DAY = 86_400_000;

const url = (t: TestApp, rest: string) => `/api/v1/workspaces/${t.workspace.slug}${rest}`;

interface Profile {
  id: string;
  segments: string[];
  computed: Record<string, unknown>;
}

async function profileOf(t: TestApp, userId: string): Promise<Profile | undefined> {
  const res = await admin(t, 'GET', url(t, `/profiles/lookup?type=user_id&value=${userId}`));
  return res.statusCode === 200 ? res.json<Profile>() : undefined;
}

/** Creates a segment through the API; its id. */
async function createSegment(t: TestApp, name: string, slug: string, definition: string): Promise<string> {
  const created = await admin(t, 'POST', url(t, '/segments'), { name, slug, definition });
  assert.equal(created.statusCode, 201, created.body);
  return created.json<{ id: string }>().id;
}

/** What a process leaves when it stops right after committing a membership change. */
function owe(t: TestApp, transition: AudienceTransition): Promise<void> {
  return t.store.audienceState.apply(
    t.workspace.id,
    { removed: [], updates: [], transitions: [transition] },
    transition.decidedMs,
  );
}

describeEachStore('real-time audiences', (fixture) => {
  const store = sharedStore(fixture);

  it('enters on the event, exits at the exact instant the window expires, emits both events', async () => {
    const clock = createManualClock(START);
    await withApp(await store(), { clock }, async (t) => {
      await createSegment(t, 'Recent buyers', 'recent-buyers', 'did "Order Completed" in last 7 days');
      const trait = await admin(t, 'POST', url(t, '/computed-traits'), {
        name: 'orders_7d',
        definition: { kind: 'event_count', event: 'Order Completed', window: { days: 7 } },
      });
      assert.equal(trait.statusCode, 201, trait.body);
      // Both backfills (over no profile yet) end before the traffic: this test is about the
      // real-time path (a backfill racing real-time writes: computed-traits.test.ts).
      for (const path of ['/segments/recent-buyers', '/computed-traits/orders_7d'])
        await eventually(async () => {
          const res = await admin(t, 'GET', url(t, path));
          return res.json<{ status: string }>().status === 'ready' ? true : undefined;
        }, `${path} backfilled`);
      const bought = START - DAY;
      await sendOk(t, 'track', {
        userId: 'rt-1',
        event: 'Order Completed',
        properties: { revenue: 10 },
        timestamp: new Date(bought).toISOString(),
      });
      await sendOk(t, 'track', {
        userId: 'rt-2',
        event: 'Product Viewed',
        timestamp: new Date(bought).toISOString(),
      });
      const member = await eventually(async () => {
        const p = await profileOf(t, 'rt-1');
        return p?.segments.includes('recent-buyers') ? p : undefined;
      }, 'rt-1 entering');
      assert.equal(member.computed['orders_7d'], 1);
      const other = await eventually(() => profileOf(t, 'rt-2'), 'rt-2');
      assert.deepEqual(other.segments, []);
      const entered = await eventually(async () => {
        const res = await admin(t, 'GET', url(t, `/profiles/${member.id}/events?event=Audience%20Entered`));
        const items = res.json<{ items: { properties: { audience_key: string } }[] }>().items;
        return items.length > 0 ? items : undefined;
      }, 'Audience Entered in the timeline');
      assert.equal(entered[0]?.properties.audience_key, 'recent-buyers');

      // One millisecond before the window ends nothing changes; at the instant, it exits.
      const expiry = bought + 7 * DAY + 1;
      clock.set(expiry - 1);
      await t.app.scheduler.runDue();
      assert.deepEqual((await profileOf(t, 'rt-1'))?.segments, ['recent-buyers']);
      clock.set(expiry);
      assert.ok((await t.app.scheduler.runDue()) >= 1, 'the profile was due at the expiry instant');
      const after = await profileOf(t, 'rt-1');
      assert.deepEqual(after?.segments, []);
      assert.equal(after?.computed['orders_7d'], 0);
      // A pipeline batch that began before the expiry (its `nowMs`) and reaches the listener
      // after it (the Audience Entered event's own batch, say) must not bring the value back.
      await t.app.audiences.profilesChanged({
        workspaceId: t.workspace.id,
        nowMs: expiry - 1,
        events: [],
        profileOf: new Map(),
        changedProfiles: [member.id],
        mergedProfiles: [],
        deletedProfiles: [],
        reassignedProfiles: [],
      });
      const later = await profileOf(t, 'rt-1');
      assert.deepEqual(later?.segments, []);
      assert.equal(later?.computed['orders_7d'], 0);
      await eventually(async () => {
        const res = await admin(t, 'GET', url(t, `/profiles/${member.id}/events?event=Audience%20Exited`));
        return res.json<{ items: unknown[] }>().items.length > 0 ? true : undefined;
      }, 'Audience Exited in the timeline');
      const members = await admin(t, 'GET', url(t, '/segments/recent-buyers/members'));
      assert.deepEqual(members.json<{ items: unknown[] }>().items, []);
    });
  });

  it('trait segments follow identify calls; nested segments follow their references; merges re-evaluate', async () => {
    const clock = createManualClock(START);
    await withApp(await store(), { clock }, async (t) => {
      for (const [slug, definition] of [
        ['pro', 'traits.plan = "pro"'],
        ['pro-in-fr', 'in segment "pro" and traits.country = "FR"'],
      ] as const) {
        const res = await admin(t, 'POST', url(t, '/segments'), { name: slug, slug, definition });
        assert.equal(res.statusCode, 201, res.body);
      }
      await sendOk(t, 'identify', { userId: 'rt-3', traits: { plan: 'pro', country: 'FR' } });
      await eventually(async () => {
        const p = await profileOf(t, 'rt-3');
        return p?.segments.join(',') === 'pro,pro-in-fr' ? p : undefined;
      }, 'both segments');
      await sendOk(t, 'identify', {
        userId: 'rt-3',
        traits: { plan: 'free' },
        timestamp: new Date(START + 1000).toISOString(),
      });
      await eventually(async () => {
        const p = await profileOf(t, 'rt-3');
        return p?.segments.length === 0 ? p : undefined;
      }, 'leaving both');
      // An anonymous visitor with pro traits merges into rt-3 when it identifies.
      await sendOk(t, 'identify', {
        anonymousId: 'anon-rt',
        traits: { plan: 'pro' },
        timestamp: new Date(START + 2000).toISOString(),
      });
      await sendOk(t, 'track', {
        anonymousId: 'anon-rt',
        userId: 'rt-3',
        event: 'Signed In',
        timestamp: new Date(START + 3000).toISOString(),
      });
      await eventually(async () => {
        const p = await profileOf(t, 'rt-3');
        return p?.segments.join(',') === 'pro,pro-in-fr' ? p : undefined;
      }, 'the merged profile in both segments');
    });
  });

  it('a group call from one member re-evaluates the other members of the account', async () => {
    const clock = createManualClock(START);
    await withApp(await store(), { clock }, async (t) => {
      await createSegment(t, 'Enterprise accounts', 'enterprise', 'group.plan = "enterprise"');
      // Before the clock's instant, as real traffic is: Audience events are stamped with the
      // clock, and one stamped before a profile's own events would be a late event.
      const at = (seconds: number) => new Date(START - 60_000 + seconds * 1000).toISOString();
      await sendOk(t, 'group', {
        userId: 'acct-a',
        groupId: 'grp-1',
        traits: { plan: 'free' },
        timestamp: at(1),
      });
      await sendOk(t, 'group', { userId: 'acct-b', groupId: 'grp-1', timestamp: at(2) });
      const b = await eventually(() => profileOf(t, 'acct-b'), 'acct-b');
      assert.deepEqual(b.segments, []);

      // Only A sends the change; B's profile gets no event of its own.
      await sendOk(t, 'group', {
        userId: 'acct-a',
        groupId: 'grp-1',
        traits: { plan: 'enterprise' },
        timestamp: at(3),
      });
      await eventually(async () => {
        const p = await profileOf(t, 'acct-b');
        return p?.segments.includes('enterprise') ? p : undefined;
      }, 'acct-b entering through its account');
      const entered = await eventually(async () => {
        const keys = await audienceKeys(t, b.id, 'Audience Entered');
        return keys.length > 0 ? keys : undefined;
      }, 'Audience Entered for acct-b');
      assert.deepEqual(entered, ['enterprise']);
      assert.deepEqual((await profileOf(t, 'acct-a'))?.segments, ['enterprise']);

      await sendOk(t, 'group', {
        userId: 'acct-a',
        groupId: 'grp-1',
        traits: { plan: 'pro', employees: 12 },
        timestamp: at(4),
      });
      await eventually(async () => {
        const p = await profileOf(t, 'acct-b');
        return p?.segments.length === 0 ? p : undefined;
      }, 'acct-b leaving through its account');
      const exited = await eventually(async () => {
        const keys = await audienceKeys(t, b.id, 'Audience Exited');
        return keys.length > 0 ? keys : undefined;
      }, 'Audience Exited for acct-b');
      assert.deepEqual(exited, ['enterprise']);
      assert.deepEqual(await audienceKeys(t, b.id, 'Audience Entered'), ['enterprise']);
    });
  });

  it('a client clock ahead of ours: the audience event follows the person, whose id stays', async () => {
    const clock = createManualClock(START);
    await withApp(await store(), { clock }, async (t) => {
      await createSegment(t, 'Pro', 'pro-ahead', 'traits.plan = "pro"');
      const ahead = (seconds: number) => new Date(START + 3_600_000 + seconds * 1000).toISOString();
      await sendOk(t, 'track', { userId: 'ahead', event: 'Viewed', timestamp: ahead(1) });
      const before = await eventually(() => profileOf(t, 'ahead'), 'the profile');
      await sendOk(t, 'identify', { userId: 'ahead', traits: { plan: 'pro' }, timestamp: ahead(2) });
      const entered = await eventually(async () => {
        const keys = await audienceKeys(t, before.id, 'Audience Entered');
        return keys.length > 0 ? keys : undefined;
      }, 'Audience Entered on the profile timeline');
      assert.deepEqual(entered, ['pro-ahead']);
      const after = await profileOf(t, 'ahead');
      assert.equal(after?.id, before.id, 'the audience event gave the person a new profile id');
      assert.deepEqual(after?.segments, ['pro-ahead']);
    });
  });

  it('an audience event still owed when the process stopped is appended later, once', async () => {
    const clock = createManualClock(START);
    await withApp(await store(), { clock }, async (t) => {
      const segmentId = await createSegment(t, 'Owed', 'owed', 'traits.plan = "gold"');
      await sendOk(t, 'identify', { userId: 'owed-1', traits: { plan: 'basic' } });
      const profile = await eventually(() => profileOf(t, 'owed-1'), 'the profile');
      // What a process leaves when it stops right after committing a membership change: the
      // change is stored, its event is owed (written in the same transaction), not appended.
      const transition: AudienceTransition = {
        messageId: `aud-${segmentId}-${profile.id}-in-${START}`,
        profileId: profile.id,
        segmentId,
        segmentSlug: 'owed',
        segmentName: 'Owed',
        member: true,
        atMs: START,
        decidedMs: START,
      };
      await owe(t, transition);
      assert.equal((await t.store.audienceState.pendingTransitions(START, 10)).length, 1);
      // Within the grace period the deciding evaluation is still appending it: not yet.
      clock.set(START + 5_000);
      await t.app.audiences.publishPending();
      assert.deepEqual(await audienceKeys(t, profile.id, 'Audience Entered'), []);
      clock.set(START + 10_000);
      await t.app.audiences.publishPending();
      const entered = await eventually(async () => {
        const keys = await audienceKeys(t, profile.id, 'Audience Entered');
        return keys.length > 0 ? keys : undefined;
      }, 'the owed Audience Entered');
      assert.deepEqual(entered, ['owed']);
      assert.deepEqual(await t.store.audienceState.pendingTransitions(START + 10_000, 10), []);
      // Sent twice (the process stopped after the append, before forgetting it): stored once.
      await owe(t, transition);
      assert.equal(await t.app.audiences.publishPending(0), 1);
      const events = await admin(t, 'GET', url(t, `/events?type=track&limit=100`));
      const copies = events
        .json<{ items: { messageId: string }[] }>()
        .items.filter((e) => e.messageId === transition.messageId);
      assert.equal(copies.length, 1);
      assert.deepEqual(await audienceKeys(t, profile.id, 'Audience Entered'), ['owed']);
      // The running scheduler sends what is owed on its own, and says so in the log.
      const exit = { ...transition, messageId: `aud-${segmentId}-${profile.id}-out-${START}`, member: false };
      await owe(t, exit);
      t.app.scheduler.poke(0);
      await eventually(async () => {
        const keys = await audienceKeys(t, profile.id, 'Audience Exited');
        return keys.length > 0 ? keys : undefined;
      }, 'the owed Audience Exited, sent by the scheduler');
      await eventually(
        async () =>
          t.logs.some((line) => line.includes('a stopped process had decided')) ? true : undefined,
        'the recovery in the log',
      );
    });
  });

  it('after a backfill, profiles written since it began are evaluated again', async () => {
    const clock = createManualClock(START);
    await withApp(await store(), { clock }, async (t) => {
      await sendOk(t, 'identify', { userId: 'stale-old', traits: { plan: 'pro' } });
      await sendOk(t, 'identify', { userId: 'stale-1', traits: { plan: 'free' } });
      const old = await eventually(() => profileOf(t, 'stale-old'), 'stale-old');
      await eventually(() => profileOf(t, 'stale-1'), 'stale-1');
      const segmentId = await createSegment(t, 'Pro', 'pro-stale', 'traits.plan = "pro"');
      await eventually(async () => {
        const res = await admin(t, 'GET', url(t, '/segments/pro-stale'));
        return res.json<{ status: string }>().status === 'ready' ? true : undefined;
      }, 'backfilled');
      clock.set(START + 1_000);
      await sendOk(t, 'identify', { userId: 'stale-1', traits: { plan: 'pro' } });
      const member = await eventually(async () => {
        const p = await profileOf(t, 'stale-1');
        return p?.segments.includes('pro-stale') ? p : undefined;
      }, 'stale-1 entering in real time');
      // A backfill that began at START + 500 read stale-1 as it was before that identify, and
      // stored its result after the real-time path had decided: stale-1 is not a member.
      const { version } = await t.app.services.segments.get(t.workspace.id, 'pro-stale');
      const written = await t.store.segments.replaceMembers(
        t.workspace.id,
        segmentId,
        version,
        {},
        [old.id],
        START + 500,
      );
      assert.deepEqual(written, { entered: 0, exited: 1 });
      assert.deepEqual((await profileOf(t, 'stale-1'))?.segments, []);
      // Only stale-1 was written since (stale-old was written at START).
      assert.equal(await t.app.audiences.reevaluateUpdatedSince(t.workspace.id, START + 500), 1);
      assert.deepEqual((await profileOf(t, 'stale-1'))?.segments, ['pro-stale']);
      assert.equal(member.id, (await profileOf(t, 'stale-1'))?.id);
    });
  });

  it('an owed audience event of a profile merged meanwhile goes to the survivor', async () => {
    const clock = createManualClock(START);
    await withApp(await store(), { clock }, async (t) => {
      const segmentId = await createSegment(t, 'Merged', 'owed-merged', 'traits.plan = "gold"');
      await sendOk(t, 'identify', { userId: 'merge-user', traits: { plan: 'basic' } });
      const survivor = await eventually(() => profileOf(t, 'merge-user'), 'the identified profile');
      clock.set(START + 1_000);
      await sendOk(t, 'track', { anonymousId: 'merge-anon', event: 'Viewed' });
      const anonymous = await eventually(async () => {
        const res = await admin(t, 'GET', url(t, '/profiles/lookup?type=anonymous_id&value=merge-anon'));
        return res.statusCode === 200 ? res.json<{ id: string }>() : undefined;
      }, 'the anonymous profile');
      assert.notEqual(anonymous.id, survivor.id);
      await owe(t, {
        messageId: `aud-${segmentId}-${anonymous.id}-in-${START + 1_000}`,
        profileId: anonymous.id,
        segmentId,
        segmentSlug: 'owed-merged',
        segmentName: 'Merged',
        member: true,
        atMs: START + 1_000,
        decidedMs: START + 1_000,
      });
      // The visitor identifies: the anonymous profile merges into the older identified one.
      clock.set(START + 2_000);
      await sendOk(t, 'identify', { userId: 'merge-user', anonymousId: 'merge-anon' });
      await eventually(async () => {
        const res = await admin(t, 'GET', url(t, '/profiles/lookup?type=anonymous_id&value=merge-anon'));
        return res.json<{ id: string }>().id === survivor.id ? true : undefined;
      }, 'the merge');
      assert.equal(await t.app.audiences.publishPending(0), 1);
      const entered = await eventually(async () => {
        const keys = await audienceKeys(t, survivor.id, 'Audience Entered');
        return keys.length > 0 ? keys : undefined;
      }, 'the owed event on the survivor');
      assert.deepEqual(entered, ['owed-merged']);
    });
  });
});
