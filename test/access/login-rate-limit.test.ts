import assert from 'node:assert/strict';
import { it } from 'node:test';
import { GOOD_PASSWORD, login, memberUser, uniqueEmail } from '../support/console-users.ts';
import { admin, expectError, withApp } from '../support/http-helpers.ts';
import { describeEachStore } from '../support/stores.ts';
import { createManualClock, createTestApp } from '../support/test-app.ts';

const START = Date.UTC(2026, 5, 1, 8);
const WRONG = 'not the right password';

describeEachStore('sign-in rate limit and account enumeration', (fixture) => {
  it('locks account+IP after 5 failures (429, Retry-After), doubling; other IPs still sign in', async () => {
    const clock = createManualClock(START);
    const { store } = await fixture.fresh();
    await withApp(store, { clock }, async (t) => {
      const user = await memberUser(t, 'viewer');
      const from = (remoteAddress: string, password = WRONG) =>
        login(t, user.email, password, { remoteAddress });
      for (let i = 0; i < 5; i++) expectError(await from('198.51.100.1'), 401, 'auth.invalid_credentials');
      const locked = await from('198.51.100.1', GOOD_PASSWORD);
      expectError(locked, 429, 'auth.too_many_attempts');
      assert.equal(locked.headers['retry-after'], '60', 'even the right password waits');
      assert.equal((await from('198.51.100.2', GOOD_PASSWORD)).statusCode, 200, 'another IP is not locked');

      clock.advance(61_000);
      for (let i = 0; i < 5; i++) expectError(await from('198.51.100.1'), 401);
      assert.equal(
        (await from('198.51.100.1', GOOD_PASSWORD)).headers['retry-after'],
        '120',
        'twice as long',
      );
      clock.advance(121_000);
      assert.equal((await from('198.51.100.1', GOOD_PASSWORD)).statusCode, 200, 'the lockout ended');
    });
  });

  it('answers an unknown address, a wrong password and a disabled user alike, in similar time', async () => {
    const { store } = await fixture.fresh();
    await withApp(store, {}, async (t) => {
      const user = await memberUser(t, 'viewer');
      const disabled = await memberUser(t, 'viewer');
      await t.app.services.users.update(disabled.id, { disabled: true });
      const answers = [
        await login(t, user.email, WRONG, { remoteAddress: '203.0.113.1' }),
        await login(t, uniqueEmail('nobody'), WRONG, { remoteAddress: '203.0.113.2' }),
        await login(t, disabled.email, GOOD_PASSWORD, { remoteAddress: '203.0.113.3' }),
        await login(t, 'not-even-an-address', WRONG, { remoteAddress: '203.0.113.4' }),
      ];
      for (const answer of answers) {
        expectError(answer, 401, 'auth.invalid_credentials');
        assert.deepEqual(answer.json(), answers[0]?.json());
      }

      // A password hash is verified for unknown addresses too: no timing shortcut.
      // Alternating the two kinds, so that a busy machine slows both alike.
      const knownTimes: number[] = [];
      const unknownTimes: number[] = [];
      const timed = async (email: string, address: string): Promise<number> => {
        const started = performance.now();
        await login(t, email, WRONG, { remoteAddress: address });
        return performance.now() - started;
      };
      for (let i = 0; i < 7; i++) {
        knownTimes.push(await timed(user.email, `192.0.2.${10 + i}`));
        unknownTimes.push(await timed(uniqueEmail('ghost'), `192.0.2.${30 + i}`));
      }
      const median = (times: number[]): number => times.sort((a, b) => a - b)[3] ?? 0;
      const known = median(knownTimes);
      const unknown = median(unknownTimes);
      assert.ok(unknown > known * 0.5, `unknown ${unknown.toFixed(1)} ms vs known ${known.toFixed(1)} ms`);
    });
  });

  it('rate-limits unknown addresses like known ones, and one IP trying many accounts', async () => {
    const { store } = await fixture.fresh();
    await withApp(store, {}, async (t) => {
      const ghost = uniqueEmail('ghost');
      for (let i = 0; i < 5; i++) await login(t, ghost, WRONG, { remoteAddress: '203.0.113.50' });
      expectError(
        await login(t, ghost, WRONG, { remoteAddress: '203.0.113.50' }),
        429,
        'auth.too_many_attempts',
      );

      const user = await memberUser(t, 'viewer');
      for (let i = 0; i < 50; i++)
        await login(t, uniqueEmail('spray'), WRONG, { remoteAddress: '203.0.113.60' });
      const sprayed = await login(t, user.email, GOOD_PASSWORD, { remoteAddress: '203.0.113.60' });
      expectError(sprayed, 429, 'auth.too_many_attempts');
      assert.equal(sprayed.headers['retry-after'], '900');
    });
  });

  it('counts failures in the store: API processes of a scaled-out instance share them', async () => {
    const handle = await fixture.fresh();
    const second = await handle.reopen();
    const a = await createTestApp(handle.store);
    const b = await createTestApp(second);
    try {
      const user = await memberUser(a, 'viewer');
      // Many IPs against one account: the account counter (20 in 15 minutes) spans both processes.
      for (let i = 0; i < 20; i++) {
        const app = i % 2 === 0 ? a : b;
        expectError(await login(app, user.email, WRONG, { remoteAddress: `198.18.0.${i + 1}` }), 401);
      }
      for (const app of [a, b]) {
        const refused = await login(app, user.email, GOOD_PASSWORD, { remoteAddress: '198.18.1.1' });
        expectError(refused, 429, 'auth.too_many_attempts');
      }
      const audit = await admin(a, 'GET', '/api/v1/audit-log?limit=500');
      const failures = audit
        .json<{ items: { action: string; target: string }[] }>()
        .items.filter((e) => e.action === 'auth login failed');
      assert.equal(failures.length, 20);
      assert.ok(failures.every((e) => e.target === JSON.stringify({ userId: user.id })));
      assert.ok(
        !audit.body.includes(WRONG) && !audit.body.includes(user.email),
        'no password or address logged',
      );
    } finally {
      await a.close();
      await b.close();
      await second.close();
    }
  });
});
