import assert from 'node:assert/strict';
import { it } from 'node:test';
import { gzipSync } from 'node:zlib';
import {
  allEvents,
  send,
  sendOk,
  sharedStore,
  stats,
  storedMessage,
  withApp,
} from '../support/http-helpers.ts';
import { describeEachStore } from '../support/stores.ts';
import type { TestApp } from '../support/test-app.ts';

// How SDKs reach the Tracking API: the ways to pass the write key, compressed bodies, the content
// types browsers use for beacons, and CORS preflights.

const basic = (credentials: string): string => `Basic ${Buffer.from(credentials).toString('base64')}`;
const track = (messageId: string): Record<string, unknown> => ({
  userId: 'u',
  event: 'Transport',
  messageId,
});

describeEachStore('tracking API transport', (fixture) => {
  const store = sharedStore(fixture);
  const app = async (fn: (t: TestApp) => Promise<void>): Promise<void> => withApp(await store(), {}, fn);

  it('authenticates with every way Segment SDKs send the write key', async () => {
    await app(async (t) => {
      const ways: [string, () => Promise<void>][] = [
        ['Basic "key:"', () => sendOk(t, 'track', track('auth-1'), { auth: basic(`${t.writeKey}:`) })],
        ['Basic "key" without colon', () => sendOk(t, 'track', track('auth-2'), { auth: basic(t.writeKey) })],
        [
          'lower-case scheme',
          () => sendOk(t, 'track', track('auth-3'), { auth: `basic ${basic(`${t.writeKey}:`).slice(6)}` }),
        ],
        [
          'writeKey in the body',
          () => sendOk(t, 'track', { ...track('auth-4'), writeKey: t.writeKey }, { auth: null }),
        ],
        [
          'writeKey at the top of a batch',
          () =>
            sendOk(
              t,
              'batch',
              { writeKey: t.writeKey, batch: [{ type: 'track', ...track('auth-5') }] },
              { auth: null },
            ),
        ],
        [
          'writeKey in the first batch item',
          () =>
            sendOk(
              t,
              'batch',
              {
                batch: [
                  { type: 'track', ...track('auth-6'), writeKey: t.writeKey },
                  { type: 'track', ...track('auth-7') },
                ],
              },
              { auth: null },
            ),
        ],
      ];
      for (const [name, attempt] of ways) {
        await attempt().catch((error: unknown) => assert.fail(`${name}: ${String(error)}`));
      }
      const ids = (await allEvents(t)).map((m) => m['messageId']).sort();
      assert.deepEqual(ids, ['auth-1', 'auth-2', 'auth-3', 'auth-4', 'auth-5', 'auth-6', 'auth-7']);
    });
  });

  it('accepts gzip bodies on single calls and batches', async () => {
    await app(async (t) => {
      const gzipped = (value: unknown): Buffer => gzipSync(Buffer.from(JSON.stringify(value)));
      const headers = { 'content-type': 'application/json', 'content-encoding': 'gzip' };
      await sendOk(t, 'track', gzipped(track('gz-1')), { headers });
      const batch = {
        batch: Array.from({ length: 50 }, (_, i) => ({ type: 'track', ...track(`gz-b-${i}`) })),
      };
      await sendOk(t, 'batch', gzipped(batch), { headers });
      await sendOk(t, 'identify', gzipped({ userId: 'u', messageId: 'gz-2' }), {
        headers: { ...headers, 'content-encoding': 'x-gzip' },
      });
      assert.equal((await storedMessage(t, 'gz-1'))['event'], 'Transport');
      assert.equal((await stats(t)).events, 52);
    });
  });

  it('accepts text/plain (browser beacons), no content type, and JSON with a charset', async () => {
    await app(async (t) => {
      const text = (id: string): string => JSON.stringify(track(id));
      await sendOk(t, 'track', text('ct-1'), { headers: { 'content-type': 'text/plain;charset=UTF-8' } });
      await sendOk(t, 'track', text('ct-2'));
      await sendOk(t, 'track', text('ct-3'), {
        headers: { 'content-type': 'application/json; charset=utf-8' },
      });
      const beacon = JSON.stringify({ writeKey: t.writeKey, batch: [{ type: 'track', ...track('ct-4') }] });
      await sendOk(t, 'batch', beacon, { auth: null, headers: { 'content-type': 'text/plain' } });
      const ids = (await allEvents(t)).map((m) => m['messageId']).sort();
      assert.deepEqual(ids, ['ct-1', 'ct-2', 'ct-3', 'ct-4']);
    });
  });

  for (const route of ['track', 'identify', 'page', 'screen', 'group', 'alias', 'batch']) {
    it(`answers the CORS preflight of /v1/${route} with 204 and Access-Control headers`, async () => {
      await app(async (t) => {
        const res = await t.app.http.inject({
          method: 'OPTIONS',
          url: `/v1/${route}`,
          headers: {
            origin: 'https://shop.example',
            'access-control-request-method': 'POST',
            'access-control-request-headers': 'content-type, authorization',
          },
        });
        assert.equal(res.statusCode, 204, res.body);
        const allowOrigin = res.headers['access-control-allow-origin'];
        assert.ok(
          allowOrigin === 'https://shop.example' || allowOrigin === '*',
          `allow-origin ${allowOrigin}`,
        );
        assert.match(String(res.headers['access-control-allow-methods']), /\bPOST\b/);
        const allowHeaders = String(res.headers['access-control-allow-headers']).toLowerCase();
        for (const header of ['content-type', 'authorization'])
          assert.ok(allowHeaders.includes(header), allowHeaders);
        assert.equal(res.body, '');
      });
    });
  }

  it('sends Access-Control-Allow-Origin on ingestion answers, also on errors', async () => {
    await app(async (t) => {
      const origin = { origin: 'https://shop.example' };
      const ok = await send(t, 'track', track('cors-1'), { headers: origin });
      assert.equal(ok.statusCode, 200);
      assert.ok(ok.headers['access-control-allow-origin'] !== undefined);
      const denied = await send(t, 'track', track('cors-2'), { auth: basic('wk_nope:'), headers: origin });
      assert.equal(denied.statusCode, 401);
      assert.ok(denied.headers['access-control-allow-origin'] !== undefined);
    });
  });

  it('answers 200 {"success":true} as JSON on every call type', async () => {
    await app(async (t) => {
      const res = await send(t, 'page', { anonymousId: 'a', messageId: 'json-1' });
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['content-type']), /^application\/json/);
      assert.deepEqual(res.json(), { success: true });
    });
  });
});
