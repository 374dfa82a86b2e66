import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { describeEachStore } from '../support/stores.ts';
import {
  adminClient,
  basicAuth,
  createWorkspaceWithSource,
  startLoad,
  storedEventCount,
  storedMessageIds,
  waitFor,
} from './ingest-traffic.ts';
import { freePort, runCdp, startServerProcess, type ServerProcess } from './server-process.ts';

/** `cdp start` as an operator sees it: banner, secrets, health, metrics, shutdown, bad config. */

const SHUTDOWN_LIMIT_MS = 10_000;

/** An HTTP answer, read to the end so no connection is left waiting on its body. */
interface Answer {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
}

async function call(url: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(20_000) });
  const text = await response.text();
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', text };
}

function track(url: string, writeKey: string, messageId: string): Promise<Answer> {
  return call(`${url}/v1/track`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...basicAuth(writeKey) },
    body: JSON.stringify({ userId: 'lifecycle-user', event: 'Lifecycle Checked', messageId }),
  });
}

function get(url: string, token?: string): Promise<Answer> {
  return call(url, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
}

async function stopGracefully(server: ServerProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  const exit = await server.stop(signal, 20_000);
  assert.equal(exit.timedOut, false, `the process exits on ${signal}`);
  assert.equal(exit.code, 0, `exit code after ${signal}; stderr:\n${server.stderr()}`);
  assert.ok(exit.durationMs < SHUTDOWN_LIMIT_MS, `${signal} took ${Math.round(exit.durationMs)} ms`);
}

describeEachStore('cdp start', (fixture) => {
  const servers: ServerProcess[] = [];
  after(async () => {
    for (const server of servers) if (!server.exited()) await server.stop('SIGKILL', 5_000);
  });

  it('prints the address and the first secrets once, and they work', { timeout: 120_000 }, async () => {
    const { store, env } = await fixture.fresh();
    await store.close();
    const first = await startServerProcess({ env });
    servers.push(first);
    const banner = first.banner();
    assert.equal(banner.listening, first.url, `banner:\n${first.stdout()}`);
    assert.equal(banner.workspace, 'default');
    assert.match(banner.writeKey ?? '', /^wk_[A-Za-z0-9_-]{22,}$/);
    assert.match(banner.adminToken ?? '', /^cdp_[A-Za-z0-9_-]{22,}$/);
    assert.match(first.stdout(), fixture.kind === 'sqlite' ? /SQLite in / : /PostgreSQL/);
    const writeKey = banner.writeKey ?? '';
    const adminToken = banner.adminToken ?? '';

    const tracked = await track(first.url, writeKey, 'lifecycle-1');
    assert.equal(tracked.status, 200);
    assert.deepEqual(JSON.parse(tracked.text), { success: true });
    const wrongKey = await track(first.url, 'wk_not_a_key_at_all_0000000000', 'lifecycle-x');
    assert.equal(wrongKey.status, 401);

    for (const token of [adminToken, first.adminToken]) {
      const listed = await get(`${first.url}/api/v1/workspaces`, token);
      assert.equal(listed.status, 200);
      const body = JSON.parse(listed.text) as { items: { slug: string }[] };
      assert.ok(body.items.some((w) => w.slug === 'default'));
    }
    assert.equal((await get(`${first.url}/api/v1/workspaces`, 'cdp_wrong_token_00000000000000')).status, 401);
    assert.equal((await get(`${first.url}/api/v1/workspaces`)).status, 401);

    if (fixture.kind === 'sqlite') {
      const keyFile = path.join(env['CDP_DATA_DIR'] ?? '', 'encryption.key');
      assert.equal(statSync(keyFile).mode & 0o777, 0o600, 'encryption.key is readable by its owner only');
    }
    await stopGracefully(first);
    const keyBefore =
      fixture.kind === 'sqlite' ? readFileSync(path.join(env['CDP_DATA_DIR'] ?? '', 'encryption.key')) : '';

    const second = await startServerProcess({ env });
    servers.push(second);
    const again = second.stdout();
    assert.equal(second.banner().listening, second.url);
    assert.equal(second.banner().workspace, 'default');
    assert.ok(!again.includes(writeKey), `the write key is printed again:\n${again}`);
    assert.ok(!again.includes(adminToken), `the admin token is printed again:\n${again}`);
    assert.doesNotMatch(again, /Admin token:/);
    assert.equal(
      (await track(second.url, writeKey, 'lifecycle-2')).status,
      200,
      'the first write key still works',
    );
    assert.equal((await get(`${second.url}/api/v1/workspaces`, adminToken)).status, 200);
    assert.equal(await storedEventCount(adminClient(second.url, adminToken), 'default'), 2);
    if (fixture.kind === 'sqlite') {
      const keyAfter = readFileSync(path.join(env['CDP_DATA_DIR'] ?? '', 'encryption.key'));
      assert.deepEqual(keyAfter, keyBefore, 'the encryption key is kept across restarts');
    }
    await stopGracefully(second);
  });

  it('answers /health, serves Prometheus /metrics and stops on SIGINT', { timeout: 120_000 }, async () => {
    const { store, env } = await fixture.fresh();
    await store.close();
    const server = await startServerProcess({ env });
    servers.push(server);
    const health = await get(`${server.url}/health`);
    assert.equal(health.status, 200);
    assert.deepEqual(JSON.parse(health.text), { status: 'ok' });
    assert.equal((await track(server.url, server.banner().writeKey ?? '', 'metrics-1')).status, 200);
    const metrics = await get(`${server.url}/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(metrics.contentType, /^text\/plain/);
    const text = metrics.text;
    assert.match(text, /^# TYPE \S+ (counter|gauge|histogram)$/m);
    assert.match(text, /^cdp_ingest_ack_seconds_bucket\{/m, 'the ack latency histogram is exported');
    assert.match(text, /^cdp_ingest_events_total\{[^}]*\} [1-9]/m, 'the tracked event is counted');
    await stopGracefully(server, 'SIGINT');
  });

  it(
    'exits 0 on SIGTERM within 10 s under load, keeping every acknowledged event',
    { timeout: 180_000 },
    async (t) => {
      const { store, env } = await fixture.fresh();
      await store.close();
      const server = await startServerProcess({ env });
      servers.push(server);
      const { slug, writeKey } = await createWorkspaceWithSource(
        adminClient(server.url, server.adminToken),
        'Drain',
      );
      const load = startLoad({
        url: server.url,
        writeKey,
        clients: 6,
        batchSize: 100,
        prefix: `sigterm-${randomUUID().slice(0, 8)}`,
        maxBatchesPerClient: 5_000,
      });
      const started = performance.now();
      await waitFor(() => performance.now() - started > 700 && load.acked.length >= 6, 60_000, 'traffic');
      const inFlight = load.inFlight();
      await stopGracefully(server);
      load.stop();
      await Promise.race([load.done, new Promise((resolve) => setTimeout(resolve, 30_000).unref())]);
      assert.ok(inFlight > 0, 'requests were in flight at SIGTERM');
      t.diagnostic(
        `${load.sent.length} batches sent, ${load.acked.length} acknowledged, ${inFlight} in flight at SIGTERM, ` +
          `${load.refused.get(503) ?? 0} answered 503, ${load.failed.length} without an answer`,
      );
      const unexpected = [...load.refused.keys()].filter((status) => status !== 503);
      assert.deepEqual(unexpected, [], 'during shutdown requests are answered 200 or 503, nothing else');

      const restarted = await startServerProcess({ env });
      servers.push(restarted);
      const admin = adminClient(restarted.url, restarted.adminToken);
      const counts = await storedMessageIds(admin, slug);
      const lost = load.acked.flatMap((batch) => batch.messageIds.filter((id) => counts.get(id) !== 1));
      assert.equal(
        lost.length,
        0,
        `acknowledged events not stored exactly once: ${lost.slice(0, 5).join(', ')}`,
      );
      assert.equal(await storedEventCount(admin, slug), counts.size);
      await stopGracefully(restarted);
    },
  );
});

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDataDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'cdp-e2e-'));
  dirs.push(dir);
  return dir;
}

describe('cdp start, edge cases', () => {
  it(
    'starts when a workspace with the slug "default" exists before the first start',
    {
      timeout: 120_000,
    },
    async () => {
      const env = { CDP_DATA_DIR: tempDataDir() };
      const created = await runCdp(['workspace', 'create', 'Default'], env);
      assert.equal(created.code, 0, created.stderr);
      const server = await startServerProcess({ env });
      try {
        assert.equal((await get(`${server.url}/api/v1/workspaces`, server.adminToken)).status, 200);
        assert.match(server.banner().writeKey ?? '', /^wk_/, 'the first start still prints a write key');
      } finally {
        await server.stop('SIGKILL', 5_000);
      }
    },
  );

  it(
    'exits 0 within 10 s on SIGTERM although a client stalls in the middle of its request body',
    {
      timeout: 120_000,
    },
    async () => {
      const server = await startServerProcess({ env: { CDP_DATA_DIR: tempDataDir() } });
      const socket = connect(server.port, '127.0.0.1');
      try {
        await once(socket, 'connect');
        // Headers and the start of a body that never completes.
        const { authorization } = basicAuth(server.banner().writeKey ?? '');
        socket.write(
          'POST /v1/batch HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
            `Authorization: ${authorization}\r\nContent-Length: 1000\r\n\r\n{"batch":[`,
        );
        await new Promise((resolve) => setTimeout(resolve, 300));
        await stopGracefully(server);
      } finally {
        socket.destroy();
        if (!server.exited()) await server.stop('SIGKILL', 5_000);
      }
    },
  );
});

describe('cdp start on a data dir another server uses', () => {
  it(
    'refuses to start, leaves the running server alone, and starts once that one is gone (even by kill -9)',
    { timeout: 180_000 },
    async () => {
      const env = { CDP_DATA_DIR: tempDataDir() };
      const first = await startServerProcess({ env });
      const servers = [first];
      try {
        const writeKey = first.banner().writeKey ?? '';
        assert.equal((await track(first.url, writeKey, randomUUID())).status, 200);

        const second = await runCdp(['start'], { ...env, PORT: String(await freePort()) }, 60_000);
        assert.equal(second.code, 1, `exit code; stderr:\n${second.stderr}`);
        assert.match(second.stderr, /another cdp server is running on the data dir/);
        assert.match(second.stderr, /CDP_DATABASE_URL/);
        assert.doesNotMatch(second.stderr, /\n\s+at .+:\d+/, 'no stack trace');
        assert.equal(
          (await track(first.url, writeKey, randomUUID())).status,
          200,
          'the first one still works',
        );

        // The operating system lets go of the lock with the process: nothing stale to clean up.
        await first.stop('SIGKILL', 10_000);
        const third = await startServerProcess({ env });
        servers.push(third);
        assert.equal((await track(third.url, writeKey, randomUUID())).status, 200);
        await stopGracefully(third);
      } finally {
        for (const server of servers) if (!server.exited()) await server.stop('SIGKILL', 5_000);
      }
    },
  );
});

describe('cdp start with a wrong configuration', { concurrency: 4 }, () => {
  const cases: [variable: string, value: string][] = [
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['CDP_DATABASE_URL', 'mysql://x'],
    ['CDP_ENCRYPTION_KEY', 'short'],
    ['CDP_LOG_LEVEL', 'loud'],
    ['CDP_ADMIN_TOKEN', 'short'],
    ['CDP_NATS_URL', 'redis://x'],
  ];
  for (const [variable, value] of cases) {
    it(
      `${variable}=${value} stops the process with a message naming ${variable}`,
      { timeout: 120_000 },
      async () => {
        const result = await runCdp(['start'], {
          CDP_DATA_DIR: tempDataDir(),
          PORT: String(await freePort()),
          [variable]: value,
        });
        assert.equal(result.timedOut, false, 'the process stops by itself');
        assert.notEqual(result.code, 0);
        assert.notEqual(result.code, null);
        assert.match(result.stderr, new RegExp(`\\b${variable}\\b`), `stderr:\n${result.stderr}`);
        assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
        assert.doesNotMatch(result.stdout, /listening/);
      },
    );
  }
});
