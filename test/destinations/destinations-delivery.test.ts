import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { admin, expectError, sendOk, uniqueId } from '../support/http-helpers.ts';
import { describeEachStore, type StoreHandle } from '../support/stores.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';
import { WebhookReceiver } from '../support/webhook-receiver.ts';
import { drained, eventually, privacyRequest, url } from '../privacy/privacy-helpers.ts';

interface DestinationView {
  id: string;
  config: { url: string; secret?: string; sendDeletions: boolean };
  deliveries?: { queued: number; delivered: number; failed: number; dropped: number };
}
interface DeliveryView {
  id: number;
  status: string;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
}

const consentOf = (marketing: boolean) => ({ consent: { categoryPreferences: { marketing } } });

async function createDestination(t: TestApp, receiver: WebhookReceiver, body: Record<string, unknown>) {
  const res = await admin(t, 'POST', url(t, '/destinations'), {
    type: 'webhook',
    name: 'crm hook',
    config: { url: receiver.url },
    ...body,
  });
  assert.equal(res.statusCode, 201, res.body);
  const created = res.json<DestinationView>();
  assert.ok(created.config.secret?.startsWith('whsec_'));
  receiver.useSecret(created.config.secret ?? '');
  return created;
}

async function deliveries(t: TestApp, id: string, status?: string): Promise<DeliveryView[]> {
  const res = await admin(
    t,
    'GET',
    url(t, `/destinations/${id}/deliveries${status ? `?status=${status}` : ''}`),
  );
  assert.equal(res.statusCode, 200, res.body);
  return res.json<{ items: DeliveryView[] }>().items;
}

const settledCount = async (t: TestApp, id: string, status: string, n: number) =>
  eventually(
    async () => ((await deliveries(t, id, status)).length >= n ? true : undefined),
    `${n} ${status}`,
  );

describeEachStore('destinations: delivery under consent', (fixture) => {
  let handle: StoreHandle;
  let t: TestApp;
  let receiver: WebhookReceiver;

  before(async () => {
    handle = await fixture.fresh();
    t = await createTestApp(handle.store, { env: { CDP_EGRESS_ALLOW: '127.0.0.1' } });
  });
  after(async () => {
    await t.close();
    await receiver?.close();
  });

  it('delivers signed batches only of people who granted the categories, and only events passing the filter', async () => {
    receiver = await WebhookReceiver.start();
    const destination = await createDestination(t, receiver, {
      consentCategories: ['marketing'],
      filter: 'type = "track" and properties.total >= 10',
    });
    const shown = await admin(t, 'GET', url(t, `/destinations/${destination.id}`));
    assert.equal(shown.json<DestinationView>().config.secret, undefined, 'the secret is shown only once');
    const yes = uniqueId('granted');
    const no = uniqueId('refused');
    const silent = uniqueId('silent');
    await sendOk(t, 'batch', {
      batch: [
        { type: 'identify', userId: yes, traits: { email: 'yes@example.com' }, context: consentOf(true) },
        { type: 'identify', userId: no, context: consentOf(false) },
        {
          type: 'track',
          userId: yes,
          event: 'Order Completed',
          properties: { total: 25 },
          messageId: `${yes}-big`,
        },
        { type: 'track', userId: yes, event: 'Order Completed', properties: { total: 5 } },
        // Segment's integrations object turns destinations off per event.
        {
          type: 'track',
          userId: yes,
          event: 'Order Completed',
          properties: { total: 50 },
          integrations: { All: false },
        },
        { type: 'track', userId: no, event: 'Order Completed', properties: { total: 99 } },
        { type: 'track', userId: silent, event: 'Order Completed', properties: { total: 99 } },
      ],
    });
    await drained(t);
    await settledCount(t, destination.id, 'delivered', 1);
    const delivered = receiver.messages();
    assert.deepEqual(
      delivered.map((m) => m['messageId']),
      [`${yes}-big`],
    );
    assert.equal(delivered[0]?.['userId'], yes);
    assert.deepEqual(receiver.problems, []);
    const [batch] = receiver.received;
    assert.equal(batch?.headers['x-cdp-destination'], destination.id);
    const view = (await admin(t, 'GET', url(t, `/destinations/${destination.id}`))).json<DestinationView>();
    assert.deepEqual(view.deliveries, { queued: 0, delivered: 1, failed: 0, dropped: 0 });
  });

  it('drops queued deliveries when consent is withdrawn before they are sent', async () => {
    const receiver2 = await WebhookReceiver.start();
    try {
      const destination = await createDestination(t, receiver2, { consentCategories: ['marketing'] });
      // The first attempt meets an unavailable receiver; consent is withdrawn before the retry.
      receiver2.respond({ status: 503, headers: { 'retry-after': '2' } });
      const person = uniqueId('changes-mind');
      await sendOk(t, 'batch', {
        batch: [
          { type: 'identify', userId: person, context: consentOf(true) },
          { type: 'track', userId: person, event: 'Viewed' },
        ],
      });
      await drained(t);
      await eventually(async () => {
        const queued = await deliveries(t, destination.id, 'queued');
        return queued.length === 2 && queued.every((d) => d.lastStatus === 503) ? true : undefined;
      }, 'the first attempt');
      const profile = (await admin(t, 'GET', url(t, `/profiles/lookup?type=user_id&value=${person}`))).json<{
        id: string;
      }>();
      const put = await admin(t, 'PUT', url(t, `/profiles/${profile.id}/consent`), {
        categoryPreferences: { marketing: false },
      });
      assert.equal(put.statusCode, 200, put.body);
      await settledCount(t, destination.id, 'dropped', 2);
      assert.equal(receiver2.received.length, 0);
      assert.match((await deliveries(t, destination.id, 'dropped'))[0]?.lastError ?? '', /consent withdrawn/);
    } finally {
      await receiver2.close();
    }
  });

  it('retries 429/5xx with Retry-After, lists 4xx as failed, and retries those on request', async () => {
    const receiver3 = await WebhookReceiver.start();
    try {
      const destination = await createDestination(t, receiver3, { filter: 'event = "Signed Up"' });
      receiver3.respond({ status: 503, headers: { 'retry-after': '1' } }, { status: 429 });
      const first = uniqueId('retried');
      await sendOk(t, 'track', { userId: first, event: 'Signed Up', messageId: first });
      await settledCount(t, destination.id, 'delivered', 1);
      const [retried] = await deliveries(t, destination.id, 'delivered');
      assert.equal(retried?.attempts, 3);
      assert.deepEqual(
        receiver3.messages().map((m) => m['messageId']),
        [first],
      );

      receiver3.respond({ status: 400 });
      const second = uniqueId('refused');
      await sendOk(t, 'track', { userId: second, event: 'Signed Up', messageId: second });
      await settledCount(t, destination.id, 'failed', 1);
      const [failed] = await deliveries(t, destination.id, 'failed');
      assert.equal(failed?.lastStatus, 400);
      assert.match(failed?.lastError ?? '', /400/);
      const retry = await admin(t, 'POST', url(t, `/destinations/${destination.id}/deliveries/retry`), {});
      assert.deepEqual(retry.json(), { requeued: 1 });
      await settledCount(t, destination.id, 'delivered', 2);
      assert.deepEqual(
        receiver3.messages().map((m) => m['messageId']),
        [first, second],
      );
      assert.deepEqual(receiver3.problems, []);

      const test = await admin(t, 'POST', url(t, `/destinations/${destination.id}/test`));
      assert.equal(test.statusCode, 200, test.body);
      assert.equal(test.json<{ outcome: string }>().outcome, 'ok');
    } finally {
      await receiver3.close();
    }
  });

  it('exports the deliveries made, and an erasure sends a signed deletion call and leaves no delivery behind', async () => {
    const receiver4 = await WebhookReceiver.start();
    try {
      const destination = await createDestination(t, receiver4, { filter: 'event = "Bought"' });
      const person = uniqueId('forget-me');
      await sendOk(t, 'batch', {
        batch: [
          { type: 'identify', userId: person, anonymousId: `${person}-device` },
          { type: 'track', userId: person, event: 'Bought', properties: { sku: 'A1' } },
        ],
      });
      await settledCount(t, destination.id, 'delivered', 1);
      const exported = await privacyRequest(t, 'export', { type: 'user_id', value: person });
      const document = (await admin(t, 'GET', url(t, `/privacy-requests/${exported.id}/export`))).json<{
        deliveries: { destinationId: string; destinationName: string }[];
      }>();
      assert.deepEqual(
        document.deliveries.map((d) => [d.destinationId, d.destinationName]),
        [[destination.id, 'crm hook']],
      );

      const erased = await privacyRequest(t, 'erase', { type: 'user_id', value: person });
      assert.equal(erased.status, 'completed', JSON.stringify(erased));
      assert.deepEqual(erased.result?.['deletionCalls'], [destination.id]);
      const call = await eventually(
        async () => receiver4.messages().find((m) => m['type'] === 'delete'),
        'the deletion call',
      );
      assert.equal(call['userId'], person);
      assert.equal(call['anonymousId'], `${person}-device`);
      assert.deepEqual(receiver4.problems, []);
      // The receiver sees the call before the worker records its answer: wait for the record.
      await settledCount(t, destination.id, 'delivered', 1);
      const left = await deliveries(t, destination.id);
      assert.deepEqual(
        left.map((d) => [d.status]),
        [['delivered']],
        'only the (sent, emptied) deletion call is left',
      );
    } finally {
      await receiver4.close();
    }
  });

  it('syncs a segment: events of its members and its audience events only; it cannot be deleted meanwhile', async () => {
    const receiver5 = await WebhookReceiver.start();
    try {
      const slug = `vip-${uniqueId('s').slice(-6)}`;
      const created = await admin(t, 'POST', url(t, '/segments'), {
        name: 'VIP',
        slug,
        definition: 'traits.tier = "vip"',
      });
      assert.equal(created.statusCode, 201, created.body);
      const destination = await createDestination(t, receiver5, { segments: [slug] });
      const vip = uniqueId('vip');
      const basic = uniqueId('basic');
      await sendOk(t, 'batch', {
        batch: [
          { type: 'identify', userId: vip, traits: { tier: 'vip' } },
          { type: 'identify', userId: basic, traits: { tier: 'basic' } },
        ],
      });
      await drained(t);
      await sendOk(t, 'batch', {
        batch: [
          { type: 'track', userId: vip, event: 'Viewed', messageId: `${vip}-viewed` },
          { type: 'track', userId: basic, event: 'Viewed', messageId: `${basic}-viewed` },
        ],
      });
      await eventually(
        async () =>
          receiver5.messages().some((m) => m['messageId'] === `${vip}-viewed`) &&
          receiver5.messages().some((m) => m['event'] === 'Audience Entered')
            ? true
            : undefined,
        "the member's events",
      );
      await drained(t);
      const people = new Set(receiver5.messages().map((m) => m['userId']));
      assert.deepEqual([...people], [vip]);
      const entered = receiver5.messages().find((m) => m['event'] === 'Audience Entered');
      assert.equal((entered?.['properties'] as Record<string, unknown>)['audience_key'], slug);
      expectError(await admin(t, 'DELETE', url(t, `/segments/${slug}`)), 409, 'segment.in_use');
      assert.equal((await admin(t, 'DELETE', url(t, `/destinations/${destination.id}`))).statusCode, 204);
      assert.equal((await admin(t, 'DELETE', url(t, `/segments/${slug}`))).statusCode, 204);
    } finally {
      await receiver5.close();
    }
  });

  it('refuses bad definitions with clear 400s', async () => {
    const create = (body: Record<string, unknown>) =>
      admin(t, 'POST', url(t, '/destinations'), {
        type: 'webhook',
        name: 'x',
        config: { url: 'https://example.com/h' },
        ...body,
      });
    expectError(await create({ config: { url: 'ftp://example.com/' } }), 400, 'destination.invalid');
    expectError(await create({ config: { url: 'http://10.1.2.3/hook' } }), 400, 'destination.invalid');
    expectError(await create({ config: { url: 'http://[::1]:8080/hook' } }), 400, 'destination.invalid');
    expectError(await create({ config: { url: 'https://u:p@example.com/' } }), 400, 'destination.invalid');
    expectError(await create({ segments: ['no-such-segment'] }), 400, 'destination.invalid');
    expectError(await create({ consentCategories: ['nonsense'] }), 400, 'destination.invalid');
    expectError(await create({ consentCategory: ['marketing'] }), 400, 'destination.invalid');
    const filter = expectError(await create({ filter: 'type = ' }), 400);
    assert.equal(
      (filter as { line?: number }).line ?? (filter['details'] as { line?: number } | undefined)?.line ?? 1,
      1,
    );
    expectError(await admin(t, 'GET', url(t, '/destinations/dst_nope')), 404, 'destination.not_found');
  });
});
