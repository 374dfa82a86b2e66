import assert from 'node:assert/strict';
import { it } from 'node:test';
import { allEvents, send, sendOk, sharedStore, storedMessage, withApp } from '../support/http-helpers.ts';
import { describeEachStore } from '../support/stores.ts';
import type { TestApp } from '../support/test-app.ts';

// The endpoints SDKs other than the server libraries use: RudderStack's browser SDK (its config,
// its preflights with an AnonymousId header, its beacon), tracking pixels (Segment's and
// RudderStack's), the batch path of Segment's older libraries, and how a batch's own
// `integrations` and `context` combine with its items'.

const GIF_HEADER = 'GIF89a';
const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64');
const basic = (key: string): string => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;

async function get(t: TestApp, url: string, headers: Record<string, string> = {}) {
  return t.app.http.inject({ method: 'GET', url, headers });
}

describeEachStore('SDK endpoints beyond the Tracking API calls', (fixture) => {
  const store = sharedStore(fixture);
  const app = async (fn: (t: TestApp) => Promise<void>): Promise<void> => withApp(await store(), {}, fn);

  it('allows the headers a preflight asks for (RudderStack sends AnonymousId), with credentials', async () => {
    await app(async (t) => {
      const preflight = (url: string, requested?: string) =>
        t.app.http.inject({
          method: 'OPTIONS',
          url,
          headers: {
            origin: 'https://shop.example',
            'access-control-request-method': 'POST',
            ...(requested === undefined ? {} : { 'access-control-request-headers': requested }),
          },
        });
      const asked = await preflight('/v1/track', 'anonymousid,authorization,content-type');
      assert.equal(asked.statusCode, 204);
      assert.equal(asked.headers['access-control-allow-headers'], 'anonymousid,authorization,content-type');
      assert.equal(asked.headers['access-control-allow-origin'], 'https://shop.example');
      assert.equal(asked.headers['access-control-allow-credentials'], 'true');
      // Not a list of header names: the default list, never the text as given.
      const odd = await preflight('/v1/batch', 'content-type\r\nx-evil: 1');
      assert.equal(
        odd.headers['access-control-allow-headers'],
        'Content-Type, Authorization, Content-Encoding',
      );
      const none = await preflight('/v1/batch');
      assert.equal(
        none.headers['access-control-allow-headers'],
        'Content-Type, Authorization, Content-Encoding',
      );
      for (const url of ['/sourceConfig/', '/sourceConfig', '/beacon/v1/batch', '/v1/import']) {
        const res = await preflight(url, 'authorization');
        assert.equal(res.statusCode, 204, url);
        assert.equal(res.headers['access-control-allow-headers'], 'authorization', url);
      }
      // The admin API stays closed to other origins.
      const adminPreflight = await preflight('/api/v1/workspaces', 'authorization');
      assert.notEqual(adminPreflight.headers['access-control-allow-origin'], 'https://shop.example');
    });
  });

  it("points analytics.js's settings at CDP_PUBLIC_URL when set, else at the request's host", async () => {
    const settings = async (t: TestApp, headers: Record<string, string>) => {
      const res = await get(t, `/v1/projects/${t.writeKey}/settings`, headers);
      assert.equal(res.statusCode, 200, res.body);
      return res.json().integrations['Segment.io'] as { apiHost: string; protocol: string; apiKey: string };
    };
    await app(async (t) => {
      const seen = await settings(t, { host: 'cdp.internal:8080' });
      assert.deepEqual(
        [seen.apiHost, seen.protocol, seen.apiKey],
        ['cdp.internal:8080/v1', 'http', t.writeKey],
      );
    });
    await withApp(
      await store(),
      { env: { CDP_PUBLIC_URL: 'https://collect.shop.example/cdp/' } },
      async (t) => {
        // Whatever Host the request names, browsers are sent to the configured URL.
        const configured = await settings(t, { host: 'evil.example.net' });
        assert.deepEqual([configured.apiHost, configured.protocol], ['collect.shop.example/cdp/v1', 'https']);
      },
    );
  });

  it("serves RudderStack's source config at /sourceConfig/ with the key as Basic auth or in the query", async () => {
    await app(async (t) => {
      const query = `?p=npm&v=3.7.0&build=modern&writeKey=${t.writeKey}&lockIntegrationsVersion=false`;
      const withSlash = await get(t, `/sourceConfig/${query}`, { authorization: basic(t.writeKey) });
      assert.equal(withSlash.statusCode, 200, withSlash.body);
      assert.equal(withSlash.json().source.writeKey, t.writeKey);
      assert.equal(withSlash.json().source.enabled, true);
      const queryOnly = await get(t, `/sourceConfig${query}`);
      assert.equal(queryOnly.statusCode, 200, queryOnly.body);
      const wrong = await get(t, '/sourceConfig/?writeKey=wk_nope');
      assert.equal(wrong.statusCode, 401);
      assert.equal(wrong.json().error.code, 'auth.invalid_write_key');
    });
  });

  it('stores batches posted to /v1/import and to the beacon path with the key in the query', async () => {
    await app(async (t) => {
      await sendOk(t, 'import', {
        batch: [{ type: 'track', userId: 'u', event: 'Old Lib', messageId: 'imp-1' }],
      });
      const beacon = await t.app.http.inject({
        method: 'POST',
        url: `/beacon/v1/batch?writeKey=${t.writeKey}`,
        headers: { 'content-type': 'text/plain;charset=UTF-8' },
        payload: JSON.stringify({
          batch: [{ type: 'page', anonymousId: 'a', name: 'Home', messageId: 'bcn-1' }],
        }),
      });
      assert.equal(beacon.statusCode, 200, beacon.body);
      const denied = await t.app.http.inject({
        method: 'POST',
        url: '/beacon/v1/batch?writeKey=wk_nope',
        payload: JSON.stringify({ batch: [{ type: 'page', anonymousId: 'a', messageId: 'bcn-2' }] }),
      });
      assert.equal(denied.statusCode, 401);
      const ids = (await allEvents(t)).map((m) => m['messageId']).sort();
      assert.deepEqual(ids, ['bcn-1', 'imp-1']);
    });
  });

  it("answers Segment's pixel with a GIF once the message is stored, base64 or not", async () => {
    await app(async (t) => {
      const message = (id: string) => ({
        writeKey: t.writeKey,
        userId: 'user_123',
        event: 'Email Opened',
        messageId: id,
        properties: { subject: 'The Electric Daily', opens: 2 },
      });
      const standard = await get(t, `/v1/pixel/track?data=${encodeURIComponent(b64(message('px-1')))}`);
      assert.equal(standard.statusCode, 200, standard.body);
      assert.equal(standard.headers['content-type'], 'image/gif');
      assert.match(String(standard.headers['cache-control']), /no-store/);
      assert.equal(standard.rawPayload.subarray(0, 6).toString('latin1'), GIF_HEADER);
      const urlSafe = b64(message('px-2')).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
      assert.equal((await get(t, `/v1/pixel/track?data=${urlSafe}`)).statusCode, 200);
      const plain = encodeURIComponent(JSON.stringify(message('px-3')));
      assert.equal((await get(t, `/v1/pixel/track?data=${plain}`)).statusCode, 200);
      const stored = await storedMessage(t, 'px-1');
      assert.equal(stored['type'], 'track');
      assert.equal(stored['event'], 'Email Opened');
      assert.deepEqual(stored['properties'], { subject: 'The Electric Daily', opens: 2 });
      assert.equal(stored['writeKey'], undefined);
      assert.equal((await storedMessage(t, 'px-3'))['userId'], 'user_123');
    });
  });

  it('builds a pixel message from dotted query fields (RudderStack, unencoded Segment)', async () => {
    await app(async (t) => {
      const rudder = await get(
        t,
        `/pixel/v1/page?writeKey=${t.writeKey}&anonymousId=anon-9&name=Pricing&messageId=px-r1` +
          '&context.library.name=Rudderstack%20AMP%20SDK&context.page.url=https%3A%2F%2Fa.example%2Fp' +
          '&properties.plan=pro&properties.__proto__.polluted=yes',
      );
      assert.equal(rudder.statusCode, 200, rudder.body);
      const stored = await storedMessage(t, 'px-r1');
      assert.equal(stored['type'], 'page');
      assert.equal(stored['anonymousId'], 'anon-9');
      assert.equal(stored['name'], 'Pricing');
      const context = stored['context'] as Record<string, Record<string, unknown>>;
      assert.equal(context['library']?.['name'], 'Rudderstack AMP SDK');
      assert.equal(context['page']?.['url'], 'https://a.example/p');
      const properties = stored['properties'] as Record<string, unknown>;
      assert.equal(properties['plan'], 'pro');
      // A "__proto__" path is plain data, kept as a key; nothing's prototype changed.
      assert.deepEqual(Object.getOwnPropertyDescriptor(properties, '__proto__')?.value, { polluted: 'yes' });
      assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
      const segment = await get(
        t,
        `/v1/pixel/track?userId=user_123&event=Email%20Opened&properties.subject=Hi&messageId=px-s1&writeKey=${t.writeKey}`,
      );
      assert.equal(segment.statusCode, 200, segment.body);
      assert.deepEqual((await storedMessage(t, 'px-s1'))['properties'], { subject: 'Hi' });
    });
  });

  it('refuses a bad pixel with a 4xx error, storing nothing', async () => {
    await app(async (t) => {
      const cases: [string, number, string][] = [
        [`/v1/pixel/track?data=${b64([1, 2])}`, 400, 'request.invalid_body'],
        ['/v1/pixel/track?data=%7Bnot-json', 400, 'request.invalid_body'],
        [`/v1/pixel/track?data=${b64({ writeKey: t.writeKey, userId: 'u' })}`, 400, 'ingest.missing_field'],
        [
          `/v1/pixel/track?data=${b64({ writeKey: 'wk_nope', userId: 'u', event: 'E' })}`,
          401,
          'auth.invalid_write_key',
        ],
        [`/v1/pixel/track?writeKey=${t.writeKey}&userId=u&event=E&a..b=1`, 400, 'request.invalid_body'],
        [`/v1/pixel/batch?writeKey=${t.writeKey}&userId=u`, 404, 'request.not_found'],
        [`/pixel/v1/page?writeKey=${t.writeKey}`, 400, 'ingest.missing_identity'],
      ];
      for (const [url, status, code] of cases) {
        const res = await get(t, url);
        assert.equal(res.statusCode, status, `${url}: ${res.body}`);
        assert.equal(res.json().error.code, code, url);
      }
      assert.deepEqual(await allEvents(t), []);
    });
  });

  it("merges a batch's integrations into each item's (the item's keys win), as Segment does", async () => {
    await app(async (t) => {
      await sendOk(t, 'batch', {
        integrations: { All: false, Webhook: true },
        context: { app: { name: 'A' } },
        batch: [
          { type: 'track', userId: 'u', event: 'E', messageId: 'int-1', integrations: {} },
          { type: 'track', userId: 'u', event: 'E', messageId: 'int-2', integrations: { Amplitude: true } },
          { type: 'track', userId: 'u', event: 'E', messageId: 'int-3', integrations: { Webhook: false } },
          { type: 'track', userId: 'u', event: 'E', messageId: 'int-4' },
          { type: 'track', userId: 'u', event: 'E', messageId: 'int-5', integrations: null },
        ],
      });
      const integrations = async (id: string) => (await storedMessage(t, id))['integrations'];
      assert.deepEqual(await integrations('int-1'), { All: false, Webhook: true });
      assert.deepEqual(await integrations('int-2'), { All: false, Webhook: true, Amplitude: true });
      assert.deepEqual(await integrations('int-3'), { All: false, Webhook: false });
      assert.deepEqual(await integrations('int-4'), { All: false, Webhook: true });
      assert.deepEqual(await integrations('int-5'), { All: false, Webhook: true });
      // Without a batch-level value an item's own is stored as sent.
      await sendOk(t, 'batch', {
        batch: [{ type: 'track', userId: 'u', event: 'E', messageId: 'int-6', integrations: {} }],
      });
      assert.deepEqual(await integrations('int-6'), {});
    });
  });

  it('refuses a batch whose own context or integrations is not an object, storing nothing', async () => {
    await app(async (t) => {
      const item = { type: 'track', userId: 'x', event: 'E' };
      for (const extra of [
        { context: 'oops' },
        { integrations: [1] },
        { context: 3 },
        { integrations: 'All' },
      ]) {
        const res = await send(t, 'batch', { batch: [item], ...extra });
        assert.equal(res.statusCode, 400, res.body);
        assert.equal(res.json().error.code, 'ingest.invalid_field');
        assert.match(res.json().error.message, /context|integrations/);
      }
      // null at the top counts as absent, like null inside an item.
      await sendOk(t, 'batch', {
        batch: [{ ...item, messageId: 'ctx-null' }],
        context: null,
        integrations: null,
      });
      assert.deepEqual(
        (await allEvents(t)).map((m) => m['messageId']),
        ['ctx-null'],
      );
    });
  });
});
