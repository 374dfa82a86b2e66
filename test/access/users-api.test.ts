import assert from 'node:assert/strict';
import { it } from 'node:test';
import { GOOD_PASSWORD, memberUser, signIn, uniqueEmail } from '../support/console-users.ts';
import { admin, expectError, sendOk, sharedStore, withApp, wsUrl } from '../support/http-helpers.ts';
import { describeEachStore } from '../support/stores.ts';

interface MemberView {
  id: string;
  email: string;
  role: string;
  piiAccess: string;
  readsPii: boolean;
  disabled: boolean;
}

describeEachStore('console users API', (fixture) => {
  const store = sharedStore(fixture);

  it('adds new and existing users to a workspace, lists, changes and removes members', async () => {
    await withApp(await store(), {}, async (t) => {
      const email = uniqueEmail('Zoe');
      const created = await admin(t, 'POST', wsUrl(t, '/users'), {
        email,
        role: 'analyst',
        password: GOOD_PASSWORD,
      });
      assert.equal(created.statusCode, 201, created.body);
      const zoe = created.json<MemberView>();
      assert.deepEqual(
        { ...zoe, id: undefined },
        {
          id: undefined,
          email: email.toLowerCase(),
          role: 'analyst',
          piiAccess: 'role',
          readsPii: false,
          disabled: false,
          createdAt: zoe['createdAt' as keyof MemberView],
          lastLoginAt: null,
        },
      );
      assert.ok(!created.body.includes('argon2'), 'never a password hash');
      expectError(
        await admin(t, 'POST', wsUrl(t, '/users'), { email, role: 'viewer' }),
        409,
        'user.already_member',
      );
      expectError(
        await admin(t, 'POST', wsUrl(t, '/users'), { email: uniqueEmail(), role: 'viewer' }),
        400,
        'user.password_required',
      );
      const weak = expectError(
        await admin(t, 'POST', wsUrl(t, '/users'), {
          email: uniqueEmail(),
          role: 'viewer',
          password: 'short',
        }),
        400,
        'user.weak_password',
      );
      assert.equal(weak['reason'], 'too_short');
      expectError(
        await admin(t, 'POST', wsUrl(t, '/users'), {
          email: 'nope',
          role: 'viewer',
          password: GOOD_PASSWORD,
        }),
        400,
        'user.invalid_email',
      );

      // The same person joins a second workspace without a new password.
      const other = await admin(t, 'POST', '/api/v1/workspaces', { name: `Other ${Date.now()}` });
      const otherWs = other.json<{ id: string }>().id;
      const joined = await admin(t, 'POST', `/api/v1/workspaces/${otherWs}/users`, { email, role: 'viewer' });
      assert.equal(joined.statusCode, 201, joined.body);
      assert.equal(joined.json<MemberView>().id, zoe.id);
      expectError(
        await admin(t, 'POST', `/api/v1/workspaces/${otherWs}/users`, {
          email,
          role: 'viewer',
          password: GOOD_PASSWORD,
        }),
        409,
        'user.email_taken',
      );

      const listed = await admin(t, 'GET', wsUrl(t, '/users?limit=1'));
      assert.equal(listed.statusCode, 200, listed.body);
      assert.deepEqual(
        listed.json<{ items: MemberView[] }>().items.map((m) => m.id),
        [zoe.id],
      );
      const changed = await admin(t, 'PATCH', wsUrl(t, `/users/${zoe.id}`), {
        role: 'marketer',
        piiAccess: 'withdraw',
      });
      assert.deepEqual(
        (({ role, piiAccess, readsPii }) => ({ role, piiAccess, readsPii }))(changed.json<MemberView>()),
        { role: 'marketer', piiAccess: 'withdraw', readsPii: false },
      );

      // A workspace admin cannot disable someone who belongs to another workspace too.
      const wsAdmin = await signIn(t, (await memberUser(t, 'admin')).email);
      expectError(
        await admin(t, 'PATCH', wsUrl(t, `/users/${zoe.id}`), { disabled: true }, wsAdmin.headers),
        403,
        'auth.forbidden',
      );
      const loner = await memberUser(t, 'viewer');
      const disabled = await admin(
        t,
        'PATCH',
        wsUrl(t, `/users/${loner.id}`),
        { disabled: true },
        wsAdmin.headers,
      );
      assert.equal(disabled.json<MemberView>().disabled, true, disabled.body);

      assert.equal((await admin(t, 'DELETE', wsUrl(t, `/users/${zoe.id}`))).statusCode, 204);
      expectError(await admin(t, 'GET', wsUrl(t, `/users/${zoe.id}`)), 404, 'user.not_found');
      const everywhere = await admin(t, 'GET', `/api/v1/users/${zoe.id}`);
      assert.deepEqual(everywhere.json<{ memberships: unknown[] }>().memberships, [
        { workspaceId: otherWs, role: 'viewer', piiAccess: 'role' },
      ]);
    });
  });

  it('grants or withdraws PII access per user, whatever the role', async () => {
    await withApp(await store(), {}, async (t) => {
      await sendOk(t, 'track', { userId: 'u-pii', event: 'Seen', properties: { email: 'zoe@example.com' } });
      const viewer = await memberUser(t, 'viewer', { pii: 'grant' });
      const marketer = await memberUser(t, 'marketer', { pii: 'withdraw' });
      const plain = await memberUser(t, 'viewer');
      const events = async (email: string) =>
        admin(t, 'GET', wsUrl(t, '/events'), undefined, (await signIn(t, email)).headers);
      assert.equal((await events(viewer.email)).statusCode, 200, 'a viewer granted PII reads raw events');
      expectError(await events(marketer.email), 403, 'auth.forbidden');
      expectError(await events(plain.email), 403, 'auth.forbidden');

      const session = await signIn(t, plain.email);
      await admin(t, 'PATCH', wsUrl(t, `/users/${plain.id}`), { piiAccess: 'grant' });
      assert.equal((await admin(t, 'GET', wsUrl(t, '/events'), undefined, session.headers)).statusCode, 200);
      await admin(t, 'PATCH', wsUrl(t, `/users/${plain.id}`), { piiAccess: 'role' });
      expectError(
        await admin(t, 'GET', wsUrl(t, '/events'), undefined, session.headers),
        403,
        'auth.forbidden',
      );
      const me = await admin(t, 'GET', '/api/v1/session', undefined, session.headers);
      assert.ok(
        !me
          .json<{ workspaces: { permissions: string[] }[] }>()
          .workspaces[0]?.permissions.includes('events.read_pii'),
      );
    });
  });

  it('lets instance owners manage users instance-wide; an instance-owner user may do everything', async () => {
    await withApp(await store(), {}, async (t) => {
      const email = uniqueEmail('root');
      const created = await admin(t, 'POST', '/api/v1/users', {
        email,
        password: GOOD_PASSWORD,
        instanceOwner: true,
      });
      assert.equal(created.statusCode, 201, created.body);
      expectError(
        await admin(t, 'POST', '/api/v1/users', { email, password: GOOD_PASSWORD }),
        409,
        'user.email_taken',
      );
      const root = await signIn(t, email);
      const ws = await admin(
        t,
        'POST',
        '/api/v1/workspaces',
        { name: `Made by a user ${Date.now()}` },
        root.headers,
      );
      assert.equal(ws.statusCode, 201, ws.body);
      assert.equal((await admin(t, 'GET', wsUrl(t, '/events'), undefined, root.headers)).statusCode, 200);
      const all = await admin(t, 'GET', '/api/v1/users?limit=500', undefined, root.headers);
      assert.ok(all.json<{ items: { email: string }[] }>().items.some((u) => u.email === email));

      const member = await signIn(t, (await memberUser(t, 'owner')).email);
      expectError(await admin(t, 'GET', '/api/v1/users', undefined, member.headers), 403, 'auth.forbidden');
      const visible = await admin(t, 'GET', '/api/v1/workspaces', undefined, member.headers);
      assert.deepEqual(
        visible.json<{ items: { id: string }[] }>().items.map((w) => w.id),
        [t.workspace.id],
      );
    });
  });

  it('records user changes, sign-ins and sign-outs in the audit log, with an intact chain', async () => {
    await withApp(await store(), {}, async (t) => {
      const wsAdmin = await memberUser(t, 'admin');
      const session = await signIn(t, wsAdmin.email, GOOD_PASSWORD, { remoteAddress: '198.51.100.9' });
      const added = await admin(
        t,
        'POST',
        wsUrl(t, '/users'),
        { email: uniqueEmail(), role: 'viewer', password: GOOD_PASSWORD },
        session.headers,
      );
      const newId = added.json<{ id: string }>().id;
      await admin(t, 'PATCH', wsUrl(t, `/users/${newId}`), { role: 'analyst' }, session.headers);
      await admin(t, 'DELETE', '/api/v1/session', undefined, session.headers);

      const wsLog = (await admin(t, 'GET', wsUrl(t, '/audit-log'))).json<{
        items: { action: string; target: string; actor: Record<string, unknown>; ip: string }[];
      }>().items;
      const [patch, post] = wsLog;
      assert.equal(patch?.action, 'PATCH /api/v1/workspaces/:ws/users/:id');
      assert.deepEqual(JSON.parse(patch?.target ?? '{}'), {
        ws: t.workspace.slug,
        id: newId,
        role: 'analyst',
      });
      assert.equal(post?.action, 'POST /api/v1/workspaces/:ws/users');
      assert.deepEqual(JSON.parse(post?.target ?? '{}'), {
        ws: t.workspace.slug,
        userId: newId,
        role: 'viewer',
      });
      assert.deepEqual(post?.actor, { kind: 'user', tokenId: null, role: 'admin', userId: wsAdmin.id });
      assert.ok(!JSON.stringify(wsLog).includes(GOOD_PASSWORD));

      const instanceLog = (await admin(t, 'GET', '/api/v1/audit-log?limit=500')).json<{
        items: { action: string; target: string; ip: string }[];
      }>().items;
      const mine = instanceLog.filter((e) => e.target === JSON.stringify({ userId: wsAdmin.id }));
      assert.deepEqual(mine.map((e) => e.action).slice(0, 2), ['auth logout', 'auth login']);
      assert.equal(mine[1]?.ip, '198.51.100.9', 'from where');
      assert.equal((await t.app.services.audit.verify()).ok, true);
    });
  });
});
