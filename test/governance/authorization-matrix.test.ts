import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { principalCan, roleCan, type Permission } from '../../src/governance/permissions.ts';
import type { RouteAccess } from '../../src/http/admin-auth.ts';
import { createSqliteStore } from '../../src/storage/sqlite/sqlite-store.ts';
import { ROLES, type Role } from '../../src/workspaces/workspace-types.ts';
import { GOOD_PASSWORD, memberUser, signIn, uniqueEmail } from '../support/console-users.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';

/**
 * Generated from the app's own route table: every admin route × every role × own and other
 * workspace, for an API token and for a console user (session cookie and CSRF token) of that
 * role: both go through the same hook and the same matrix. A route added without an access
 * rule does not even start (admin-auth refuses it).
 */
const allowed = (role: Role, access: RouteAccess): boolean =>
  access !== 'instance_owner' && roleCan(role, access);

describe('authorization matrix', () => {
  let a: TestApp;
  let otherSlug: string;
  /** Per role, the headers of a token and of a signed-in user. */
  const callers = new Map<Role, { token: Record<string, string>; user: Record<string, string> }>();

  before(async () => {
    const store = createSqliteStore({ filename: ':memory:' });
    await store.migrate();
    a = await createTestApp(store, { workspaceSlug: 'matrix-a' });
    otherSlug = (await a.app.services.workspaces.create({ name: 'matrix-b', slug: 'matrix-b' })).slug;
    for (const role of ROLES) {
      const secret = (await a.app.services.tokens.create(a.workspace.id, { name: role, role })).secret;
      const user = await memberUser(a, role);
      callers.set(role, {
        token: { authorization: `Bearer ${secret}` },
        user: { ...(await signIn(a, user.email)).headers },
      });
    }
  });
  after(async () => {
    await a.close();
    await a.store.close();
  });

  // Valid requests, so that an allowed call is not refused for its input (a refused one gets 403
  // before its input is even looked at: the next test).
  const sample = (url: string, ws: string) =>
    url.replace(':ws', ws).replace(':id', 'no_such_id') +
    (url.endsWith('/lookup') ? '?type=user_id&value=x' : '') +
    (url.endsWith('/identity/unlinked') ? '?type=user_id&value=x' : '');
  const body = (method: string, url: string): Record<string, unknown> | undefined => {
    if (method === 'GET' || method === 'DELETE') return undefined;
    if (url.endsWith('/tokens')) return { name: 'matrix', role: 'viewer' };
    if (url.endsWith('/users') && method === 'POST')
      return { email: uniqueEmail('matrix'), role: 'viewer', password: GOOD_PASSWORD };
    if (url.endsWith('/sources')) return { name: 'matrix', type: 'http' };
    if (url === '/api/v1/workspaces') return { name: 'matrix new' };
    if (url.endsWith('/unmerge')) return { identifier: { type: 'user_id', value: 'x' } };
    if (url.endsWith('/segments')) return { name: 'matrix', slug: 'matrix', definition: 'traits.plan = "x"' };
    if (url.endsWith('/segments/preview')) return { definition: 'traits.plan = "x"' };
    if (url.endsWith('/computed-traits'))
      return { name: 'matrix', definition: { kind: 'event_count', event: 'X' } };
    if (url.endsWith('/computed-traits/:name')) return { definition: { kind: 'event_count', event: 'X' } };
    if (url.endsWith('/privacy-requests'))
      return { type: 'export', identifier: { type: 'user_id', value: 'matrix-person' } };
    if (url.endsWith('/profiles/:id/consent')) return { categoryPreferences: { marketing: true } };
    if (url.endsWith('/settings/consent')) return { categories: ['marketing'] };
    if (url.endsWith('/settings/retention')) return { eventsDays: 3650 };
    return {};
  };

  it('covers every admin route', () => {
    const routes = a.app.http.adminRoutes;
    assert.ok(routes.length >= 18, `only ${routes.length} routes registered`);
    for (const route of routes) assert.ok(route.access, `${route.method} ${route.url}`);
  });

  it('answers each route for each role: 403 without the permission, 404 for another workspace', async () => {
    const failures: string[] = [];
    for (const route of a.app.http.adminRoutes) {
      for (const [role, kind] of ROLES.flatMap((r) => [[r, 'token'] as const, [r, 'user'] as const])) {
        const headers = callers.get(role)?.[kind] ?? {};
        for (const ws of route.url.includes(':ws') ? [a.workspace.slug, otherSlug] : [a.workspace.slug]) {
          // An allowed live stream never ends; admin-events.test.ts reads it over a socket.
          if (route.url.endsWith('/events/stream') && ws === a.workspace.slug && allowed(role, route.access))
            continue;
          const response = await a.app.http.inject({
            method: route.method as 'GET',
            url: sample(route.url, ws),
            headers,
            ...(body(route.method, route.url) ? { payload: body(route.method, route.url) } : {}),
          });
          const own = ws === a.workspace.slug;
          const expected = !own ? [404] : allowed(role, route.access) ? 'allowed' : [403];
          const ok =
            expected === 'allowed'
              ? ![401, 403].includes(response.statusCode) && response.statusCode < 500
              : expected.includes(response.statusCode);
          if (!ok)
            failures.push(
              `${role} ${kind} ${route.method} ${sample(route.url, ws)} → ${response.statusCode}, expected ${String(expected)}`,
            );
        }
      }
    }
    assert.deepEqual(failures, []);
  });

  it('refuses a caller without the permission before looking at the input: 403, not a 400 about it', async () => {
    const failures: string[] = [];
    for (const route of a.app.http.adminRoutes) {
      for (const role of ROLES) {
        if (allowed(role, route.access)) continue;
        const headers = callers.get(role)?.token ?? {};
        // No query string (required ones missing) and a body no schema accepts.
        const response = await a.app.http.inject({
          method: route.method as 'GET',
          url: route.url.replace(':ws', a.workspace.slug).replace(':id', 'no_such_id'),
          headers,
          ...(route.method === 'GET' || route.method === 'DELETE' ? {} : { payload: { unexpected: [1] } }),
        });
        if (response.statusCode !== 403)
          failures.push(
            `${role} ${route.method} ${route.url} → ${response.statusCode} ${response.body.slice(0, 80)}`,
          );
      }
    }
    assert.deepEqual(failures, []);
  });

  it('lets only owners mint owner tokens and make owners of users, by token or session', async () => {
    for (const role of ROLES) {
      for (const kind of ['token', 'user'] as const) {
        const headers = callers.get(role)?.[kind] ?? {};
        const token = await a.app.http.inject({
          method: 'POST',
          url: `/api/v1/workspaces/${a.workspace.slug}/tokens`,
          headers,
          payload: { name: 'new owner', role: 'owner' },
        });
        assert.equal(token.statusCode, role === 'owner' ? 201 : 403, `${role} ${kind}: ${token.body}`);
        const user = await a.app.http.inject({
          method: 'POST',
          url: `/api/v1/workspaces/${a.workspace.slug}/users`,
          headers,
          payload: { email: uniqueEmail('owner'), role: 'owner', password: GOOD_PASSWORD },
        });
        assert.equal(user.statusCode, role === 'owner' ? 201 : 403, `${role} ${kind}: ${user.body}`);
      }
    }
    // An admin may not demote or remove an owner either.
    const owner = await memberUser(a, 'owner');
    const asAdmin = callers.get('admin')?.user ?? {};
    for (const [method, payload] of [
      ['PATCH', { role: 'viewer' }],
      ['DELETE', undefined],
    ] as const) {
      const response = await a.app.http.inject({
        method,
        url: `/api/v1/workspaces/${a.workspace.slug}/users/${owner.id}`,
        headers: asAdmin,
        ...(payload ? { payload } : {}),
      });
      assert.equal(response.statusCode, 403, `${method}: ${response.body}`);
    }
  });

  it('gives the instance owner every permission and each role its documented set', () => {
    const everything: Permission[] = [
      'workspace.read',
      'workspace.manage',
      'sources.manage',
      'tokens.read',
      'tokens.manage',
      'tokens.mint_owner',
      'users.manage',
      'users.grant_owner',
      'events.read_pii',
      'pipeline.manage',
      'audit.read',
      'identity.manage',
      'privacy.manage',
      'segments.read',
      'segments.manage',
    ];
    for (const p of everything) assert.ok(principalCan({ kind: 'instance_owner', tokenId: null }, p));
    assert.deepEqual(
      everything.filter((p) => roleCan('admin', p)),
      everything.filter((p) => p !== 'tokens.mint_owner' && p !== 'users.grant_owner'),
    );
    assert.deepEqual(
      everything.filter((p) => roleCan('marketer', p)),
      ['workspace.read', 'events.read_pii', 'segments.read', 'segments.manage'],
    );
    assert.deepEqual(
      everything.filter((p) => roleCan('viewer', p)),
      ['workspace.read', 'segments.read'],
    );
    assert.deepEqual(
      everything.filter((p) => roleCan('analyst', p)),
      ['workspace.read', 'segments.read'],
    );
  });
});
