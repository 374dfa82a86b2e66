/**
 * A destination receives the events received from its creation on, never the history before it:
 * a profiles rebuild re-reports the whole log to the router (identity maintenance, not a
 * backfill to partners), and an event still in the pipeline when the destination was created
 * was received before it. Events received after the creation are delivered once, however often
 * they are re-reported (a rebuild, a redelivered batch).
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { admin, sendOk, uniqueId } from '../support/http-helpers.ts';
import { describeEachStore, type StoreHandle } from '../support/stores.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';
import { WebhookReceiver } from '../support/webhook-receiver.ts';
import { drained, eventually, url } from '../privacy/privacy-helpers.ts';

interface DeliveryView {
  status: string;
}

async function createDestination(t: TestApp, receiver: WebhookReceiver): Promise<string> {
  const res = await admin(t, 'POST', url(t, '/destinations'), {
    type: 'webhook',
    name: `hook ${uniqueId('d')}`,
    config: { url: receiver.url },
  });
  assert.equal(res.statusCode, 201, res.body);
  const created = res.json<{ id: string; config: { secret: string } }>();
  receiver.useSecret(created.config.secret);
  return created.id;
}

async function deliveries(t: TestApp, id: string): Promise<DeliveryView[]> {
  const res = await admin(t, 'GET', url(t, `/destinations/${id}/deliveries?limit=500`));
  assert.equal(res.statusCode, 200, res.body);
  return res.json<{ items: DeliveryView[] }>().items;
}

async function rebuild(t: TestApp): Promise<void> {
  assert.equal((await admin(t, 'POST', url(t, '/profiles/rebuild'))).statusCode, 202);
  await eventually(async () => {
    const progress = (await admin(t, 'GET', url(t, '/profiles/rebuild'))).json<{ status: string }>();
    return progress.status === 'done' ? true : undefined;
  }, 'the rebuild');
  await drained(t);
}

/** Waits until nothing is queued for the destination (the worker has sent what it had). */
async function settled(t: TestApp, id: string): Promise<void> {
  await drained(t);
  await eventually(
    async () => ((await deliveries(t, id)).every((d) => d.status !== 'queued') ? true : undefined),
    'the deliveries to settle',
  );
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describeEachStore('destinations: the history before a destination', (fixture) => {
  let handle: StoreHandle;
  let t: TestApp;
  const receivers: WebhookReceiver[] = [];

  before(async () => {
    handle = await fixture.fresh();
    t = await createTestApp(handle.store, { env: { CDP_EGRESS_ALLOW: '127.0.0.1' } });
  });
  after(async () => {
    await t.close();
    for (const receiver of receivers) await receiver.close();
  });

  it('a rebuild sends a destination none of the events received before it was created', async () => {
    const receiver = await WebhookReceiver.start();
    receivers.push(receiver);
    const person = uniqueId('old');
    await sendOk(t, 'batch', {
      batch: Array.from({ length: 41 }, (_, i) => ({
        type: 'track',
        userId: person,
        event: 'Viewed',
        messageId: `${person}-${i}`,
      })),
    });
    await drained(t);
    await tick();
    const destination = await createDestination(t, receiver);
    await tick();
    const fresh = uniqueId('new');
    await sendOk(t, 'track', { userId: fresh, event: 'Viewed', messageId: fresh });
    await eventually(async () => (receiver.messages().length > 0 ? true : undefined), 'the new event');
    await settled(t, destination);

    await rebuild(t);
    await settled(t, destination);
    // Give a wrongly queued backfill the time to reach the receiver.
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.deepEqual(
      receiver.messages().map((m) => m['messageId']),
      [fresh],
      'only the event received after the destination was created, once',
    );
    assert.deepEqual(
      (await deliveries(t, destination)).map((d) => d.status),
      ['delivered'],
    );
    assert.deepEqual(receiver.problems, []);
  });

  it('an event received before the destination was created is not sent, even if processed after', async () => {
    const receiver = await WebhookReceiver.start();
    receivers.push(receiver);
    // A store of its own: no other app's pipeline may process the event meanwhile.
    const own = await fixture.fresh();
    const app = await createTestApp(own.store, { env: { CDP_EGRESS_ALLOW: '127.0.0.1' }, start: false });
    try {
      // The pipeline does not run yet: the event waits in the log while the destination is made.
      const waiting = uniqueId('waiting');
      await sendOk(app, 'track', { userId: waiting, event: 'Viewed', messageId: waiting });
      await tick();
      const destination = await createDestination(app, receiver);
      await tick();
      const later = uniqueId('later');
      await sendOk(app, 'track', { userId: later, event: 'Viewed', messageId: later });
      await app.app.start();
      await eventually(async () => (receiver.messages().length > 0 ? true : undefined), 'the later event');
      await settled(app, destination);
      assert.deepEqual(
        receiver.messages().map((m) => m['messageId']),
        [later],
      );
    } finally {
      await app.close();
      await own.store.close();
    }
  });
});
