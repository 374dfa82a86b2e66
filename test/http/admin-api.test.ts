import assert from 'node:assert/strict';
import { it } from 'node:test';
import { admin, expectError, send, sendOk, sharedStore, withApp, wsUrl } from '../support/http-helpers.ts';
import { describeEachStore } from '../support/stores.ts';
import { basicAuth, type TestApp } from '../support/test-app.ts';

// Admin API, contract §3: workspaces, sources, tokens, and bearer authentication.

const ROLES = ['owner', 'admin', 'marketer', 'analyst', 'viewer'] as const;
const SLUG = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
const bearer = (token: string): { authorization: string } => ({ authorization: `Bearer ${token}` });
const unique = (prefix: string): string =>
  `${prefix}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

async function createToken(t: TestApp, role: string): Promise<{ id: string; token: string }> {
  const res = await admin(t, 'POST', wsUrl(t, '/tokens'), { name: `${role} token`, role });
  assert.equal(res.statusCode, 201, res.body);
  return res.json<{ id: string; token: string }>();
}

describeEachStore('admin API', (fixture) => {
  const store = sharedStore(fixture);
  const app = async (fn: (t: TestApp) => Promise<void>): Promise<void> => withApp(await store(), {}, fn);

  it('POST /api/v1/workspaces creates a workspace: 201 {id, slug, name}', async () => {
    await app(async (t) => {
      const name = `Acme Corp ${unique('n')}`;
      const res = await admin(t, 'POST', '/api/v1/workspaces', { name });
      assert.equal(res.statusCode, 201, res.body);
      const body = res.json<{ id: string; slug: string; name: string }>();
      assert.equal(body.name, name);
      assert.ok(typeof body.id === 'string' && body.id !== '');
      assert.match(body.slug, SLUG);
      assert.ok(body.slug.startsWith('acme-corp-'), body.slug);
      const again = await admin(t, 'POST', '/api/v1/workspaces', { name });
      assert.equal(again.statusCode, 201, 'the same name again gets a free derived slug');
      assert.notEqual(again.json<{ slug: string }>().slug, body.slug);
    });
  });

  it('an explicit slug is kept; taking it again answers 409; an invalid one 400', async () => {
    await app(async (t) => {
      const slug = unique('shop');
      const created = await admin(t, 'POST', '/api/v1/workspaces', { name: 'Shop', slug });
      assert.equal(created.statusCode, 201, created.body);
      assert.equal(created.json<{ slug: string }>().slug, slug);
      expectError(
        await admin(t, 'POST', '/api/v1/workspaces', { name: 'Other', slug }),
        409,
        'workspace.slug_taken',
      );
      for (const bad of ['Not A Slug', '-dash', 'x'.repeat(49), 'ünï']) {
        expectError(await admin(t, 'POST', '/api/v1/workspaces', { name: 'Bad', slug: bad }), 400);
      }
      expectError(await admin(t, 'POST', '/api/v1/workspaces', {}), 400, 'request.invalid_body');
      expectError(await admin(t, 'POST', '/api/v1/workspaces', { name: '' }), 400);
    });
  });

  it('only the instance owner creates workspaces: workspace tokens get 403, whatever their role', async () => {
    await app(async (t) => {
      for (const role of ROLES) {
        const { token } = await createToken(t, role);
        const res = await admin(t, 'POST', '/api/v1/workspaces', { name: 'Nope' }, bearer(token));
        expectError(res, 403, 'auth.forbidden');
      }
    });
  });

  it('GET a workspace by id and by slug; an unknown one is 404', async () => {
    await app(async (t) => {
      const byId = await admin(t, 'GET', `/api/v1/workspaces/${t.workspace.id}`);
      const bySlug = await admin(t, 'GET', `/api/v1/workspaces/${t.workspace.slug}`);
      assert.equal(byId.statusCode, 200, byId.body);
      assert.deepEqual(byId.json(), bySlug.json());
      assert.deepEqual((({ id, slug }: { id: string; slug: string }) => ({ id, slug }))(byId.json()), {
        id: t.workspace.id,
        slug: t.workspace.slug,
      });
      expectError(await admin(t, 'GET', '/api/v1/workspaces/no-such-workspace'), 404, 'workspace.not_found');
    });
  });

  it('GET /api/v1/workspaces lists all for the owner, only its own for a workspace token', async () => {
    await app(async (t) => {
      const other = await admin(t, 'POST', '/api/v1/workspaces', { name: 'Listed', slug: unique('listed') });
      const ids = async (auth: { authorization: string }): Promise<string[]> => {
        const items: { id: string }[] = [];
        let cursor: string | null = null;
        do {
          const res = await admin(
            t,
            'GET',
            `/api/v1/workspaces?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
            undefined,
            auth,
          );
          assert.equal(res.statusCode, 200, res.body);
          const page = res.json<{ items: { id: string }[]; nextCursor: string | null }>();
          items.push(...page.items);
          cursor = page.nextCursor;
        } while (cursor !== null);
        return items.map((w) => w.id);
      };
      const all = await ids(t.adminHeaders);
      assert.ok(all.includes(t.workspace.id) && all.includes(other.json<{ id: string }>().id));
      assert.equal(new Set(all).size, all.length, 'paging repeated a workspace');
      assert.deepEqual(await ids(bearer((await createToken(t, 'viewer')).token)), [t.workspace.id]);
    });
  });

  it('sources: create answers 201 with a write key of at least 128 random bits, shown once', async () => {
    await app(async (t) => {
      const keys: string[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await admin(t, 'POST', wsUrl(t, '/sources'), { name: `web ${i}`, type: 'http' });
        assert.equal(res.statusCode, 201, res.body);
        const body = res.json<{
          id: string;
          writeKey: string;
          writeKeyPrefix: string;
          enabled: boolean;
          name: string;
        }>();
        assert.match(body.writeKey, /^wk_[A-Za-z0-9_-]+$/);
        const random = body.writeKey.slice(3);
        assert.ok(random.length * 6 >= 128, `only ${random.length * 6} bits of base64url after wk_`);
        assert.ok(
          body.writeKey.startsWith(body.writeKeyPrefix) &&
            body.writeKeyPrefix.length < body.writeKey.length - 16,
        );
        assert.deepEqual([body.name, body.enabled], [`web ${i}`, true]);
        keys.push(body.writeKey);
        await sendOk(
          t,
          'track',
          { userId: 'u', event: 'E' },
          { auth: basicAuth(body.writeKey).authorization },
        );
        const shown = [
          await admin(t, 'GET', wsUrl(t, `/sources/${body.id}`)),
          await admin(t, 'GET', wsUrl(t, '/sources')),
        ];
        for (const res2 of shown)
          assert.equal(res2.body.includes(body.writeKey), false, 'the write key was shown again');
      }
      assert.equal(new Set(keys).size, 3);
      expectError(
        await admin(t, 'POST', wsUrl(t, '/sources'), { name: 'x', type: 'kafka' }),
        400,
        'request.invalid_body',
      );
      expectError(
        await admin(t, 'POST', wsUrl(t, '/sources'), { type: 'http' }),
        400,
        'request.invalid_body',
      );
    });
  });

  it('sources: list pages every source once, get returns one, unknown id is 404', async () => {
    await app(async (t) => {
      for (let i = 0; i < 4; i++)
        await admin(t, 'POST', wsUrl(t, '/sources'), { name: `s${i}`, type: 'http' });
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const res = await admin(t, 'GET', wsUrl(t, `/sources?limit=2${cursor ? `&cursor=${cursor}` : ''}`));
        assert.equal(res.statusCode, 200, res.body);
        const page = res.json<{ items: { id: string; workspaceId: string }[]; nextCursor: string | null }>();
        assert.ok(page.items.length <= 2);
        for (const s of page.items) assert.equal(s.workspaceId, t.workspace.id);
        seen.push(...page.items.map((s) => s.id));
        cursor = page.nextCursor;
      } while (cursor !== null);
      assert.equal(seen.length, 5);
      assert.equal(new Set(seen).size, 5);
      assert.ok(seen.includes(t.sourceId));
      const one = await admin(t, 'GET', wsUrl(t, `/sources/${t.sourceId}`));
      assert.equal(one.statusCode, 200);
      assert.deepEqual((({ id, type, enabled, settings }) => ({ id, type, enabled, settings }))(one.json()), {
        id: t.sourceId,
        type: 'http',
        enabled: true,
        settings: { captureIp: true },
      });
      expectError(await admin(t, 'GET', wsUrl(t, '/sources/src_nope')), 404, 'source.not_found');
    });
  });

  it('sources: patch renames, changes settings, disables; bad patches are 400', async () => {
    await app(async (t) => {
      const url = wsUrl(t, `/sources/${t.sourceId}`);
      const res = await admin(t, 'PATCH', url, { name: 'renamed', settings: { captureIp: false } });
      assert.equal(res.statusCode, 200, res.body);
      const got = (await admin(t, 'GET', url)).json<{
        name: string;
        settings: { captureIp: boolean };
        enabled: boolean;
      }>();
      assert.deepEqual([got.name, got.settings, got.enabled], ['renamed', { captureIp: false }, true]);
      assert.equal(
        (await admin(t, 'PATCH', url, { enabled: false })).json<{ enabled: boolean }>().enabled,
        false,
      );
      expectError(await send(t, 'track', { userId: 'u', event: 'E' }), 401);
      expectError(await admin(t, 'PATCH', url, { settings: { unknown: 1 } }), 400, 'request.invalid_body');
      expectError(await admin(t, 'PATCH', url, { enabled: 'nope' }), 400, 'request.invalid_body');
      expectError(
        await admin(t, 'PATCH', wsUrl(t, '/sources/src_nope'), { name: 'x' }),
        404,
        'source.not_found',
      );
    });
  });

  it('sources: rotate-key returns a new key; the old one answers 401', async () => {
    await app(async (t) => {
      await sendOk(t, 'track', { userId: 'u', event: 'E' });
      const res = await admin(t, 'POST', wsUrl(t, `/sources/${t.sourceId}/rotate-key`));
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json<{ writeKey: string; keyRotatedAt: string | null }>();
      assert.match(body.writeKey, /^wk_/);
      assert.notEqual(body.writeKey, t.writeKey);
      assert.ok(body.keyRotatedAt !== null && !Number.isNaN(Date.parse(body.keyRotatedAt)));
      expectError(await send(t, 'track', { userId: 'u', event: 'E' }), 401, 'auth.invalid_write_key');
      await sendOk(t, 'track', { userId: 'u', event: 'E' }, { auth: basicAuth(body.writeKey).authorization });
      expectError(await admin(t, 'POST', wsUrl(t, '/sources/src_nope/rotate-key')), 404, 'source.not_found');
    });
  });

  it('tokens: each role can be minted (201 {token, …}); an unknown role is 400', async () => {
    await app(async (t) => {
      for (const role of ROLES) {
        const res = await admin(t, 'POST', wsUrl(t, '/tokens'), { name: `${role} bot`, role });
        assert.equal(res.statusCode, 201, res.body);
        const body = res.json<{
          id: string;
          token: string;
          role: string;
          name: string;
          tokenPrefix: string;
          workspaceId: string;
        }>();
        assert.deepEqual([body.role, body.name, body.workspaceId], [role, `${role} bot`, t.workspace.id]);
        assert.ok(body.token.length >= 32 && body.token.startsWith(body.tokenPrefix), body.token);
        const own = await admin(t, 'GET', wsUrl(t), undefined, bearer(body.token));
        assert.equal(own.statusCode, 200, `${role} token cannot read its workspace: ${own.body}`);
      }
      expectError(
        await admin(t, 'POST', wsUrl(t, '/tokens'), { name: 'x', role: 'superuser' }),
        400,
        'token.invalid_role',
      );
      expectError(
        await admin(t, 'POST', wsUrl(t, '/tokens'), { name: 'x', role: 'Owner' }),
        400,
        'token.invalid_role',
      );
      expectError(await admin(t, 'POST', wsUrl(t, '/tokens'), { name: 'x' }), 400);
    });
  });

  it('tokens: the list never shows secrets', async () => {
    await app(async (t) => {
      const secrets = [await createToken(t, 'admin'), await createToken(t, 'viewer')].map((c) => c.token);
      const res = await admin(t, 'GET', wsUrl(t, '/tokens'));
      assert.equal(res.statusCode, 200, res.body);
      const items = res.json<{ items: Record<string, unknown>[] }>().items;
      assert.equal(items.length, 2);
      for (const item of items) assert.equal(Object.hasOwn(item, 'token'), false);
      for (const secret of secrets)
        assert.equal(res.body.includes(secret), false, 'a token secret is listed');
    });
  });

  it('tokens: revoke answers 204, then the token answers 401; revoking twice is 404', async () => {
    await app(async (t) => {
      const { id, token } = await createToken(t, 'admin');
      assert.equal((await admin(t, 'GET', wsUrl(t, '/stats'), undefined, bearer(token))).statusCode, 200);
      const res = await admin(t, 'DELETE', wsUrl(t, `/tokens/${id}`));
      assert.equal(res.statusCode, 204, res.body);
      assert.equal(res.body, '');
      expectError(
        await admin(t, 'GET', wsUrl(t, '/stats'), undefined, bearer(token)),
        401,
        'auth.invalid_token',
      );
      expectError(await admin(t, 'DELETE', wsUrl(t, `/tokens/${id}`)), 404, 'token.not_found');
      const listed = (await admin(t, 'GET', wsUrl(t, '/tokens'))).json<{
        items: { id: string; revokedAt: string | null }[];
      }>();
      assert.notEqual(listed.items.find((item) => item.id === id)?.revokedAt ?? null, null);
    });
  });

  it('a missing, malformed or unknown bearer token answers 401', async () => {
    await app(async (t) => {
      const cases: [Record<string, string>, string][] = [
        [{}, 'auth.missing_token'],
        [{ authorization: 'Bearer' }, 'auth.missing_token'],
        [{ authorization: 'Bearer ' }, 'auth.missing_token'],
        [
          {
            authorization: `Basic ${Buffer.from(`${t.adminHeaders.authorization.slice(7)}:`).toString('base64')}`,
          },
          'auth.missing_token',
        ],
        [{ authorization: 'Bearer garbage' }, 'auth.invalid_token'],
        [{ authorization: `Bearer cdp_${'A'.repeat(32)}` }, 'auth.invalid_token'],
        [{ authorization: `${t.adminHeaders.authorization}x` }, 'auth.invalid_token'],
        [{ authorization: `Bearer ${t.writeKey}` }, 'auth.invalid_token'],
      ];
      for (const [headers, code] of cases) {
        for (const url of ['/api/v1/workspaces', wsUrl(t), wsUrl(t, '/stats'), wsUrl(t, '/events')]) {
          const res = await t.app.http.inject({ method: 'GET', url, headers });
          expectError(res, 401, code);
        }
      }
      const post = await t.app.http.inject({
        method: 'POST',
        url: '/api/v1/workspaces',
        payload: { name: 'x' },
      });
      expectError(post, 401, 'auth.missing_token');
    });
  });
});
