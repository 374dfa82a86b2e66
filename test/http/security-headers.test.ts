/**
 * Hardening: security headers on every response (HSTS only over HTTPS, directly or through a
 * trusted proxy), CORS open on the ingestion routes only, and no GET that changes anything.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import type { LightMyRequestResponse } from 'fastify';
import { createSqliteStore } from '../../src/storage/sqlite/sqlite-store.ts';
import { drained, eventually, privacyRequest } from '../privacy/privacy-helpers.ts';
import { memberUser } from '../support/console-users.ts';
import { admin, sendOk, withApp } from '../support/http-helpers.ts';
import { basicAuth, type TestApp } from '../support/test-app.ts';

/** Audited reads append to the audit log: its rows, sequence and recorded head move. */
const AUDIT_BOOKKEEPING: Record<string, string> = {
  sqlite_sequence: " WHERE name != 'audit_log'",
  instance_state: " WHERE key != 'audit.head'",
};

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function fileStore() {
  const dir = mkdtempSync(path.join(tmpdir(), 'cdp-headers-'));
  dirs.push(dir);
  const filename = path.join(dir, 'cdp.sqlite');
  const store = createSqliteStore({ filename });
  await store.migrate();
  return { store, filename };
}

function expectSecurityHeaders(res: LightMyRequestResponse | http.IncomingMessage, what: string): void {
  const h = res.headers;
  assert.equal(h['x-content-type-options'], 'nosniff', what);
  assert.equal(h['referrer-policy'], 'no-referrer', what);
  assert.equal(h['x-frame-options'], 'DENY', what);
  assert.match(String(h['content-security-policy']), /frame-ancestors 'none'/, what);
}

describe('security headers, CORS, safe methods', () => {
  it('puts the security headers on every kind of response; HSTS only over HTTPS', async () => {
    const { store } = await fileStore();
    await withApp(store, {}, async (t) => {
      const responses: [string, LightMyRequestResponse][] = [
        ['health', await t.app.http.inject({ method: 'GET', url: '/health' })],
        ['console', await t.app.http.inject({ method: 'GET', url: '/' })],
        ['openapi', await t.app.http.inject({ method: 'GET', url: '/api/v1/openapi.json' })],
        ['admin', await admin(t, 'GET', '/api/v1/workspaces')],
        ['unauthorized', await t.app.http.inject({ method: 'GET', url: '/api/v1/workspaces' })],
        ['not found', await t.app.http.inject({ method: 'GET', url: '/nothing/here' })],
        [
          'tracking',
          await t.app.http.inject({
            method: 'POST',
            url: '/v1/track',
            headers: { ...basicAuth(t.writeKey), 'content-type': 'application/json' },
            payload: { userId: 'h1', event: 'E' },
          }),
        ],
        ['bad tracking', await t.app.http.inject({ method: 'POST', url: '/v1/track', payload: 'nope' })],
      ];
      for (const [what, res] of responses) {
        expectSecurityHeaders(res, what);
        assert.equal(res.headers['strict-transport-security'], undefined, `${what}: HSTS over plain HTTP`);
      }
      const consoleCsp = String(responses[1]?.[1].headers['content-security-policy']);
      assert.match(consoleCsp, /script-src 'self'/);
      assert.equal(responses[3]?.[1].headers['cache-control'], 'no-store');
      // A proxy's X-Forwarded-Proto is not believed unless the proxy is trusted.
      const spoofed = await t.app.http.inject({
        method: 'GET',
        url: '/health',
        headers: { 'x-forwarded-proto': 'https' },
      });
      assert.equal(spoofed.headers['strict-transport-security'], undefined);

      // The live stream writes its own head: the headers are there too.
      await t.app.http.listen({ port: 0, host: '127.0.0.1' });
      const address = t.app.http.server.address() as { port: number };
      const streamed = await new Promise<http.IncomingMessage>((resolve, reject) => {
        const req = http.get(
          {
            host: '127.0.0.1',
            port: address.port,
            path: `/api/v1/workspaces/${t.workspace.slug}/events/stream`,
            headers: t.adminHeaders,
          },
          (res) => {
            resolve(res);
            req.destroy();
          },
        );
        req.on('error', reject);
      });
      assert.equal(streamed.statusCode, 200);
      expectSecurityHeaders(streamed, 'event stream');
    });
    await withApp(store, { env: { CDP_TRUST_PROXY: 'true' } }, async (t) => {
      const viaProxy = await t.app.http.inject({
        method: 'GET',
        url: '/health',
        headers: { 'x-forwarded-proto': 'https' },
      });
      assert.equal(viaProxy.headers['strict-transport-security'], 'max-age=31536000; includeSubDomains');
      const plain = await t.app.http.inject({ method: 'GET', url: '/health' });
      assert.equal(plain.headers['strict-transport-security'], undefined);
    });
    await store.close();
  });

  it('opens CORS on the ingestion routes only', async () => {
    const { store } = await fileStore();
    await withApp(store, {}, async (t) => {
      const origin = 'https://shop.example';
      const preflight = await t.app.http.inject({
        method: 'OPTIONS',
        url: '/v1/track',
        headers: { origin, 'access-control-request-method': 'POST' },
      });
      assert.equal(preflight.statusCode, 204);
      assert.equal(preflight.headers['access-control-allow-origin'], origin);
      const tracked = await t.app.http.inject({
        method: 'POST',
        url: '/v1/t',
        headers: { origin, ...basicAuth(t.writeKey), 'content-type': 'text/plain' },
        payload: JSON.stringify({ userId: 'c', event: 'E' }),
      });
      assert.equal(tracked.headers['access-control-allow-origin'], origin);
      for (const [method, url] of [
        ['OPTIONS', '/api/v1/workspaces'],
        ['OPTIONS', `/api/v1/workspaces/${t.workspace.slug}/privacy-requests`],
        ['GET', '/api/v1/workspaces'],
        ['POST', '/api/v1/session'],
        ['GET', '/health'],
        ['GET', '/metrics'],
      ] as const) {
        const res = await t.app.http.inject({
          method,
          url,
          headers: { origin, 'access-control-request-method': 'POST', ...t.adminHeaders },
        });
        assert.equal(res.headers['access-control-allow-origin'], undefined, `${method} ${url}`);
        assert.equal(res.headers['access-control-allow-credentials'], undefined, `${method} ${url}`);
      }
    });
    await store.close();
  });

  it('no GET route changes anything: every table but the audit log is the same after calling them all', async () => {
    const { store, filename } = await fileStore();
    await withApp(store, {}, async (t: TestApp) => {
      await sendOk(t, 'identify', {
        userId: 'get-u',
        traits: { email: 'get@example.org', plan: 'pro' },
        context: { consent: { categoryPreferences: { marketing: true } } },
      });
      await sendOk(t, 'group', { userId: 'get-u', groupId: 'g-1', traits: { name: 'G' } });
      await drained(t);
      const profile = await eventually(async () => {
        const res = await admin(
          t,
          'GET',
          `/api/v1/workspaces/${t.workspace.slug}/profiles/lookup?type=user_id&value=get-u`,
        );
        return res.statusCode === 200 ? res.json<{ id: string; accounts: string[] }>() : undefined;
      }, 'profile');
      await admin(t, 'POST', `/api/v1/workspaces/${t.workspace.slug}/segments`, {
        name: 'Pro',
        slug: 'pro',
        definition: 'traits.plan = "pro"',
      });
      await admin(t, 'POST', `/api/v1/workspaces/${t.workspace.slug}/computed-traits`, {
        name: 'visits',
        definition: { kind: 'event_count', event: 'Visit' },
      });
      const request = await privacyRequest(t, 'export', { type: 'user_id', value: 'get-u' });
      const user = await memberUser(t, 'viewer');
      const destination = await admin(t, 'POST', `/api/v1/workspaces/${t.workspace.slug}/destinations`, {
        type: 'webhook',
        name: 'hook',
        config: { url: 'https://hooks.example.com/cdp' },
      });
      assert.equal(destination.statusCode, 201, destination.body);
      // A rebuild that ran, so GET …/profiles/rebuild has something to show (404 otherwise).
      const rebuild = `/api/v1/workspaces/${t.workspace.slug}/profiles/rebuild`;
      assert.equal((await admin(t, 'POST', rebuild)).statusCode, 202);
      const deadline = Date.now() + 20_000;
      while ((await admin(t, 'GET', rebuild)).json<{ status: string }>().status !== 'done') {
        assert.ok(Date.now() < deadline, 'the rebuild did not finish');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await t.app.services.segments.idle();
      await t.app.services.computedTraits.idle();
      await t.app.services.privacyRequests.idle();
      const ids: Record<string, string> = {
        '/profiles/:id': profile.id,
        '/accounts/:id': profile.accounts[0] ?? 'acc_none',
        '/privacy-requests/:id': request.id,
        '/sources/:id': t.sourceId,
        '/users/:id': user.id,
        '/failed-events/:id': 'fe_none',
        '/segments/:slug': 'pro',
        '/computed-traits/:name': 'visits',
        '/destinations/:id': destination.json<{ id: string }>().id,
      };
      const snapshot = (): Map<string, string> => {
        const db = new BetterSqlite3(filename, { readonly: true });
        try {
          const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as {
            name: string;
          }[];
          return new Map(
            tables
              .filter(({ name }) => name !== 'audit_log')
              .map(({ name }) => [
                name,
                JSON.stringify(db.prepare(`SELECT * FROM "${name}"${AUDIT_BOOKKEEPING[name] ?? ''}`).all()),
              ]),
          );
        } finally {
          db.close();
        }
      };
      const before = snapshot();
      const called: string[] = [];
      for (const route of t.app.http.adminRoutes) {
        if (route.method !== 'GET' || route.url.endsWith('/events/stream')) continue;
        let url = route.url.replace(':ws', t.workspace.slug);
        for (const [pattern, id] of Object.entries(ids))
          url = url.replace(pattern, pattern.replace(/:\w+$/, id));
        if (url.endsWith('/lookup')) url += '?type=user_id&value=get-u';
        const res = await admin(t, 'GET', url);
        assert.ok(res.statusCode < 500, `${url}: ${res.statusCode} ${res.body}`);
        called.push(`${res.statusCode} ${url}`);
      }
      assert.ok(called.length >= 35, called.join('\n'));
      assert.ok(called.filter((c) => c.startsWith('200')).length >= called.length - 1, called.join('\n'));
      const afterCalls = snapshot();
      for (const [table, rows] of before) assert.equal(afterCalls.get(table), rows, `GET changed ${table}`);
    });
    await store.close();
  });
});
