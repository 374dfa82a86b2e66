import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { createStore } from '../../src/storage/create-store.ts';
import { basicAuth } from '../e2e/ingest-traffic.ts';
import { runCdp, startServerProcess, type RunResult, type ServerProcess } from '../e2e/server-process.ts';
import { createTestDatabase } from '../support/postgres.ts';
import { describeEachStore, type StoreKind } from '../support/stores.ts';

/** The `cdp` command line, run as a real process against real stores. */

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'cdp-cli-'));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A location holding nothing yet (not even a schema), with the env that points `cdp` at it. */
async function emptyLocation(kind: StoreKind): Promise<Record<string, string>> {
  if (kind === 'sqlite') return { CDP_DATA_DIR: path.join(tempDir(), 'not-yet-created') };
  const db = await createTestDatabase();
  cleanups.push(db.drop);
  return { CDP_DATA_DIR: tempDir(), CDP_DATABASE_URL: db.url };
}

function succeeded(result: RunResult): string {
  assert.equal(result.timedOut, false, 'the command ends by itself');
  assert.equal(result.code, 0, `exit code; stderr:\n${result.stderr}`);
  return result.stdout;
}

/** A failed command: non-zero exit, the message on stderr, no stack trace. */
function failed(result: RunResult, message: RegExp): void {
  assert.equal(result.timedOut, false, 'the command ends by itself');
  assert.ok(result.code !== 0 && result.code !== null, `exit code ${result.code}; stdout:\n${result.stdout}`);
  assert.match(result.stderr, message);
  assert.doesNotMatch(result.stderr, /\n\s+at .+:\d+/, 'no stack trace');
}

function json<T>(stdout: string): T {
  return JSON.parse(stdout) as T;
}

async function track(url: string, writeKey: string): Promise<number> {
  const response = await fetch(`${url}/v1/track`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...basicAuth(writeKey) },
    body: JSON.stringify({ userId: 'cli-user', event: 'CLI Key Used' }),
    signal: AbortSignal.timeout(20_000),
  });
  await response.arrayBuffer();
  return response.status;
}

async function getStatus(url: string, token: string): Promise<number> {
  const response = await fetch(url, {
    headers: { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(20_000),
  });
  await response.arrayBuffer();
  return response.status;
}

describe('cdp --help', { concurrency: 4 }, () => {
  const commands: [args: string[], describes: RegExp][] = [
    [[], /Customer Data Platform[\s\S]*start[\s\S]*migrate[\s\S]*workspace[\s\S]*source[\s\S]*token/],
    [['start'], /start the platform/],
    [['migrate'], /schema migrations/],
    [['workspace', 'create'], /<name>\s+create a workspace[\s\S]*--slug[\s\S]*--json/],
    [['workspace', 'list'], /list workspaces[\s\S]*--json/],
    [['source', 'create'], /<workspace> <name>[\s\S]*write key/],
    [['source', 'rotate-key'], /<workspace> <sourceId>[\s\S]*write key/],
    [['token', 'create'], /<workspace> <name>[\s\S]*--role <role>[\s\S]*analyst/],
  ];
  for (const [args, describes] of commands) {
    it(
      `cdp ${[...args, '--help'].join(' ')} exits 0 and describes the command`,
      { timeout: 120_000 },
      async () => {
        // A data dir of its own: should --help ever run the command, it touches nothing shared.
        const stdout = succeeded(await runCdp([...args, '--help'], { CDP_DATA_DIR: tempDir(), PORT: '1' }));
        assert.match(stdout, new RegExp(`^Usage: cdp ${args.join(' ')}`.trimEnd()));
        assert.match(stdout, describes);
      },
    );
  }

  it('an unknown command fails with commander’s message', { timeout: 120_000 }, async () => {
    failed(await runCdp(['bogus'], { CDP_DATA_DIR: tempDir() }), /unknown command 'bogus'/);
  });

  it(
    'a data dir whose database file is not SQLite fails with the file and what to do',
    { timeout: 120_000 },
    async () => {
      const dir = tempDir();
      // Whatever overwrote it (a bad restore, another program): bytes that are not a database.
      writeFileSync(path.join(dir, 'cdp.sqlite'), Buffer.alloc(8192, 0x5a));
      for (const args of [['start'], ['migrate']]) {
        const result = await runCdp(args, { CDP_DATA_DIR: dir, PORT: '0' });
        failed(result, /cdp\.sqlite is not a readable SQLite database \(file is not a database\)/);
        assert.match(result.stderr, /restore it from a backup, or set CDP_DATA_DIR/);
      }
    },
  );
});

describeEachStore('cdp commands', (fixture) => {
  it('migrate creates the schema on an empty store and can run again', { timeout: 120_000 }, async () => {
    const env = await emptyLocation(fixture.kind);
    assert.match(succeeded(await runCdp(['migrate'], env)), /applied 001-event-log-and-workspaces/);
    assert.match(succeeded(await runCdp(['migrate'], env)), /schema already up to date/);
    const store = createStore({ databaseUrl: env['CDP_DATABASE_URL'], dataDir: env['CDP_DATA_DIR'] ?? '' });
    try {
      assert.deepEqual((await store.migrate()).applied, [], 'cdp migrate applied every migration');
    } finally {
      await store.close();
    }
    assert.deepEqual(json(succeeded(await runCdp(['workspace', 'list', '--json'], env))), []);
    // Without --json an empty list says so, and where it looked.
    assert.match(
      succeeded(await runCdp(['workspace', 'list'], env)),
      /^no workspaces \(store: (SQLite in |PostgreSQL)/,
    );
  });

  it(
    'creates workspaces, sources, keys and tokens that a server on the same data accepts',
    { timeout: 180_000 },
    async () => {
      const { store, env } = await fixture.fresh();
      await store.close();
      const cdp = (...args: string[]) => runCdp(args, env);

      const ws = json<{ id: string; slug: string; name: string }>(
        succeeded(await cdp('workspace', 'create', 'Acme Inc', '--json')),
      );
      assert.equal(ws.slug, 'acme-inc');
      assert.equal(ws.name, 'Acme Inc');
      assert.match(ws.id, /^ws_/);
      // Independent commands run side by side, as several operators (or scripts) would.
      const [listed, createdSource, analyst, viewerJson] = await Promise.all([
        cdp('workspace', 'list'),
        cdp('source', 'create', 'acme-inc', 'Web', '--json'),
        cdp('token', 'create', 'acme-inc', 'ci', '--role', 'analyst'),
        cdp('token', 'create', 'acme-inc', 'dashboards', '--role', 'viewer', '--json'),
      ]);
      assert.match(succeeded(listed), /^acme-inc\s/m);
      const source = json<{ id: string; name: string; writeKey: string }>(succeeded(createdSource));
      assert.equal(source.name, 'Web');
      assert.match(source.writeKey, /^wk_[A-Za-z0-9_-]{22,}$/);
      assert.doesNotMatch(JSON.stringify(source), /hash/i, 'no key hash is printed');
      const token = /token \(analyst\): (cdp_\S+)/.exec(succeeded(analyst))?.[1];
      assert.ok(token !== undefined, 'token create prints the token');
      const viewer = json<{ role: string; token: string }>(succeeded(viewerJson));
      assert.equal(viewer.role, 'viewer');
      assert.match(viewer.token, /^cdp_/);

      const rotated = /new write key: (wk_\S+)/.exec(
        succeeded(await cdp('source', 'rotate-key', 'acme-inc', source.id)),
      )?.[1];
      assert.ok(rotated !== undefined, 'rotate-key prints the new key');
      assert.notEqual(rotated, source.writeKey);

      let server: ServerProcess | undefined;
      try {
        server = await startServerProcess({ env });
        assert.equal(await track(server.url, rotated), 200, 'the rotated key works');
        assert.equal(await track(server.url, source.writeKey), 401, 'the replaced key no longer works');
        // An analyst reads stats, not raw events (they carry personal data: docs/PERMISSIONS.md).
        assert.equal(await getStatus(`${server.url}/api/v1/workspaces/acme-inc/stats`, token), 200);
        assert.equal(await getStatus(`${server.url}/api/v1/workspaces/acme-inc/events`, token), 403);
        assert.equal(await getStatus(`${server.url}/api/v1/workspaces/acme-inc`, viewer.token), 200);

        // Commands also work while a server runs on the same data, and it sees their result at once.
        const human = succeeded(await cdp('source', 'create', 'acme-inc', 'App'));
        const live = /write key: (wk_\S+)/.exec(human)?.[1];
        assert.ok(live !== undefined, `source create prints the key:\n${human}`);
        assert.equal(await track(server.url, live), 200, 'a key created while the server runs works');
        const exit = await server.stop('SIGTERM');
        assert.equal(exit.code, 0);
      } finally {
        if (server !== undefined && !server.exited()) await server.stop('SIGKILL', 5_000);
      }
    },
  );

  it(
    'fails clearly on an unknown workspace, a missing or invalid role, and bad names',
    { timeout: 120_000 },
    async () => {
      const { store, env } = await fixture.fresh();
      await store.close();
      succeeded(await runCdp(['workspace', 'create', 'Acme Inc'], env));
      const [unknownWs, unknownWsToken, unknownSource, noRole, badRole, badSlug] = await Promise.all([
        runCdp(['source', 'create', 'nope', 'Web'], env),
        runCdp(['token', 'create', 'nope', 'ci', '--role', 'viewer'], env),
        runCdp(['source', 'rotate-key', 'acme-inc', 'src_missing'], env),
        runCdp(['token', 'create', 'acme-inc', 'ci'], env),
        runCdp(['token', 'create', 'acme-inc', 'ci', '--role', 'god'], env),
        runCdp(['workspace', 'create', 'Bad', '--slug', 'Bad Slug!'], env),
      ]);
      failed(unknownWs, /workspace "nope"/);
      failed(unknownWsToken, /workspace "nope"/);
      failed(unknownSource, /src_missing/);
      failed(noRole, /required option '--role <role>' not specified/);
      failed(badRole, /argument 'god' is invalid[\s\S]*owner, admin, marketer, analyst, viewer/);
      failed(badSlug, /slug/);
    },
  );
});
