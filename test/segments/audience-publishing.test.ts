/**
 * Audience events are appended behind the evaluation that decided them: an evaluation (a
 * pipeline batch, the scheduler) is done once its decisions are stored, without waiting for the
 * log's group commit; the events follow in the order decided, and the outbox is empty after.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { buildRealtimeAudiences } from '../../src/app/segment-services.ts';
import type { AcceptedEvent } from '../../src/ingestion/message-types.ts';
import { admin, audienceKeys, eventually, sendOk, sharedStore, withApp } from '../support/http-helpers.ts';
import { describeEachStore } from '../support/stores.ts';
import { createManualClock, type TestApp } from '../support/test-app.ts';

const START = Date.parse('2026-06-01T12:00:00Z');

const url = (t: TestApp, rest: string) => `/api/v1/workspaces/${t.workspace.slug}${rest}`;

describeEachStore('audience publishing', (fixture) => {
  const store = sharedStore(fixture);

  it('an evaluation is done once its decisions are stored; the events follow, in order', async () => {
    const clock = createManualClock(START);
    await withApp(await store(), { clock }, async (t) => {
      const created = await admin(t, 'POST', url(t, '/segments'), {
        name: 'Pro',
        slug: 'pro',
        definition: 'traits.plan = "pro"',
      });
      assert.equal(created.statusCode, 201, created.body);
      const segmentId = created.json<{ id: string }>().id;
      await sendOk(t, 'identify', { userId: 'held-1', traits: { plan: 'pro' } });
      const profile = await eventually(async () => {
        const res = await admin(t, 'GET', url(t, '/profiles/lookup?type=user_id&value=held-1'));
        const p = res.statusCode === 200 ? res.json<{ id: string; segments: string[] }>() : undefined;
        return p?.segments.includes('pro') === true ? p : undefined;
      }, 'the member');
      await eventually(
        async () => ((await audienceKeys(t, profile.id, 'Audience Entered')).length === 1 ? true : undefined),
        'the pipeline’s Audience Entered',
      );

      // A second evaluator over the same store whose appends the test holds: as if the log's
      // group commit were slow. It finds the person a non-member (stored so) and decides the entry.
      const held: { events: readonly AcceptedEvent[]; release: () => void }[] = [];
      const audiences = buildRealtimeAudiences({
        store: t.store,
        clock,
        emit: (events) =>
          new Promise<void>((resolve, reject) =>
            held.push({
              events,
              release: () => void t.store.events.append(events, 0).then(() => resolve(), reject),
            }),
          ),
        onPublishError: (error) => assert.fail(String(error)),
      });
      const leave = async (atMs: number) =>
        t.store.audienceState.apply(
          t.workspace.id,
          {
            removed: [],
            updates: [
              {
                profileId: profile.id,
                memberships: [{ segmentId, member: false }],
                computed: [],
                dueMs: null,
              },
            ],
          },
          atMs,
        );
      await leave(START + 1_000);
      clock.set(START + 2_000);
      const evaluated = audiences.evaluateDue(t.workspace.id, [profile.id], clock.now());
      const outcome = await Promise.race([
        evaluated.then(() => 'done'),
        new Promise((r) => setTimeout(() => r('still waiting for the append'), 3_000)),
      ]);
      assert.equal(outcome, 'done');
      assert.equal(audiences.publishing().pending, 1);
      // Stored before appended: the outbox holds the decision until its event is in the log.
      assert.equal((await t.store.audienceState.pendingTransitions(Number.MAX_SAFE_INTEGER, 10)).length, 1);

      // A second decision queues behind the first, and goes out after it.
      await leave(START + 3_000);
      clock.set(START + 4_000);
      await audiences.evaluateDue(t.workspace.id, [profile.id], clock.now());
      assert.equal(audiences.publishing().pending, 2);
      await eventually(async () => (held.length === 1 ? true : undefined), 'the first append');
      held[0]?.release();
      await eventually(async () => (held.length === 2 ? true : undefined), 'the second append');
      held[1]?.release();
      await audiences.settled();
      assert.deepEqual(
        held.map((h) => h.events.map((e) => e.messageId)),
        [
          [`aud-${segmentId}-${profile.id}-in-${START + 2_000}`],
          [`aud-${segmentId}-${profile.id}-in-${START + 4_000}`],
        ],
      );
      assert.deepEqual(await t.store.audienceState.pendingTransitions(Number.MAX_SAFE_INTEGER, 10), []);
      await eventually(
        async () => ((await audienceKeys(t, profile.id, 'Audience Entered')).length === 3 ? true : undefined),
        'both held events in the timeline',
      );
      await audiences.stop();
    });
  });
});
