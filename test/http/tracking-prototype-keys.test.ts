import assert from 'node:assert/strict';
import { it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { sendOk, sharedStore, storedMessage, withApp, type Message } from '../support/http-helpers.ts';
import { describeEachStore } from '../support/stores.ts';

// "__proto__", "constructor" and "prototype" are ordinary keys in client data: stored and shown
// back as data, never changing any object's prototype. Bodies are raw JSON text, since a JS object
// literal with "__proto__" would not carry the key.

const DANGEROUS =
  '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"prototype":{"polluted":true}}';

/** The own data property `key` of `value` (never the prototype chain). */
function own(value: unknown, key: string): unknown {
  assert.ok(typeof value === 'object' && value !== null, `not an object: ${JSON.stringify(value)}`);
  assert.ok(Object.hasOwn(value, key), `"${key}" is not an own key of ${JSON.stringify(value)}`);
  return Object.getOwnPropertyDescriptor(value, key)?.value;
}

function assertDangerousKeysKept(container: unknown): void {
  assert.deepEqual(own(container, '__proto__'), { polluted: true });
  assert.deepEqual(own(container, 'constructor'), { prototype: { polluted: true } });
  assert.deepEqual(own(container, 'prototype'), { polluted: true });
  assert.equal(Object.getPrototypeOf(container), Object.prototype);
}

function assertNothingPolluted(): void {
  const probe: Record<string, unknown> = {};
  assert.equal(probe['polluted'], undefined);
  assert.equal((Object.prototype as Record<string, unknown>)['polluted'], undefined);
  assert.equal(({} as { constructor: unknown }).constructor, Object);
  assert.equal(Object.prototype.toString.call({}), '[object Object]');
}

describeEachStore('tracking API prototype keys', (fixture) => {
  const store = sharedStore(fixture);

  it('keeps __proto__/constructor/prototype in properties, traits and context as data', async () => {
    await withApp(await store(), {}, async (t) => {
      const headers = { 'content-type': 'application/json' };
      await sendOk(t, 'track', `{"userId":"u","event":"E","messageId":"p-1","properties":${DANGEROUS}}`, {
        headers,
      });
      await sendOk(t, 'identify', `{"userId":"u","messageId":"p-2","traits":${DANGEROUS}}`, { headers });
      await sendOk(t, 'page', `{"userId":"u","messageId":"p-3","context":${DANGEROUS}}`, { headers });
      await sendOk(t, 'group', `{"userId":"u","groupId":"g","messageId":"p-4","traits":${DANGEROUS}}`, {
        headers,
      });
      assertDangerousKeysKept((await storedMessage(t, 'p-1'))['properties']);
      assertDangerousKeysKept((await storedMessage(t, 'p-2'))['traits']);
      const context = (await storedMessage(t, 'p-3'))['context'];
      assertDangerousKeysKept(context);
      assert.equal(own(context, 'ip'), '127.0.0.1');
      assertDangerousKeysKept((await storedMessage(t, 'p-4'))['traits']);
      assertNothingPolluted();
    });
  });

  it('keeps them at the top level of a message and deep inside nested data', async () => {
    await withApp(await store(), {}, async (t) => {
      const nested = `{"a":[{"b":${DANGEROUS}}]}`;
      const body = `{"__proto__":{"polluted":true},"constructor":{"polluted":true},"userId":"u","event":"E","messageId":"p-5","properties":${nested}}`;
      await sendOk(t, 'track', body);
      const stored = await storedMessage(t, 'p-5');
      assert.deepEqual(own(stored, '__proto__'), { polluted: true });
      assert.deepEqual(own(stored, 'constructor'), { polluted: true });
      const deep = (own(stored, 'properties') as { a: Message[] }).a[0]?.['b'];
      assertDangerousKeysKept(deep);
      assertNothingPolluted();
    });
  });

  it('keeps them in batches: top level, batch context and items, also gzipped', async () => {
    await withApp(await store(), {}, async (t) => {
      const items = [
        `{"type":"track","userId":"u","event":"E","messageId":"p-6","__proto__":{"polluted":true},"properties":${DANGEROUS}}`,
        `{"type":"identify","userId":"u","messageId":"p-7","traits":${DANGEROUS},"context":{"__proto__":{"ip":"6.6.6.6"}}}`,
      ];
      const body = `{"__proto__":{"polluted":true},"context":${DANGEROUS},"batch":[${items.join(',')}]}`;
      await sendOk(t, 'batch', gzipSync(body), { headers: { 'content-encoding': 'gzip' } });
      const first = await storedMessage(t, 'p-6');
      assert.deepEqual(own(first, '__proto__'), { polluted: true });
      assertDangerousKeysKept(first['properties']);
      assertDangerousKeysKept(first['context']);
      const second = await storedMessage(t, 'p-7');
      assertDangerousKeysKept(second['traits']);
      const context = second['context'];
      assert.deepEqual(own(context, '__proto__'), { ip: '6.6.6.6' });
      assert.equal(
        own(context, 'ip'),
        '127.0.0.1',
        'an ip hidden behind __proto__ must not count as context.ip',
      );
      assertNothingPolluted();
    });
  });

  it('does not pollute through the admin API either', async () => {
    await withApp(await store(), {}, async (t) => {
      const res = await t.app.http.inject({
        method: 'POST',
        url: `/api/v1/workspaces/${t.workspace.slug}/sources`,
        headers: { ...t.adminHeaders, 'content-type': 'application/json' },
        payload:
          '{"name":"proto","type":"http","__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}',
      });
      assert.ok(res.statusCode === 201 || res.statusCode === 400, res.body);
      assertNothingPolluted();
    });
  });
});
