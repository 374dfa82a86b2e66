import assert from 'node:assert/strict';
import { it } from 'node:test';
import { runCdp, startServerProcess } from '../e2e/server-process.ts';
import { GOOD_PASSWORD, login, setCookieOf, uniqueEmail } from '../support/console-users.ts';
import { admin, expectError, withApp } from '../support/http-helpers.ts';
import { describeEachStore } from '../support/stores.ts';
import { TEST_ENCRYPTION_KEY } from '../support/test-app.ts';

function setup(t: Parameters<typeof admin>[0], body: Record<string, string>) {
  return t.app.http.inject({ method: 'POST', url: '/api/v1/setup', payload: body });
}

describeEachStore('the first owner', (fixture) => {
  it('is created once with the one-time setup code, which then stops working', async () => {
    const { store } = await fixture.fresh();
    await withApp(store, {}, async (t) => {
      const code = await t.app.services.setup.issueIfNeeded();
      assert.match(code ?? '', /^setup_[A-Za-z0-9_-]{32}$/);
      assert.deepEqual((await admin(t, 'GET', '/api/v1/setup', undefined, {})).json(), { needed: true });
      const email = uniqueEmail('first');
      expectError(
        await setup(t, { setupCode: 'setup_wrong', email, password: GOOD_PASSWORD }),
        403,
        'setup.invalid_code',
      );
      expectError(
        await setup(t, { setupCode: code ?? '', email, password: 'password1234' }),
        400,
        'user.weak_password',
      );
      const done = await setup(t, { setupCode: code ?? '', email, password: GOOD_PASSWORD });
      assert.equal(done.statusCode, 201, done.body);
      assert.equal(done.json<{ user: { instanceOwner: boolean } }>().user.instanceOwner, true);
      const cookie = setCookieOf(done);
      const headers = {
        cookie: `${cookie.name}=${cookie.value}`,
        'x-csrf-token': done.json<{ csrfToken: string }>().csrfToken,
      };
      const ws = await admin(t, 'POST', '/api/v1/workspaces', { name: 'First steps' }, headers);
      assert.equal(ws.statusCode, 201, ws.body);
      // The instance owner holds no grant, yet the session lists every workspace as theirs.
      const slugs = (await admin(t, 'GET', '/api/v1/workspaces')).json<{ items: { slug: string }[] }>().items;
      const session = await admin(t, 'GET', '/api/v1/session', undefined, headers);
      const listed = session.json<{ workspaces: { slug: string; role: string; permissions: string[] }[] }>();
      assert.deepEqual(listed.workspaces.map((w) => w.slug).sort(), slugs.map((w) => w.slug).sort());
      assert.ok(listed.workspaces.some((w) => w.slug === ws.json<{ slug: string }>().slug));
      for (const w of listed.workspaces) {
        assert.equal(w.role, 'owner');
        assert.ok(w.permissions.length > 0);
      }

      expectError(
        await setup(t, { setupCode: code ?? '', email: uniqueEmail(), password: GOOD_PASSWORD }),
        409,
        'setup.unavailable',
      );
      assert.deepEqual((await admin(t, 'GET', '/api/v1/setup', undefined, {})).json(), { needed: false });
      assert.equal(await t.app.services.setup.issueIfNeeded(), undefined, 'no code once a user exists');
      const log = (await admin(t, 'GET', '/api/v1/audit-log')).json<{ items: { action: string }[] }>().items;
      assert.deepEqual(
        log.map((e) => e.action).filter((a) => a.startsWith('auth setup')),
        ['auth setup code used', 'auth setup failed'],
      );
    });
  });

  it('is created by exactly one of several concurrent redemptions of the code', async () => {
    const { store } = await fixture.fresh();
    await withApp(store, {}, async (t) => {
      const code = (await t.app.services.setup.issueIfNeeded()) ?? '';
      const answers = await Promise.all(
        [1, 2, 3].map(() =>
          setup(t, { setupCode: code, email: uniqueEmail('racer'), password: GOOD_PASSWORD }),
        ),
      );
      assert.equal(
        answers.filter((a) => a.statusCode === 201).length,
        1,
        answers.map((a) => a.body).join('\n'),
      );
      assert.ok(answers.every((a) => [201, 403, 409].includes(a.statusCode)));
    });
  });

  it(
    'is created by `cdp user create --role owner` with the password on stdin, never argv',
    { timeout: 180_000 },
    async () => {
      const handle = await fixture.fresh();
      // The CLI and the app below must share the instance key (the first to run makes the key ring).
      const env = { ...handle.env, CDP_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY.toString('base64') };
      await handle.store.close();
      const email = uniqueEmail('cli');
      const created = await runCdp(
        ['user', 'create', '--email', email, '--role', 'owner', '--password-stdin', '--json'],
        env,
        60_000,
        `${GOOD_PASSWORD}\n`,
      );
      assert.equal(created.code, 0, created.stderr);
      assert.equal(JSON.parse(created.stdout).instanceOwner, true);
      assert.ok(!created.stdout.includes(GOOD_PASSWORD));

      const noPassword = await runCdp(['user', 'create', '--email', uniqueEmail(), '--role', 'owner'], env);
      assert.notEqual(noPassword.code, 0);
      assert.match(noPassword.stderr, /--password-stdin/);
      const onArgv = await runCdp(
        ['user', 'create', '--email', uniqueEmail(), '--role', 'owner', '--password', GOOD_PASSWORD],
        env,
      );
      assert.notEqual(onArgv.code, 0, 'there is no --password option');
      const weak = await runCdp(
        ['user', 'create', '--email', uniqueEmail(), '--role', 'owner', '--password-stdin'],
        env,
        60_000,
        'short',
      );
      assert.notEqual(weak.code, 0);
      assert.match(weak.stderr, /at least 12 characters/);
      const noWorkspace = await runCdp(
        ['user', 'create', '--email', uniqueEmail(), '--role', 'viewer', '--password-stdin'],
        env,
        60_000,
        GOOD_PASSWORD,
      );
      assert.match(noWorkspace.stderr, /needs --workspace/);

      assert.equal((await runCdp(['workspace', 'create', 'Team'], env)).code, 0);
      const member = uniqueEmail('member');
      const joined = await runCdp(
        ['user', 'create', '--email', member, '--role', 'analyst', '--workspace', 'team', '--password-stdin'],
        env,
        60_000,
        GOOD_PASSWORD,
      );
      assert.equal(joined.code, 0, joined.stderr);
      const listed = await runCdp(['user', 'list'], env);
      assert.match(listed.stdout, new RegExp(`${email}\\tinstance owner\\tenabled`));
      assert.match(listed.stdout, new RegExp(`${member}\\tws_\\w+:analyst\\tenabled`));
      assert.equal((await runCdp(['user', 'disable', member], env)).code, 0);

      const store = await handle.reopen();
      try {
        await withApp(store, {}, async (t) => {
          assert.equal((await login(t, email, GOOD_PASSWORD)).statusCode, 200);
          expectError(await login(t, member, GOOD_PASSWORD), 401, 'auth.invalid_credentials');
          assert.equal(await t.app.services.setup.issueIfNeeded(), undefined);
        });
      } finally {
        await store.close();
      }
      const verified = await runCdp(['audit', 'verify'], env);
      assert.match(verified.stdout, /audit log intact/);
    },
  );

  it(
    'gets a setup code printed by the first start of a real server, and signs in over HTTP',
    { timeout: 180_000 },
    async () => {
      const handle = await fixture.fresh();
      await handle.store.close();
      const server = await startServerProcess({ env: handle.env });
      try {
        const code = /Setup code:\s+(setup_[A-Za-z0-9_-]+)/.exec(server.stdout())?.[1];
        assert.ok(code, server.stdout());
        const email = uniqueEmail('boss');
        const response = await fetch(`${server.url}/api/v1/setup`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            origin: server.url,
            'sec-fetch-site': 'same-origin',
          },
          body: JSON.stringify({ setupCode: code, email, password: GOOD_PASSWORD }),
        });
        assert.equal(response.status, 201, await response.clone().text());
        const body = (await response.json()) as { csrfToken: string };
        const cookie = response.headers.get('set-cookie') ?? '';
        assert.match(
          cookie,
          /^cdp_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/,
        );
        const session = cookie.split(';')[0] ?? '';
        const ws = await fetch(`${server.url}/api/v1/workspaces`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', cookie: session, 'x-csrf-token': body.csrfToken },
          body: JSON.stringify({ name: 'Real' }),
        });
        assert.equal(ws.status, 201, await ws.text());
      } finally {
        await server.stop();
      }
      const again = await startServerProcess({ env: handle.env });
      try {
        assert.doesNotMatch(again.stdout(), /Setup code/, 'a user exists: no more setup codes');
      } finally {
        await again.stop();
      }
    },
  );
});
