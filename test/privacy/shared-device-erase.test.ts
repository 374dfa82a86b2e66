/**
 * Two people on one device (a kiosk): the anonymous id is linked to the first person who
 * identified on it; the second person's events carry it too, but the timeline assigns them to
 * the second person. Erasing or exporting the first person must not reach the second person's
 * events, traits or timeline.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { admin, sendOk, sharedStore, withApp } from '../support/http-helpers.ts';
import { describeEachStore } from '../support/stores.ts';
import type { TestApp } from '../support/test-app.ts';
import { drained, lookup, privacyRequest, url } from './privacy-helpers.ts';

async function seedKiosk(t: TestApp): Promise<void> {
  await sendOk(t, 'batch', {
    batch: [
      {
        type: 'identify',
        anonymousId: 'kiosk-7',
        userId: 'u-alice',
        messageId: 'alice-identify',
        timestamp: '2026-04-01T10:00:00Z',
        traits: { email: 'alice@k.io' },
      },
      {
        type: 'track',
        anonymousId: 'kiosk-7',
        userId: 'u-alice',
        event: 'Order Completed',
        messageId: 'alice-order',
        timestamp: '2026-04-01T10:01:00Z',
      },
    ],
  });
  await drained(t);
  await sendOk(t, 'batch', {
    batch: [
      {
        type: 'identify',
        anonymousId: 'kiosk-7',
        userId: 'u-brian',
        messageId: 'brian-identify',
        timestamp: '2026-04-01T11:00:00Z',
        traits: { email: 'brian@k.io', plan: 'gold' },
      },
      {
        type: 'track',
        anonymousId: 'kiosk-7',
        userId: 'u-brian',
        event: 'Order Completed',
        messageId: 'brian-kiosk-order',
        timestamp: '2026-04-01T11:01:00Z',
      },
      {
        type: 'track',
        userId: 'u-brian',
        event: 'Order Completed',
        messageId: 'brian-web-order',
        timestamp: '2026-04-01T12:00:00Z',
      },
    ],
  });
  await drained(t);
}

async function timeline(t: TestApp, profileId: string): Promise<string[]> {
  const res = await admin(t, 'GET', url(t, `/profiles/${profileId}/events?limit=50`));
  assert.equal(res.statusCode, 200, res.body);
  return res
    .json<{ items: { messageId?: string; message?: { messageId: string } }[] }>()
    .items.map((e) => e.messageId ?? e.message?.messageId ?? '')
    .sort();
}

const BRIAN_EVENTS = ['brian-identify', 'brian-kiosk-order', 'brian-web-order'];

describeEachStore('a shared device', (fixture) => {
  const store = sharedStore(fixture);

  it("erasing one person keeps the other person's events on the shared device", async () => {
    await withApp(await store(), {}, async (t) => {
      await seedKiosk(t);
      const alice = await lookup(t, 'user_id', 'u-alice');
      const brian = await lookup(t, 'user_id', 'u-brian');
      assert.ok(alice && brian);
      assert.ok(alice.identities.some((i) => i.type === 'anonymous_id' && i.value === 'kiosk-7'));
      assert.ok(!brian.identities.some((i) => i.type === 'anonymous_id'));
      assert.deepEqual(await timeline(t, brian.id), BRIAN_EVENTS);

      const erased = await privacyRequest(t, 'erase', { type: 'user_id', value: 'u-alice' });
      assert.equal(erased.status, 'completed', JSON.stringify(erased));
      const deleted = (erased.result as { deleted: Record<string, number> }).deleted;
      assert.equal(deleted['events'], 2, JSON.stringify(deleted));
      await drained(t);

      assert.equal(await lookup(t, 'user_id', 'u-alice'), undefined);
      const after = await lookup(t, 'user_id', 'u-brian');
      assert.ok(after);
      assert.equal(after.id, brian.id);
      assert.deepEqual(after.traits, { email: 'brian@k.io', plan: 'gold' });
      assert.equal(after.eventCount, 3);
      assert.deepEqual(await timeline(t, brian.id), BRIAN_EVENTS);
    });
  });

  it("an export of one person holds none of the other person's events", async () => {
    await withApp(await store(), {}, async (t) => {
      await seedKiosk(t);
      const exported = await privacyRequest(t, 'export', { type: 'user_id', value: 'u-alice' });
      assert.equal(exported.status, 'completed', JSON.stringify(exported));
      const doc = await admin(t, 'GET', exported.exportUrl ?? '');
      assert.equal(doc.statusCode, 200, doc.body);
      const events = doc.json<{ events: { message: { messageId: string } }[] }>().events;
      assert.deepEqual(
        events.map((e) => e.message.messageId),
        ['alice-identify', 'alice-order'],
      );
      assert.ok(!doc.body.includes('brian@k.io') && !doc.body.includes('u-brian'), doc.body);
    });
  });
});
