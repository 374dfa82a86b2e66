import assert from 'node:assert/strict';
import { it } from 'node:test';
import {
  admin,
  allEvents,
  sendOk,
  sharedStore,
  storedMessage,
  uniqueId,
  UUID_PATTERN,
  withApp,
  wsUrl,
  type Message,
} from '../support/http-helpers.ts';
import { describeEachStore } from '../support/stores.ts';
import { createManualClock, type TestApp } from '../support/test-app.ts';

// Segment's spec, call by call: what a client sends and exactly what is stored for it.
// https://segment.com/docs/connections/spec/ (common fields, identify, track, page, screen, group, alias)

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
const NOW_ISO = new Date(NOW).toISOString();
const CLIENT_IP = '203.0.113.9';

const CONTEXT = {
  library: { name: 'analytics.js', version: '2.11.1' },
  page: { path: '/pricing', url: 'https://shop.example/pricing', referrer: '' },
  userAgent: 'Mozilla/5.0 (X11; Linux x86_64)',
  locale: 'fr-FR',
  consent: { categoryPreferences: { marketing: false, analytics: true } },
};
const INTEGRATIONS = { All: false, Mixpanel: true, 'Google Analytics': { clientId: '123.456' } };

/** One call per type with every field the spec gives it, plus the common fields. */
const CALLS: readonly { route: string; body: Record<string, unknown> }[] = [
  {
    route: 'identify',
    body: { userId: 'u-1', traits: { email: 'ada@example.com', plan: 'pro', address: { city: 'Lyon' } } },
  },
  {
    route: 'track',
    body: {
      userId: 'u-1',
      event: 'Order Completed',
      properties: { revenue: 42.5, currency: 'EUR', products: [{ sku: 'A-1', qty: 2 }] },
    },
  },
  {
    route: 'page',
    body: {
      anonymousId: 'anon-1',
      category: 'Docs',
      name: 'Pricing',
      properties: { title: 'Pricing', path: '/pricing' },
    },
  },
  {
    route: 'screen',
    body: { userId: 'u-1', name: 'Home', category: 'Main', properties: { variation: 'blue' } },
  },
  { route: 'group', body: { userId: 'u-1', groupId: 'g-7', traits: { name: 'Initech', employees: 329 } } },
  { route: 'alias', body: { userId: 'u-1', previousId: 'anon-1' } },
];

/** The stored form of a client message sent without timestamps, received at NOW from CLIENT_IP. */
function expectedStored(route: string, body: Record<string, unknown>, messageId: string): Message {
  return {
    ...body,
    type: route,
    messageId,
    context: { ...CONTEXT, ip: CLIENT_IP },
    integrations: INTEGRATIONS,
    version: 2,
    timestamp: NOW_ISO,
    receivedAt: NOW_ISO,
  };
}

describeEachStore('tracking API conformance', (fixture) => {
  const store = sharedStore(fixture);
  const app = async <T>(fn: (t: TestApp) => Promise<T>): Promise<T> =>
    withApp(await store(), { clock: createManualClock(NOW) }, fn);

  for (const { route, body } of CALLS) {
    it(`${route}: POST /v1/${route} stores the message field by field`, async () => {
      await app(async (t) => {
        const messageId = uniqueId(route);
        const sent = { ...body, messageId, context: CONTEXT, integrations: INTEGRATIONS, version: 2 };
        await sendOk(t, route, sent, { remoteAddress: CLIENT_IP });
        assert.deepEqual(await storedMessage(t, messageId), expectedStored(route, body, messageId));
      });
    });

    it(`${route}: the same message inside /v1/batch is stored identically`, async () => {
      await app(async (t) => {
        const messageId = uniqueId(route);
        const item = {
          type: route,
          ...body,
          messageId,
          context: CONTEXT,
          integrations: INTEGRATIONS,
          version: 2,
        };
        await sendOk(t, 'batch', { batch: [item] }, { remoteAddress: CLIENT_IP });
        assert.deepEqual(await storedMessage(t, messageId), expectedStored(route, body, messageId));
      });
    });
  }

  it('generates a UUID messageId when absent, a different one per message', async () => {
    await app(async (t) => {
      await sendOk(t, 'track', { userId: 'u-gen', event: 'A' });
      await sendOk(t, 'batch', {
        batch: [
          { type: 'track', userId: 'u-gen', event: 'B' },
          { type: 'identify', userId: 'u-gen' },
        ],
      });
      const stored = await allEvents(t, { userId: 'u-gen' });
      assert.equal(stored.length, 3);
      for (const message of stored) assert.match(String(message['messageId']), UUID_PATTERN);
      assert.equal(new Set(stored.map((m) => m['messageId'])).size, 3);
    });
  });

  it('keeps the route type, and the batch item type, on what is stored', async () => {
    await app(async (t) => {
      await sendOk(t, 'page', { anonymousId: 'a-type', messageId: 'type-1' });
      await sendOk(t, 'batch', { batch: [{ type: 'screen', anonymousId: 'a-type', messageId: 'type-2' }] });
      assert.equal((await storedMessage(t, 'type-1'))['type'], 'page');
      assert.equal((await storedMessage(t, 'type-2'))['type'], 'screen');
    });
  });

  it('coerces numeric userId and anonymousId to strings, and filters on them as strings', async () => {
    await app(async (t) => {
      await sendOk(t, 'identify', { userId: 12345, messageId: 'num-1' });
      await sendOk(t, 'track', { anonymousId: 987, event: 'Viewed', messageId: 'num-2' });
      assert.equal((await storedMessage(t, 'num-1'))['userId'], '12345');
      assert.equal((await storedMessage(t, 'num-2'))['anonymousId'], '987');
      assert.deepEqual(
        (await allEvents(t, { userId: '12345' })).map((m) => m['messageId']),
        ['num-1'],
      );
      assert.deepEqual(
        (await allEvents(t, { anonymousId: '987' })).map((m) => m['messageId']),
        ['num-2'],
      );
    });
  });

  it('accepts userId only, anonymousId only, or both, and keeps both', async () => {
    await app(async (t) => {
      await sendOk(t, 'track', { userId: 'only-user', event: 'E', messageId: 'ids-1' });
      await sendOk(t, 'track', { anonymousId: 'only-anon', event: 'E', messageId: 'ids-2' });
      await sendOk(t, 'track', { userId: 'both-u', anonymousId: 'both-a', event: 'E', messageId: 'ids-3' });
      assert.equal((await storedMessage(t, 'ids-1'))['anonymousId'], undefined);
      assert.equal((await storedMessage(t, 'ids-2'))['userId'], undefined);
      const both = await storedMessage(t, 'ids-3');
      assert.deepEqual([both['userId'], both['anonymousId']], ['both-u', 'both-a']);
    });
  });

  it('sets receivedAt from the server clock, overriding a client value', async () => {
    await app(async (t) => {
      await sendOk(t, 'track', {
        userId: 'u',
        event: 'E',
        messageId: 'recv-1',
        receivedAt: '2001-01-01T00:00:00.000Z',
      });
      assert.equal((await storedMessage(t, 'recv-1'))['receivedAt'], NOW_ISO);
    });
  });

  it('never stores the write key, whether sent in the body or in a batch item', async () => {
    await app(async (t) => {
      await sendOk(
        t,
        'track',
        { writeKey: t.writeKey, userId: 'u', event: 'E', messageId: 'wk-1' },
        { auth: null },
      );
      const item = { type: 'track', writeKey: t.writeKey, userId: 'u', event: 'E', messageId: 'wk-2' };
      await sendOk(t, 'batch', { batch: [item] }, { auth: null });
      await sendOk(
        t,
        'batch',
        { writeKey: t.writeKey, batch: [{ ...item, messageId: 'wk-3' }] },
        { auth: null },
      );
      for (const id of ['wk-1', 'wk-2', 'wk-3']) {
        const stored = await storedMessage(t, id);
        assert.equal(Object.hasOwn(stored, 'writeKey'), false);
        assert.equal(JSON.stringify(stored).includes(t.writeKey), false);
      }
    });
  });

  it('adds context.ip from the request and keeps an IP the client gave', async () => {
    await app(async (t) => {
      await sendOk(t, 'track', { userId: 'u', event: 'E', messageId: 'ip-1' }, { remoteAddress: CLIENT_IP });
      await sendOk(t, 'track', {
        userId: 'u',
        event: 'E',
        messageId: 'ip-2',
        context: { ip: '198.51.100.4' },
      });
      assert.deepEqual((await storedMessage(t, 'ip-1'))['context'], { ip: CLIENT_IP });
      assert.deepEqual((await storedMessage(t, 'ip-2'))['context'], { ip: '198.51.100.4' });
      // Without CDP_TRUST_PROXY a forwarded header is not believed.
      const spoofed = { remoteAddress: CLIENT_IP, headers: { 'x-forwarded-for': '6.6.6.6' } };
      await sendOk(t, 'track', { userId: 'u', event: 'E', messageId: 'ip-3' }, spoofed);
      assert.deepEqual((await storedMessage(t, 'ip-3'))['context'], { ip: CLIENT_IP });
    });
  });

  it('with captureIp off, adds no context.ip and strips one sent by the client', async () => {
    await app(async (t) => {
      const patch = await admin(t, 'PATCH', wsUrl(t, `/sources/${t.sourceId}`), {
        settings: { captureIp: false },
      });
      assert.equal(patch.statusCode, 200, patch.body);
      assert.equal(patch.json<{ settings: { captureIp: boolean } }>().settings.captureIp, false);
      const options = { remoteAddress: CLIENT_IP };
      await sendOk(t, 'track', { userId: 'u', event: 'E', messageId: 'noip-1', context: CONTEXT }, options);
      await sendOk(
        t,
        'identify',
        { userId: 'u', messageId: 'noip-2', context: { ip: '198.51.100.4' } },
        options,
      );
      const batch = {
        context: { ip: '198.51.100.5' },
        batch: [{ type: 'track', userId: 'u', event: 'E', messageId: 'noip-3' }],
      };
      await sendOk(t, 'batch', batch, options);
      assert.deepEqual((await storedMessage(t, 'noip-1'))['context'], CONTEXT);
      assert.deepEqual((await storedMessage(t, 'noip-2'))['context'], {});
      assert.deepEqual((await storedMessage(t, 'noip-3'))['context'], {});
      const raw = JSON.stringify(await allEvents(t));
      assert.equal(raw.includes(CLIENT_IP) || raw.includes('198.51.100'), false);
    });
  });

  it('applies batch-level context and integrations to items; the item wins key by key', async () => {
    await app(async (t) => {
      await sendOk(
        t,
        'batch',
        {
          context: { library: { name: 'analytics-node', version: '2.0.0' }, locale: 'en-US' },
          integrations: { All: true, Salesforce: false },
          batch: [
            { type: 'track', userId: 'u', event: 'A', messageId: 'bctx-1' },
            {
              type: 'identify',
              userId: 'u',
              messageId: 'bctx-2',
              context: { locale: 'de-DE' },
              integrations: { All: false },
            },
          ],
        },
        { remoteAddress: CLIENT_IP },
      );
      const first = await storedMessage(t, 'bctx-1');
      assert.deepEqual(first['context'], {
        library: { name: 'analytics-node', version: '2.0.0' },
        locale: 'en-US',
        ip: CLIENT_IP,
      });
      assert.deepEqual(first['integrations'], { All: true, Salesforce: false });
      const second = await storedMessage(t, 'bctx-2');
      assert.deepEqual(second['context'], {
        library: { name: 'analytics-node', version: '2.0.0' },
        locale: 'de-DE',
        ip: CLIENT_IP,
      });
      assert.deepEqual(second['integrations'], { All: false, Salesforce: false });
    });
  });

  it('keeps unknown top-level fields and nested data types exactly', async () => {
    await app(async (t) => {
      const properties = {
        n: 0,
        f: -1.5e-7,
        b: false,
        nil: null,
        s: 'é ✓ 🎉',
        arr: [1, 'two', { three: [3] }],
        deep: { a: { b: { c: {} } } },
      };
      await sendOk(t, 'track', {
        userId: 'u',
        event: 'Types',
        messageId: 'types-1',
        properties,
        customField: { x: 1 },
      });
      const stored = await storedMessage(t, 'types-1');
      assert.deepEqual(stored['properties'], properties);
      assert.deepEqual(stored['customField'], { x: 1 });
    });
  });
});
