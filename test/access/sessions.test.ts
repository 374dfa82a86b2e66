import assert from 'node:assert/strict';
import { it } from 'node:test';
import { csrfTokenFor } from '../../src/access/csrf.ts';
import { GOOD_PASSWORD, login, memberUser, setCookieOf, signIn } from '../support/console-users.ts';
import { admin, expectError, sharedStore, withApp, wsUrl } from '../support/http-helpers.ts';
import { describeEachStore } from '../support/stores.ts';
import { createManualClock } from '../support/test-app.ts';

const MINUTE = 60_000;
const START = Date.UTC(2026, 5, 1, 8);

describeEachStore('console sessions', (fixture) => {
  const store = sharedStore(fixture);

  it('signs in with a HttpOnly SameSite=Strict cookie, serves the session, and signs out', async () => {
    await withApp(await store(), {}, async (t) => {
      const user = await memberUser(t, 'analyst');
      const session = await signIn(t, user.email.toUpperCase());
      const cookie = setCookieOf(session.response);
      assert.equal(cookie.name, 'cdp_session', 'plain HTTP on localhost: no __Host- prefix');
      assert.match(cookie.value, /^[A-Za-z0-9_-]{43}$/, '256 random bits');
      assert.match(cookie.raw, /; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/);
      assert.doesNotMatch(cookie.raw, /Secure|Domain/);
      assert.equal(session.response.headers['cache-control'], 'no-store');
      const body = session.response.json<{
        user: { email: string };
        workspaces: { slug: string; role: string; permissions: string[] }[];
      }>();
      assert.equal(body.user.email, user.email);
      assert.deepEqual(
        body.workspaces.map((w) => [w.slug, w.role, w.permissions]),
        [[t.workspace.slug, 'analyst', ['workspace.read', 'segments.read', 'destinations.read']]],
      );

      const current = await admin(t, 'GET', '/api/v1/session', undefined, { cookie: session.headers.cookie });
      assert.equal(current.statusCode, 200, current.body);
      assert.equal(current.json<{ csrfToken: string }>().csrfToken, session.csrfToken);
      assert.equal((await admin(t, 'GET', wsUrl(t), undefined, session.headers)).statusCode, 200);
      expectError(
        await admin(t, 'GET', wsUrl(t, '/tokens'), undefined, session.headers),
        403,
        'auth.forbidden',
      );

      const out = await admin(t, 'DELETE', '/api/v1/session', undefined, session.headers);
      assert.equal(out.statusCode, 204, out.body);
      assert.match(setCookieOf(out).raw, /^cdp_session=; Path=\/; HttpOnly; SameSite=Strict; Max-Age=0$/);
      expectError(await admin(t, 'GET', wsUrl(t), undefined, session.headers), 401, 'auth.session_expired');
      expectError(await admin(t, 'GET', '/api/v1/session'), 401);
      // Signing out twice is harmless.
      assert.equal((await admin(t, 'DELETE', '/api/v1/session', undefined, session.headers)).statusCode, 204);
    });
  });

  it('uses __Host-cdp_session with Secure over HTTPS, and refuses plain HTTP off localhost', async () => {
    await withApp(await store(), { env: { CDP_TRUST_PROXY: 'true' } }, async (t) => {
      const user = await memberUser(t, 'viewer');
      const https = { 'x-forwarded-proto': 'https', host: 'cdp.example.com' };
      const session = await signIn(t, user.email, GOOD_PASSWORD, { headers: https });
      const cookie = setCookieOf(session.response);
      assert.equal(cookie.name, '__Host-cdp_session');
      assert.match(cookie.raw, /; Path=\/; HttpOnly; SameSite=Strict; Secure; Max-Age=43200$/);
      assert.doesNotMatch(cookie.raw, /Domain/);
      const asHttps = { ...https, cookie: session.headers.cookie };
      assert.equal((await admin(t, 'GET', wsUrl(t), undefined, asHttps)).statusCode, 200);
      // Over HTTPS only the __Host- cookie counts: a plain cookie with the same value is ignored.
      const planted = { ...https, cookie: `cdp_session=${session.sessionId}` };
      expectError(await admin(t, 'GET', wsUrl(t), undefined, planted), 401, 'auth.missing_token');

      const plain = await login(t, user.email, GOOD_PASSWORD, { headers: { host: 'cdp.example.com' } });
      expectError(plain, 403, 'auth.https_required');
      assert.equal(plain.headers['set-cookie'], undefined);
    });
  });

  it('rotates the session id at every sign-in: a cookie held before is never reused', async () => {
    await withApp(await store(), {}, async (t) => {
      const user = await memberUser(t, 'viewer');
      const first = await signIn(t, user.email);
      const second = await signIn(t, user.email, GOOD_PASSWORD, {
        headers: { cookie: first.headers.cookie },
      });
      assert.notEqual(second.sessionId, first.sessionId);
      assert.notEqual(second.csrfToken, first.csrfToken);
      expectError(await admin(t, 'GET', wsUrl(t), undefined, first.headers), 401, 'auth.session_expired');
      assert.equal((await admin(t, 'GET', wsUrl(t), undefined, second.headers)).statusCode, 200);
      // A cookie planted before sign-in (session fixation) is replaced, never adopted.
      const planted = 'P'.repeat(43);
      const third = await signIn(t, user.email, GOOD_PASSWORD, {
        headers: { cookie: `cdp_session=${planted}` },
      });
      assert.notEqual(third.sessionId, planted);
      expectError(
        await admin(t, 'GET', wsUrl(t), undefined, { cookie: `cdp_session=${planted}` }),
        401,
        'auth.session_expired',
      );
    });
  });

  it('ends a session after 30 idle minutes, and after 12 hours however active', async () => {
    const clock = createManualClock(START);
    await withApp(await store(), { clock }, async (t) => {
      const user = await memberUser(t, 'viewer');
      const session = await signIn(t, user.email);
      const get = () => admin(t, 'GET', wsUrl(t), undefined, session.headers);
      clock.advance(29 * MINUTE);
      assert.equal((await get()).statusCode, 200, 'activity keeps it alive');
      clock.advance(29 * MINUTE);
      assert.equal((await get()).statusCode, 200);
      clock.advance(30 * MINUTE);
      expectError(await get(), 401, 'auth.session_expired');

      clock.set(START + 24 * 60 * MINUTE);
      const busy = await signIn(t, user.email);
      for (let minutes = 20; minutes < 12 * 60; minutes += 20) {
        clock.advance(20 * MINUTE);
        assert.equal(
          (await admin(t, 'GET', wsUrl(t), undefined, busy.headers)).statusCode,
          200,
          `${minutes} min`,
        );
      }
      clock.advance(20 * MINUTE);
      expectError(await admin(t, 'GET', wsUrl(t), undefined, busy.headers), 401, 'auth.session_expired');
    });
  });

  it("ends a disabled user's sessions at once, and applies role changes on the next request", async () => {
    await withApp(await store(), {}, async (t) => {
      const user = await memberUser(t, 'marketer');
      const session = await signIn(t, user.email);
      assert.equal((await admin(t, 'GET', wsUrl(t, '/events'), undefined, session.headers)).statusCode, 200);
      const demoted = await admin(t, 'PATCH', wsUrl(t, `/users/${user.id}`), { role: 'viewer' });
      assert.equal(demoted.statusCode, 200, demoted.body);
      expectError(
        await admin(t, 'GET', wsUrl(t, '/events'), undefined, session.headers),
        403,
        'auth.forbidden',
      );

      const disabled = await admin(t, 'PATCH', `/api/v1/users/${user.id}`, { disabled: true });
      assert.equal(disabled.statusCode, 200, disabled.body);
      assert.equal(disabled.json<{ disabled: boolean }>().disabled, true);
      expectError(await admin(t, 'GET', wsUrl(t), undefined, session.headers), 401, 'auth.session_expired');
      expectError(await login(t, user.email, GOOD_PASSWORD), 401, 'auth.invalid_credentials');

      assert.equal(
        (await admin(t, 'PATCH', `/api/v1/users/${user.id}`, { disabled: false })).statusCode,
        200,
      );
      const again = await signIn(t, user.email);
      const removed = await admin(t, 'DELETE', wsUrl(t, `/users/${user.id}`));
      assert.equal(removed.statusCode, 204, removed.body);
      expectError(await admin(t, 'GET', wsUrl(t), undefined, again.headers), 401, 'auth.session_expired');
    });
  });

  it('refuses cookie-authenticated writes without the CSRF token or from another site (403)', async () => {
    await withApp(await store(), {}, async (t) => {
      const user = await memberUser(t, 'admin');
      const session = await signIn(t, user.email);
      const create = (headers: Record<string, string>) =>
        admin(t, 'POST', wsUrl(t, '/sources'), { name: 'csrf', type: 'http' }, headers);
      const cookieOnly = { cookie: session.headers.cookie };
      expectError(await create(cookieOnly), 403, 'auth.csrf_failed');
      expectError(
        await create({ ...cookieOnly, 'x-csrf-token': csrfTokenFor('Q'.repeat(43)) }),
        403,
        'auth.csrf_failed',
      );
      expectError(
        await create({ ...session.headers, origin: 'https://evil.example' }),
        403,
        'auth.csrf_failed',
      );
      expectError(
        await create({ ...session.headers, 'sec-fetch-site': 'cross-site' }),
        403,
        'auth.csrf_failed',
      );
      expectError(
        await admin(t, 'DELETE', '/api/v1/session', undefined, cookieOnly),
        403,
        'auth.csrf_failed',
      );
      const sources = await admin(t, 'GET', wsUrl(t, '/sources'), undefined, cookieOnly);
      assert.equal(sources.statusCode, 200, 'reads need no token');
      assert.equal(sources.json<{ items: unknown[] }>().items.length, 1, 'nothing was created');

      const ok = await create({
        ...session.headers,
        origin: 'http://localhost:80',
        'sec-fetch-site': 'same-origin',
      });
      assert.equal(ok.statusCode, 201, ok.body);
      // A bearer token needs no CSRF token: browsers never send it on their own.
      assert.equal((await create(t.adminHeaders)).statusCode, 201);
      // Signing in from another site is refused too (login CSRF).
      expectError(
        await login(t, user.email, GOOD_PASSWORD, { headers: { origin: 'https://evil.example' } }),
        403,
        'auth.csrf_failed',
      );
    });
  });

  it("changes the user's own password: the current one is checked, other sessions end", async () => {
    await withApp(await store(), {}, async (t) => {
      const user = await memberUser(t, 'viewer');
      const here = await signIn(t, user.email);
      const elsewhere = await signIn(t, user.email);
      const change = (body: unknown) => admin(t, 'POST', '/api/v1/session/password', body, here.headers);
      expectError(
        await change({ currentPassword: 'not the password', newPassword: 'violet engine hums softly' }),
        401,
        'auth.invalid_credentials',
      );
      const weak = expectError(
        await change({ currentPassword: GOOD_PASSWORD, newPassword: 'password1234' }),
        400,
        'user.weak_password',
      );
      assert.equal(weak['reason'], 'too_common');
      assert.equal(
        (await change({ currentPassword: GOOD_PASSWORD, newPassword: 'violet engine hums softly' }))
          .statusCode,
        204,
      );
      assert.equal((await admin(t, 'GET', wsUrl(t), undefined, here.headers)).statusCode, 200);
      expectError(await admin(t, 'GET', wsUrl(t), undefined, elsewhere.headers), 401, 'auth.session_expired');
      expectError(await login(t, user.email, GOOD_PASSWORD), 401, 'auth.invalid_credentials');
      await signIn(t, user.email, 'violet engine hums softly');
    });
  });
});
