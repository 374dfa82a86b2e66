/**
 * Rebuilding a workspace's profiles from its log: through the admin API in the background, and
 * interrupted (a listener failing after a page was committed, as a crash would leave it) then
 * resumed by another runner, with new events arriving meanwhile. Real stores, both kinds.
 */
import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import type { AcceptedEvent } from '../../src/ingestion/message-types.ts';
import { ProfileRebuilds } from '../../src/profiles/profile-rebuild.ts';
import { ProfileSettingsService } from '../../src/profiles/profile-settings.service.ts';
import { ProfileService } from '../../src/profiles/profile.service.ts';
import { ProfileStage } from '../../src/profiles/profile-stage.ts';
import type { ProfileBatchChange, ProfileChangeListener } from '../../src/profiles/profile-state.port.ts';
import { systemClock } from '../../src/shared/clock.ts';
import type { Store } from '../../src/storage/store.ts';
import { admin, expectError, sendOk, withApp } from '../support/http-helpers.ts';
import { describeEachStore } from '../support/stores.ts';
import type { TestApp } from '../support/test-app.ts';

const AT = Date.parse('2026-03-01T00:00:00Z');
const WS = 'ws_rebuild';

/** Person `p` of `people`: an anonymous device, later a user id and an e-mail, some shared devices. */
function logEvent(i: number, people: number): AcceptedEvent {
  const p = i % people;
  const step = Math.floor(i / people);
  const anonymousId = `anon-${p}-${step % 3}`;
  const message: Record<string, unknown> =
    step % 4 === 1
      ? { type: 'identify', anonymousId, userId: `user-${p}`, traits: { email: `P${p}@Example.com`, n: i } }
      : { type: 'track', anonymousId, event: 'Viewed', properties: { i } };
  const messageId = `rb-${i}`;
  return {
    workspaceId: WS,
    sourceId: 'src_1',
    messageId,
    type: message['type'] as AcceptedEvent['type'],
    event: typeof message['event'] === 'string' ? message['event'] : null,
    userId: typeof message['userId'] === 'string' ? message['userId'] : null,
    anonymousId,
    timestampMs: AT + i * 1000,
    receivedMs: AT,
    payload: JSON.stringify({ ...message, messageId, timestamp: new Date(AT + i * 1000).toISOString() }),
  };
}

async function appendEvents(store: Store, from: number, to: number, people: number): Promise<void> {
  const events: AcceptedEvent[] = [];
  for (let i = from; i < to; i++) events.push(logEvent(i, people));
  for (let start = 0; start < events.length; start += 1_000)
    await store.events.append(events.slice(start, start + 1_000), 0);
}

async function allLogged(store: Store) {
  return store.events.tail(WS, 0, 1_000_000);
}

/** seq → profile of every logged event, as stored now. */
async function assignments(store: Store): Promise<Map<number, string>> {
  const seqs = (await allLogged(store)).map((e) => e.seq);
  return store.profileState.exclusive(WS, Date.now(), (session) => session.assignmentsOf(seqs));
}

class RecordingListener implements ProfileChangeListener {
  readonly name = 'recording';
  readonly seen: number[] = [];
  failOnCall = -1;
  #calls = 0;
  async profilesChanged(change: ProfileBatchChange): Promise<void> {
    this.seen.push(...change.events.map((e) => e.seq));
    if (++this.#calls === this.failOnCall) throw new Error('listener down (as in a crash after the commit)');
  }
}

describeEachStore('profile rebuild', (fixture) => {
  it(
    'interrupted after a committed page, resumed by another runner: nothing lost, nothing doubled, events arriving meanwhile included',
    { timeout: 120_000 },
    async () => {
      const { store } = await fixture.fresh();
      try {
        await store.workspaces.create({ id: WS, slug: 'rebuild', name: 'Rebuild', createdMs: AT });
        const settings = new ProfileSettingsService(store.workspaceSettings);
        const stage = new ProfileStage({ state: store.profileState, settings });
        const people = 700;
        await appendEvents(store, 0, 5_000, people);
        await stage.processWorkspace(WS, await allLogged(store), AT);
        const before = await assignments(store);
        assert.equal(before.size, 5_000, 'every event in a profile before the rebuild');
        const profilesBefore = await store.profiles.count(WS, 'person');

        const listener = new RecordingListener();
        listener.failOnCall = 2;
        const deps = {
          state: store.profileState,
          settings,
          events: store.events,
          clock: systemClock,
          listener,
        };
        const first = new ProfileRebuilds(deps);
        const started = await first.start(WS);
        assert.equal(started.status, 'clearing');
        assert.equal(started.total, 5_000);
        await assert.rejects(first.run(WS), /listener down/);
        const interrupted = await first.progress(WS);
        assert.equal(interrupted?.status, 'replaying');
        assert.equal(interrupted?.done, 4_000, 'two pages of 2,000 applied');
        assert.notEqual(interrupted?.pending, null, 'the second page is owed to the listeners');

        // New events arrive while the rebuild is unfinished: the stage leaves them to it.
        await appendEvents(store, 5_000, 5_300, people);
        const fresh = (await allLogged(store)).filter((e) => e.seq > Math.max(...before.keys()));
        assert.equal(fresh.length, 300);
        await stage.processWorkspace(WS, fresh, AT);
        const afterStage = await assignments(store);
        assert.ok(
          fresh.every((e) => !afterStage.has(e.seq)),
          'the stage applied none of them while the rebuild runs',
        );

        // This process was not running the rebuild (the first runner stands for a process that
        // died): the stage meeting it sets it going here.
        const second = new ProfileRebuilds(deps);
        const met: string[] = [];
        const takingOver = new ProfileStage({
          state: store.profileState,
          settings,
          rebuildUnderWay: (ws) => {
            met.push(ws);
            second.ensureRunning(ws);
          },
        });
        await takingOver.processWorkspace(WS, fresh, AT);
        assert.deepEqual(met, [WS]);
        const deadline = Date.now() + 60_000;
        let finished = await second.progress(WS);
        while (finished?.status !== 'done' || finished.pending !== null) {
          assert.ok(Date.now() < deadline, `rebuild not taken over: ${JSON.stringify(finished)}`);
          await new Promise((resolve) => setTimeout(resolve, 20));
          finished = await second.progress(WS);
        }
        await second.close();
        assert.equal(finished.status, 'done');
        assert.equal(finished?.done, 5_300);
        assert.equal(finished?.pending, null);

        const seenTimes = new Map<number, number>();
        for (const seq of listener.seen) seenTimes.set(seq, (seenTimes.get(seq) ?? 0) + 1);
        const all = await allLogged(store);
        assert.ok(
          all.every((e) => (seenTimes.get(e.seq) ?? 0) >= 1),
          'the listeners heard of every event',
        );
        const secondPage = all.slice(2_000, 4_000);
        assert.ok(
          secondPage.every((e) => seenTimes.get(e.seq) === 2),
          'the page owed when the first runner stopped was told again',
        );

        const rebuilt = await assignments(store);
        assert.equal(rebuilt.size, 5_300, 'every event in a profile, the late ones too');
        for (const [seq, profile] of before) assert.equal(rebuilt.get(seq), profile, `event ${seq}`);
        // The late events belong to the same people as before: no new profiles.
        assert.equal(await store.profiles.count(WS, 'person'), profilesBefore);

        // Done: the stage applies new events again.
        await appendEvents(store, 5_300, 5_310, people);
        const last = (await allLogged(store)).slice(-10);
        await stage.processWorkspace(WS, last, AT);
        const after = await assignments(store);
        assert.ok(last.every((e) => after.has(e.seq)));
      } finally {
        await store.close();
      }
    },
  );
});

const url = (t: TestApp, rest: string) => `/api/v1/workspaces/${t.workspace.slug}${rest}`;

interface Rebuild {
  status: string;
  done: number;
  total: number;
  startedAt: string;
  finishedAt: string | null;
}

async function settled(t: TestApp): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await t.app.pipeline.lag()).every((l) => l.lag === 0)) {
    if (Date.now() > deadline) throw new Error('pipeline did not drain');
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function profileOf(t: TestApp, email: string) {
  const res = await admin(t, 'GET', url(t, `/profiles/lookup?type=email&value=${encodeURIComponent(email)}`));
  assert.equal(res.statusCode, 200, res.body);
  const p = res.json<{ id: string; traits: object; identities: object[]; eventCount: number }>();
  return { id: p.id, traits: p.traits, identities: p.identities, eventCount: p.eventCount };
}

describeEachStore('profile rebuild over the admin API', (fixture) => {
  it(
    'POST starts it in the background (202), GET follows it to the same profiles',
    { timeout: 60_000 },
    async () => {
      const { store } = await fixture.fresh();
      after(() => store.close());
      await withApp(store, {}, async (t) => {
        expectError(await admin(t, 'GET', url(t, '/profiles/rebuild')), 404, 'profile.rebuild_not_found');
        for (let p = 0; p < 20; p++) {
          await sendOk(t, 'track', { anonymousId: `dev-${p}`, event: 'Viewed' });
          await sendOk(t, 'identify', {
            anonymousId: `dev-${p}`,
            userId: `u-${p}`,
            traits: { email: `p${p}@x.io`, p },
          });
          await sendOk(t, 'identify', {
            anonymousId: `dev2-${p}`,
            traits: { email: ` P${p}@X.io`, plan: 'pro' },
          });
        }
        await settled(t);
        const before = await Promise.all(Array.from({ length: 20 }, (_, p) => profileOf(t, `p${p}@x.io`)));

        const started = await admin(t, 'POST', url(t, '/profiles/rebuild'));
        assert.equal(started.statusCode, 202, started.body);
        const body = started.json<Rebuild>();
        assert.equal(body.status, 'clearing');
        assert.equal(body.total, 60);
        assert.equal(body.finishedAt, null);

        const deadline = Date.now() + 20_000;
        let progress: Rebuild;
        for (;;) {
          progress = (await admin(t, 'GET', url(t, '/profiles/rebuild'))).json<Rebuild>();
          if (progress.status === 'done') break;
          assert.ok(Date.now() < deadline, `rebuild still ${progress.status}`);
          await new Promise((r) => setTimeout(r, 25));
        }
        assert.equal(progress.done, 60);
        assert.ok(progress.finishedAt !== null && progress.finishedAt >= progress.startedAt);
        const after = await Promise.all(Array.from({ length: 20 }, (_, p) => profileOf(t, `p${p}@x.io`)));
        assert.deepEqual(after, before);
        assert.equal(before[3]?.eventCount, 3);
      });
    },
  );
});

describeEachStore('unmerge when the listeners fail after it committed', (fixture) => {
  it('the change is kept and passed on at the next start', { timeout: 60_000 }, async () => {
    const { store } = await fixture.fresh();
    try {
      await store.workspaces.create({ id: WS, slug: 'rebuild', name: 'Rebuild', createdMs: AT });
      const settings = new ProfileSettingsService(store.workspaceSettings);
      const stage = new ProfileStage({ state: store.profileState, settings });
      const identify = (
        i: number,
        userId: string | null,
        traits: Record<string, unknown>,
      ): AcceptedEvent => ({
        ...logEvent(i, 1),
        type: 'identify',
        event: null,
        userId,
        anonymousId: 'kiosk',
        payload: JSON.stringify({
          type: 'identify',
          anonymousId: 'kiosk',
          userId,
          traits,
          messageId: `rb-${i}`,
        }),
      });
      await store.events.append([identify(1, 'u1', {}), identify(2, null, { email: 'b@x.io' })], 0);
      await stage.processWorkspace(WS, await allLogged(store), AT);

      const listener = new RecordingListener();
      const changes: ProfileBatchChange[] = [];
      const recording: ProfileChangeListener = {
        name: 'changes',
        async profilesChanged(change) {
          changes.push(change);
          await listener.profilesChanged(change);
        },
      };
      listener.failOnCall = 1;
      const deps = {
        profiles: store.profiles,
        state: store.profileState,
        settings,
        events: store.events,
        clock: systemClock,
        listener: recording,
      };
      const before = new ProfileService(deps);
      const profile = (await before.lookup(WS, 'user_id', 'u1', { pii: true })).id;
      await assert.rejects(
        before.unlink(WS, profile, { type: 'anonymous_id', value: 'kiosk' }, 'test'),
        /listener down/,
      );
      assert.equal((await store.profileState.owedChanges(10)).length, 1, 'the change is kept');

      const restarted = new ProfileService(deps);
      await restarted.resumeUnfinished();
      assert.deepEqual(await store.profileState.owedChanges(10), [], 'passed on, then settled');
      assert.equal(changes.length, 2, 'told once more');
      const told = changes[1];
      assert.ok(told !== undefined && told.changedProfiles.length >= 2, JSON.stringify(told));
      assert.deepEqual(told, { ...changes[0], profileOf: told.profileOf });
    } finally {
      await store.close();
    }
  });
});

describeEachStore('rebuild after an identity settings change', (fixture) => {
  it('profiles the replay does not bring back leave their segments', { timeout: 60_000 }, async () => {
    const { store } = await fixture.fresh();
    after(() => store.close());
    await withApp(store, {}, async (t) => {
      const crm = [{ id: 'crm-7', type: 'crm_id', collection: 'users', encoding: 'none' }];
      for (const device of ['phone', 'laptop'])
        await sendOk(t, 'identify', {
          anonymousId: device,
          traits: { plan: 'pro' },
          context: { externalIds: crm },
        });
      await settled(t);
      const created = await admin(t, 'POST', url(t, '/segments'), {
        name: 'Pros',
        slug: 'pros',
        definition: 'traits.plan = "pro"',
      });
      assert.equal(created.statusCode, 201, created.body);
      const members = async (): Promise<string[]> =>
        (await admin(t, 'GET', url(t, '/segments/pros/members')))
          .json<{ items: { id: string }[] }>()
          .items.map((m) => m.id);
      const deadline = Date.now() + 20_000;
      while ((await members()).length !== 2) {
        assert.ok(Date.now() < deadline, 'backfill');
        await new Promise((r) => setTimeout(r, 25));
      }

      // crm_id declared: both devices are one person now, once the history is replayed.
      const put = await admin(t, 'PUT', url(t, '/settings/identity'), { customTypes: ['crm_id'] });
      assert.equal(put.statusCode, 200, put.body);
      assert.equal((await admin(t, 'POST', url(t, '/profiles/rebuild'))).statusCode, 202);
      for (;;) {
        const progress = (await admin(t, 'GET', url(t, '/profiles/rebuild'))).json<Rebuild>();
        if (progress.status === 'done') break;
        assert.ok(Date.now() < deadline, `rebuild still ${progress.status}`);
        await new Promise((r) => setTimeout(r, 25));
      }
      const person = await admin(t, 'GET', url(t, '/profiles/lookup?type=crm_id&value=crm-7'));
      assert.equal(person.statusCode, 200, person.body);
      const { id } = person.json<{ id: string }>();
      while ((await members()).length !== 1) {
        assert.ok(Date.now() < deadline, `members: ${JSON.stringify(await members())}`);
        await new Promise((r) => setTimeout(r, 25));
      }
      assert.deepEqual(await members(), [id]);
      assert.equal((await admin(t, 'GET', url(t, '/segments/pros'))).json<{ size: number }>().size, 1);
    });
  });
});
