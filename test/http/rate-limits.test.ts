import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config/config.ts';
import { RateLimiter } from '../../src/governance/rate-limiter.ts';
import { createSqliteStore } from '../../src/storage/sqlite/sqlite-store.ts';
import { admin, expectError, send, stats, uniqueId, withApp, wsUrl } from '../support/http-helpers.ts';
import { basicAuth } from '../support/test-app.ts';
import { memberUser, signIn } from '../support/console-users.ts';

describe('rate limits', () => {
  it('token buckets: a burst, then the sustained rate, with the wait until the next token', () => {
    const limiter = new RateLimiter({ ratePerSecond: 10, burst: 20 });
    for (let i = 0; i < 20; i++) assert.deepEqual(limiter.take('k', 0), { ok: true });
    assert.deepEqual(limiter.take('k', 0), { ok: false, retryAfterMs: 100 });
    assert.deepEqual(limiter.take('other', 0), { ok: true }, 'keys have their own buckets');
    assert.deepEqual(limiter.take('k', 100), { ok: true }, 'one token back after 100 ms');
    assert.equal(limiter.take('k', 100).ok, false);
    for (let i = 0; i < 20; i++)
      assert.equal(limiter.take('k', 10_000).ok, true, 'full again after a quiet time');
    const off = new RateLimiter({ ratePerSecond: 0, burst: 0 });
    for (let i = 0; i < 1000; i++) assert.equal(off.take('k', 0).ok, true);
    assert.equal(off.enabled, false);
  });

  it('are read from the environment, and a wrong value names its variable', () => {
    const config = parseConfig({ CDP_RATE_LIMIT_INGEST: '50', CDP_RATE_LIMIT_API: '0' });
    assert.deepEqual([config.rateLimitIngest, config.rateLimitApi], [50, 0]);
    assert.deepEqual([parseConfig({}).rateLimitIngest, parseConfig({}).rateLimitApi], [1000, 100]);
    assert.throws(() => parseConfig({ CDP_RATE_LIMIT_API: 'fast' }), /CDP_RATE_LIMIT_API/);
  });

  it('per write key: 429 with Retry-After beyond the burst, nothing stored; other keys unaffected', async () => {
    const store = createSqliteStore({ filename: ':memory:' });
    await store.migrate();
    try {
      await withApp(store, { env: { CDP_RATE_LIMIT_INGEST: '1', CDP_INGEST_WORKERS: '0' } }, async (t) => {
        const other = await t.app.services.sources.create(t.workspace.id, { name: 'second', type: 'http' });
        const track = () => ({ userId: 'u1', event: 'Clicked', messageId: uniqueId('rl') });
        // 1 request per second, 2 at once: a quick series is refused by its third or fourth request
        // (requests take tens of milliseconds here, so at most a fraction of a token comes back).
        await send(t, 'track', track());
        await new Promise((resolve) => setTimeout(resolve, 2_100));
        let before = (await stats(t)).events;
        let refused = await send(t, 'track', track());
        for (let i = 0; i < 4 && refused.statusCode === 200; i++) {
          before = (await stats(t)).events;
          refused = await send(t, 'track', track());
        }
        expectError(refused, 429, 'ingest.rate_limited');
        assert.ok(Number(refused.headers['retry-after']) >= 1);
        assert.equal(refused.headers['x-ratelimit-reset'], refused.headers['retry-after']);
        // A key in the body is limited the same way.
        const inBody = await send(t, 'track', { ...track(), writeKey: t.writeKey }, { auth: null });
        expectError(inBody, 429, 'ingest.rate_limited');
        assert.equal((await stats(t)).events, before, 'a refused request stores nothing');
        const otherKey = await send(t, 'track', track(), { auth: basicAuth(other.writeKey).authorization });
        assert.equal(otherKey.statusCode, 200, otherKey.body);
        await new Promise((resolve) => setTimeout(resolve, 1_100));
        assert.equal((await send(t, 'track', track())).statusCode, 200, 'tokens come back at 1 per second');
      });
    } finally {
      await store.close();
    }
  });

  it('per API token and per console user: 429 api.rate_limited beyond the burst; other tokens unaffected', async () => {
    const store = createSqliteStore({ filename: ':memory:' });
    await store.migrate();
    try {
      // One request a second, bursts of two: slow enough that a loaded machine cannot refill the
      // bucket between the requests of the test, whatever its speed.
      await withApp(store, { env: { CDP_RATE_LIMIT_API: '1' } }, async (t) => {
        const analyst = (await t.app.services.tokens.create(t.workspace.id, { name: 'a', role: 'analyst' }))
          .secret;
        const asAnalyst = { authorization: `Bearer ${analyst}` };
        for (let i = 0; i < 2; i++)
          assert.equal((await admin(t, 'GET', wsUrl(t, '/stats'), undefined, asAnalyst)).statusCode, 200);
        let refused = await admin(t, 'GET', wsUrl(t, '/stats'), undefined, asAnalyst);
        for (let i = 0; i < 10 && refused.statusCode === 200; i++)
          refused = await admin(t, 'GET', wsUrl(t, '/stats'), undefined, asAnalyst);
        expectError(refused, 429, 'api.rate_limited');
        assert.ok(Number(refused.headers['retry-after']) >= 1);
        assert.equal(
          (await admin(t, 'GET', wsUrl(t, '/stats'))).statusCode,
          200,
          'the admin token has its own budget',
        );
        // A signed-in console user has a budget of their own, whatever their sessions.
        const user = await memberUser(t, 'viewer');
        const session = (await signIn(t, user.email)).headers;
        let last = await admin(t, 'GET', wsUrl(t, '/stats'), undefined, session);
        for (let i = 0; i < 12 && last.statusCode === 200; i++)
          last = await admin(t, 'GET', wsUrl(t, '/stats'), undefined, session);
        expectError(last, 429, 'api.rate_limited');
      });
    } finally {
      await store.close();
    }
  });
});
