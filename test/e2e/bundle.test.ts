import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { basicAuth } from '../support/test-app.ts';
import { E2E_ADMIN_TOKEN, REPO_ROOT, startServerProcess } from './server-process.ts';

/** `npm start` runs the esbuild bundle, with its decoder worker, not the sources: test that. */
describe('the bundle npm start runs', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cdp-bundle-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it(
    'builds, starts, ingests through its worker, lists, and stops on SIGTERM',
    { timeout: 120_000 },
    async () => {
      execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: REPO_ROOT, stdio: 'inherit' });
      const server = await startServerProcess({
        env: { CDP_DATA_DIR: dir },
        entry: path.join(REPO_ROOT, 'dist', 'cdp.mjs'),
      });
      let stopped = false;
      try {
        const writeKey = server.banner().writeKey ?? '';
        assert.match(writeKey, /^wk_/);
        const batch = {
          batch: [
            { type: 'track', userId: 'b-1', event: 'Bundled', messageId: 'bundle-1' },
            { type: 'identify', userId: 'b-1', traits: { plan: 'pro' } },
          ],
        };
        const sent = await fetch(`${server.url}/v1/batch`, {
          method: 'POST',
          headers: { ...basicAuth(writeKey), 'content-type': 'application/json' },
          body: JSON.stringify(batch),
        });
        assert.equal(sent.status, 200, await sent.text());
        const bad = await fetch(`${server.url}/v1/track`, {
          method: 'POST',
          headers: basicAuth(writeKey),
          body: '{"userId":"x"}',
        });
        assert.equal(bad.status, 400);
        assert.equal(((await bad.json()) as { error: { code: string } }).error.code, 'ingest.missing_field');
        const listed = await fetch(`${server.url}/api/v1/workspaces/default/events?userId=b-1`, {
          headers: { authorization: `Bearer ${E2E_ADMIN_TOKEN}` },
        });
        const items = ((await listed.json()) as { items: { type: string }[] }).items;
        assert.deepEqual(items.map((e) => e.type).sort(), ['identify', 'track']);
        const exit = await server.stop('SIGTERM', 10_000);
        stopped = true;
        assert.equal(exit.code, 0);
      } finally {
        if (!stopped) await server.stop('SIGKILL', 5_000);
      }
    },
  );
});
