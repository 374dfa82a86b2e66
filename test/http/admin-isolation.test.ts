import assert from 'node:assert/strict';
import { it } from 'node:test';
import { admin, expectError, sendOk, sharedStore, stats, withApp } from '../support/http-helpers.ts';
import { describeEachStore } from '../support/stores.ts';
import { basicAuth, type TestApp } from '../support/test-app.ts';
import { GOOD_PASSWORD, memberUser, signIn, uniqueEmail } from '../support/console-users.ts';

// A token or console user of workspace A sees workspace B exactly as a workspace that does not
// exist: 404 on every route, by B's slug and by B's id, and nothing of B changes.

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

interface Target {
  readonly ws: string;
  readonly sourceId: string;
  readonly tokenId: string;
  readonly userId: string;
}

/** Every admin route under a workspace, with a body valid enough to reach the workspace check. */
const ROUTES: readonly { method: Method; path: string; body?: (b: Target) => unknown }[] = [
  { method: 'GET', path: '/api/v1/workspaces/{ws}' },
  {
    method: 'POST',
    path: '/api/v1/workspaces/{ws}/sources',
    body: () => ({ name: 'intruder', type: 'http' }),
  },
  { method: 'GET', path: '/api/v1/workspaces/{ws}/sources' },
  { method: 'GET', path: '/api/v1/workspaces/{ws}/sources/{id}' },
  {
    method: 'PATCH',
    path: '/api/v1/workspaces/{ws}/sources/{id}',
    body: () => ({ name: 'hijacked', enabled: false }),
  },
  { method: 'POST', path: '/api/v1/workspaces/{ws}/sources/{id}/rotate-key' },
  {
    method: 'POST',
    path: '/api/v1/workspaces/{ws}/tokens',
    body: () => ({ name: 'intruder', role: 'owner' }),
  },
  { method: 'GET', path: '/api/v1/workspaces/{ws}/tokens' },
  { method: 'DELETE', path: '/api/v1/workspaces/{ws}/tokens/{id}' },
  { method: 'GET', path: '/api/v1/workspaces/{ws}/events' },
  { method: 'GET', path: '/api/v1/workspaces/{ws}/events/stream' },
  { method: 'GET', path: '/api/v1/workspaces/{ws}/stats' },
  { method: 'GET', path: '/api/v1/workspaces/{ws}/failed-events' },
  { method: 'GET', path: '/api/v1/workspaces/{ws}/failed-events/{id}' },
  { method: 'POST', path: '/api/v1/workspaces/{ws}/failed-events/{id}/replay' },
  { method: 'POST', path: '/api/v1/workspaces/{ws}/failed-events/replay', body: () => ({}) },
  { method: 'GET', path: '/api/v1/workspaces/{ws}/audit-log' },
  { method: 'GET', path: '/api/v1/workspaces/{ws}/profiles/lookup?type=user_id&value=u' },
  { method: 'GET', path: '/api/v1/workspaces/{ws}/profiles' },
  { method: 'GET', path: '/api/v1/workspaces/{ws}/profiles/{id}' },
  { method: 'GET', path: '/api/v1/workspaces/{ws}/profiles/{id}/events' },
  { method: 'GET', path: '/api/v1/workspaces/{ws}/profiles/{id}/graph' },
  { method: 'GET', path: '/api/v1/workspaces/{ws}/profiles/{id}/traits/history' },
  { method: 'GET', path: '/api/v1/workspaces/{ws}/accounts/{id}/members' },
  { method: 'GET', path: '/api/v1/workspaces/{ws}/identity/unlinked' },
  { method: 'DELETE', path: '/api/v1/workspaces/{ws}/identity/unlinked?type=user_id&value=u' },
  {
    method: 'POST',
    path: '/api/v1/workspaces/{ws}/profiles/{id}/unmerge',
    body: () => ({ identifier: { type: 'user_id', value: 'u' } }),
  },
  { method: 'POST', path: '/api/v1/workspaces/{ws}/profiles/rebuild' },
  { method: 'GET', path: '/api/v1/workspaces/{ws}/profiles/rebuild' },
  { method: 'GET', path: '/api/v1/workspaces/{ws}/identity/quality' },
  {
    method: 'POST',
    path: '/api/v1/workspaces/{ws}/segments',
    body: () => ({ name: 'intruder', slug: 'intruder', definition: 'traits.plan = "x"' }),
  },
  { method: 'GET', path: '/api/v1/workspaces/{ws}/segments' },
  {
    method: 'POST',
    path: '/api/v1/workspaces/{ws}/segments/preview',
    body: () => ({ definition: 'traits.plan = "x"' }),
  },
  { method: 'GET', path: '/api/v1/workspaces/{ws}/segments/{slug}' },
  { method: 'PATCH', path: '/api/v1/workspaces/{ws}/segments/{slug}', body: () => ({ name: 'hijacked' }) },
  { method: 'DELETE', path: '/api/v1/workspaces/{ws}/segments/{slug}' },
  { method: 'GET', path: '/api/v1/workspaces/{ws}/segments/{slug}/members' },
  { method: 'GET', path: '/api/v1/workspaces/{ws}/segments/{slug}/size-history' },
  { method: 'GET', path: '/api/v1/workspaces/{ws}/profiles/{id}/segment-history' },
  {
    method: 'POST',
    path: '/api/v1/workspaces/{ws}/computed-traits',
    body: () => ({ name: 'intruder', definition: { kind: 'event_count', event: 'X' } }),
  },
  { method: 'GET', path: '/api/v1/workspaces/{ws}/computed-traits' },
  { method: 'GET', path: '/api/v1/workspaces/{ws}/computed-traits/{name}' },
  {
    method: 'PATCH',
    path: '/api/v1/workspaces/{ws}/computed-traits/{name}',
    body: () => ({ definition: { kind: 'event_count', event: 'X' } }),
  },
  { method: 'DELETE', path: '/api/v1/workspaces/{ws}/computed-traits/{name}' },
  {
    method: 'POST',
    path: '/api/v1/workspaces/{ws}/destinations',
    body: () => ({ type: 'webhook', name: 'intruder', config: { url: 'https://hooks.example.com/x' } }),
  },
  { method: 'GET', path: '/api/v1/workspaces/{ws}/destinations' },
  { method: 'GET', path: '/api/v1/workspaces/{ws}/destinations/{id}' },
  { method: 'PATCH', path: '/api/v1/workspaces/{ws}/destinations/{id}', body: () => ({ enabled: false }) },
  { method: 'DELETE', path: '/api/v1/workspaces/{ws}/destinations/{id}' },
  { method: 'GET', path: '/api/v1/workspaces/{ws}/destinations/{id}/deliveries' },
  { method: 'POST', path: '/api/v1/workspaces/{ws}/destinations/{id}/deliveries/retry', body: () => ({}) },
  { method: 'POST', path: '/api/v1/workspaces/{ws}/destinations/{id}/test' },
  ...(['identity', 'profiles', 'privacy'] as const).flatMap((name) => [
    { method: 'GET' as const, path: `/api/v1/workspaces/{ws}/settings/${name}` },
    { method: 'PUT' as const, path: `/api/v1/workspaces/{ws}/settings/${name}`, body: () => ({}) },
  ]),
  {
    method: 'POST',
    path: '/api/v1/workspaces/{ws}/users',
    body: () => ({ email: uniqueEmail('intruder'), role: 'owner', password: GOOD_PASSWORD }),
  },
  { method: 'GET', path: '/api/v1/workspaces/{ws}/users' },
  { method: 'GET', path: '/api/v1/workspaces/{ws}/users/{id}' },
  {
    method: 'PATCH',
    path: '/api/v1/workspaces/{ws}/users/{id}',
    body: () => ({ role: 'viewer', disabled: true }),
  },
  { method: 'DELETE', path: '/api/v1/workspaces/{ws}/users/{id}' },
  // Consent and privacy (issue 5).
  ...(['consent', 'retention'] as const).flatMap((name) => [
    { method: 'GET' as const, path: `/api/v1/workspaces/{ws}/settings/${name}` },
    {
      method: 'PUT' as const,
      path: `/api/v1/workspaces/{ws}/settings/${name}`,
      body: () => (name === 'consent' ? { categories: ['marketing'] } : { eventsDays: 1 }),
    },
  ]),
  { method: 'GET', path: '/api/v1/workspaces/{ws}/profiles/{id}/consent' },
  {
    method: 'PUT',
    path: '/api/v1/workspaces/{ws}/profiles/{id}/consent',
    body: () => ({ categoryPreferences: { marketing: false } }),
  },
  { method: 'GET', path: '/api/v1/workspaces/{ws}/profiles/{id}/consent/history' },
  {
    method: 'POST',
    path: '/api/v1/workspaces/{ws}/privacy-requests',
    body: () => ({ type: 'suppress_and_erase', identifier: { type: 'user_id', value: 'u' } }),
  },
  { method: 'GET', path: '/api/v1/workspaces/{ws}/privacy-requests' },
  { method: 'GET', path: '/api/v1/workspaces/{ws}/privacy-requests/{id}' },
  { method: 'GET', path: '/api/v1/workspaces/{ws}/privacy-requests/{id}/export' },
];

function urlFor(path: string, target: Target): string {
  const id = path.includes('/tokens/')
    ? target.tokenId
    : path.includes('/sources/')
      ? target.sourceId
      : path.includes('/users/')
        ? target.userId
        : 'fe_1';
  return path.replace('{ws}', target.ws).replace('{id}', id).replace('{slug}', 'seg').replace('{name}', 'ct');
}

async function workspaceToken(t: TestApp, ws: string, role: string): Promise<{ id: string; token: string }> {
  const res = await admin(t, 'POST', `/api/v1/workspaces/${ws}/tokens`, { name: `${role} of ${ws}`, role });
  assert.equal(res.statusCode, 201, res.body);
  return res.json<{ id: string; token: string }>();
}

describeEachStore('admin API workspace isolation', (fixture) => {
  const store = sharedStore(fixture);

  it('the isolation table covers every workspace route of the OpenAPI document', async () => {
    await withApp(await store(), {}, async (t) => {
      const doc = (await t.app.http.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json<{
        paths: Record<string, Record<string, unknown>>;
      }>();
      const documented = Object.entries(doc.paths)
        .filter(([path]) => path.includes('{ws}'))
        .flatMap(([path, operations]) => Object.keys(operations).map((m) => `${m.toUpperCase()} ${path}`))
        .sort();
      const covered = ROUTES.map((r) => `${r.method} ${r.path.split('?')[0] ?? r.path}`).sort();
      assert.deepEqual(covered, documented, 'add new workspace routes to ROUTES in this file');
    });
  });

  for (const [role, kind] of [
    ['owner', 'token'],
    ['viewer', 'token'],
    ['owner', 'user'],
  ] as const) {
    it(`a ${role} ${kind} of workspace A gets 404 on every route of workspace B`, async () => {
      await withApp(await store(), {}, async (a) => {
        const b = await admin(a, 'POST', '/api/v1/workspaces', { name: 'Workspace B' });
        const bWs = b.json<{ id: string; slug: string }>();
        const bSource = (
          await admin(a, 'POST', `/api/v1/workspaces/${bWs.id}/sources`, { name: 'b', type: 'http' })
        ).json<{
          id: string;
          writeKey: string;
        }>();
        const bToken = await workspaceToken(a, bWs.slug, 'owner');
        const bUser = await memberUser(a, 'viewer', { workspaceId: bWs.id });
        await sendOk(
          a,
          'track',
          { userId: 'u', event: 'B' },
          { auth: basicAuth(bSource.writeKey).authorization },
        );
        const auth =
          kind === 'token'
            ? { authorization: `Bearer ${(await workspaceToken(a, a.workspace.slug, role)).token}` }
            : (await signIn(a, (await memberUser(a, role)).email)).headers;

        for (const ws of [bWs.slug, bWs.id]) {
          const target = { ws, sourceId: bSource.id, tokenId: bToken.id, userId: bUser.id };
          for (const route of ROUTES) {
            const url = urlFor(route.path, target);
            const res = await admin(a, route.method, url, route.body?.(target), auth);
            assert.equal(
              res.statusCode,
              404,
              `${route.method} ${url} answered ${res.statusCode}: ${res.body}`,
            );
            expectError(res, 404, 'workspace.not_found');
          }
        }

        // Nothing of B changed: its token, key, source and data are intact.
        const asB = { authorization: `Bearer ${bToken.token}` };
        const source = await admin(
          a,
          'GET',
          `/api/v1/workspaces/${bWs.id}/sources/${bSource.id}`,
          undefined,
          asB,
        );
        assert.equal(source.statusCode, 200, source.body);
        assert.deepEqual(
          (({ name, enabled, keyRotatedAt }) => ({ name, enabled, keyRotatedAt }))(source.json()),
          { name: 'b', enabled: true, keyRotatedAt: null },
        );
        await sendOk(
          a,
          'track',
          { userId: 'u', event: 'B' },
          { auth: basicAuth(bSource.writeKey).authorization },
        );
        const tokens = (await admin(a, 'GET', `/api/v1/workspaces/${bWs.id}/tokens`)).json<{
          items: unknown[];
        }>();
        assert.equal(tokens.items.length, 1, 'a token was minted in B');
        const sources = (await admin(a, 'GET', `/api/v1/workspaces/${bWs.id}/sources`)).json<{
          items: unknown[];
        }>();
        assert.equal(sources.items.length, 1, 'a source was created in B');
        const bStats = await admin(a, 'GET', `/api/v1/workspaces/${bWs.id}/stats`, undefined, asB);
        assert.equal(bStats.json<{ events: number }>().events, 2);
        const bMembers = await admin(a, 'GET', `/api/v1/workspaces/${bWs.id}/users`);
        assert.deepEqual(
          bMembers.json<{ items: { id: string; role: string; disabled: boolean }[] }>().items,
          [
            {
              ...bMembers.json<{ items: object[] }>().items[0],
              id: bUser.id,
              role: 'viewer',
              disabled: false,
            },
          ],
          'a member was added to, changed in or removed from B',
        );
      });
    });
  }

  it("A's own routes answer for A's token; B's events never show in A's list or stats", async () => {
    await withApp(await store(), {}, async (a) => {
      await withApp(await store(), {}, async (b) => {
        await sendOk(b, 'track', { userId: 'u', event: 'Only B' });
        await sendOk(a, 'track', { userId: 'u', event: 'Only A' });
        // Raw events carry personal data: reading them needs a role with PII access.
        const { token } = await workspaceToken(a, a.workspace.slug, 'marketer');
        const auth = { authorization: `Bearer ${token}` };
        const events = await admin(a, 'GET', `/api/v1/workspaces/${a.workspace.id}/events`, undefined, auth);
        assert.equal(events.statusCode, 200, events.body);
        assert.deepEqual(
          events.json<{ items: { event: string }[] }>().items.map((e) => e.event),
          ['Only A'],
        );
        assert.equal((await stats(a)).events, 1);
        assert.equal((await stats(b)).events, 1);
      });
    });
  });
});
