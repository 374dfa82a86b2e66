import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { admin, expectError, send, sendOk, stats, wsUrl } from '../support/http-helpers.ts';
import { describeEachStore } from '../support/stores.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';

// Write keys: a wrong, empty, rotated-away or disabled key answers 401 and stores nothing.

const basic = (credentials: string): string => `Basic ${Buffer.from(credentials).toString('base64')}`;
const event = (messageId: string): Record<string, unknown> => ({ userId: 'u', event: 'Auth', messageId });

describeEachStore('tracking API write keys', (fixture) => {
  describe('on one running app', () => {
    let t: TestApp;
    before(async () => {
      t = await createTestApp((await fixture.fresh()).store);
    });
    after(async () => t.close());

    const unauthorized: [string, () => { body: unknown; auth: string | null; route?: string }][] = [
      ['no key at all', () => ({ body: event('a-1'), auth: null })],
      [
        'a wrong key in Basic auth',
        () => ({ body: event('a-2'), auth: basic('wk_000000000000000000000000000000:') }),
      ],
      ['a key that is not a write key', () => ({ body: event('a-3'), auth: basic('hello:') })],
      ['empty Basic auth (":")', () => ({ body: event('a-4'), auth: basic(':') })],
      ['empty Basic auth (nothing)', () => ({ body: event('a-5'), auth: 'Basic ' })],
      ['Basic auth that is not base64', () => ({ body: event('a-6'), auth: 'Basic !!!***' })],
      ['the key as the password only', () => ({ body: event('a-7'), auth: basic(`:${t.writeKey}`) })],
      ['a Bearer header with the write key', () => ({ body: event('a-8'), auth: `Bearer ${t.writeKey}` })],
      [
        'a wrong writeKey in the body',
        () => ({ body: { ...event('a-9'), writeKey: 'wk_nope' }, auth: null }),
      ],
      ['a writeKey that is not a string', () => ({ body: { ...event('a-10'), writeKey: 42 }, auth: null })],
      [
        'a wrong key with a valid one in a batch body',
        () => ({
          body: { writeKey: t.writeKey, batch: [{ type: 'track', ...event('a-11') }] },
          auth: basic('wk_wrong:'),
          route: 'batch',
        }),
      ],
    ];

    for (const [name, build] of unauthorized) {
      it(`${name} → 401`, async () => {
        const before = (await stats(t)).events;
        const { body, auth, route } = build();
        expectError(await send(t, route ?? 'track', body, { auth }), 401, 'auth.invalid_write_key');
        assert.equal((await stats(t)).events, before);
      });
    }

    it('a wrong key is refused before the body is even read (bad body → still 401)', async () => {
      expectError(
        await send(t, 'track', '{not json', { auth: basic('wk_wrong:') }),
        401,
        'auth.invalid_write_key',
      );
    });

    it('a rotated key answers 401 at once; the new key works', async () => {
      const created = await admin(t, 'POST', wsUrl(t, '/sources'), { name: 'rotating', type: 'http' });
      assert.equal(created.statusCode, 201, created.body);
      const { id, writeKey: oldKey } = created.json<{ id: string; writeKey: string }>();
      await sendOk(t, 'track', event('rot-1'), { auth: basic(`${oldKey}:`) });
      const rotated = await admin(t, 'POST', wsUrl(t, `/sources/${id}/rotate-key`));
      assert.equal(rotated.statusCode, 200, rotated.body);
      const newKey = rotated.json<{ writeKey: string }>().writeKey;
      assert.notEqual(newKey, oldKey);
      const before = (await stats(t)).events;
      expectError(
        await send(t, 'track', event('rot-2'), { auth: basic(`${oldKey}:`) }),
        401,
        'auth.invalid_write_key',
      );
      expectError(await send(t, 'track', { ...event('rot-3'), writeKey: oldKey }, { auth: null }), 401);
      assert.equal((await stats(t)).events, before);
      await sendOk(t, 'track', event('rot-4'), { auth: basic(`${newKey}:`) });
      await sendOk(t, 'track', { ...event('rot-5'), writeKey: newKey }, { auth: null });
      assert.equal((await stats(t)).events, before + 2);
    });

    it('a disabled source answers 401 at once, and works again when re-enabled', async () => {
      const created = await admin(t, 'POST', wsUrl(t, '/sources'), { name: 'toggled', type: 'http' });
      const { id, writeKey } = created.json<{ id: string; writeKey: string }>();
      const auth = basic(`${writeKey}:`);
      await sendOk(t, 'track', event('dis-1'), { auth });
      const disabled = await admin(t, 'PATCH', wsUrl(t, `/sources/${id}`), { enabled: false });
      assert.equal(disabled.statusCode, 200, disabled.body);
      assert.equal(disabled.json<{ enabled: boolean }>().enabled, false);
      const before = (await stats(t)).events;
      expectError(await send(t, 'track', event('dis-2'), { auth }), 401, 'auth.invalid_write_key');
      expectError(
        await send(t, 'batch', { writeKey, batch: [{ type: 'track', ...event('dis-3') }] }, { auth: null }),
        401,
      );
      assert.equal((await stats(t)).events, before);
      const enabled = await admin(t, 'PATCH', wsUrl(t, `/sources/${id}`), { enabled: true });
      assert.equal(enabled.json<{ enabled: boolean }>().enabled, true);
      await sendOk(t, 'track', event('dis-4'), { auth });
    });

    it('one source being disabled does not affect the other sources of the workspace', async () => {
      const created = await admin(t, 'POST', wsUrl(t, '/sources'), { name: 'other', type: 'http' });
      const { id } = created.json<{ id: string }>();
      await admin(t, 'PATCH', wsUrl(t, `/sources/${id}`), { enabled: false });
      await sendOk(t, 'track', event('other-1'));
    });

    it('still answers /health 200', async () => {
      const res = await t.app.http.inject({ method: 'GET', url: '/health' });
      assert.deepEqual([res.statusCode, res.json()], [200, { status: 'ok' }]);
    });
  });
});
