import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { it } from 'node:test';
import type { AcceptedEvent } from '../../src/ingestion/message-types.ts';
import { runCdp } from '../e2e/server-process.ts';
import { describeEachStore } from '../support/stores.ts';

const AT = Date.parse('2026-03-01T00:00:00Z');

function identify(i: number, userId: string, email: string): AcceptedEvent {
  const message = {
    type: 'identify',
    messageId: `pcli-${i}`,
    userId,
    traits: { email },
    timestamp: new Date(AT + i).toISOString(),
  };
  return {
    workspaceId: 'ws_pcli',
    sourceId: 'src_1',
    messageId: `pcli-${i}`,
    type: 'identify',
    event: null,
    userId,
    anonymousId: null,
    timestampMs: AT + i,
    receivedMs: AT,
    payload: JSON.stringify(message),
  };
}

describeEachStore('cdp privacy', (fixture) => {
  it(
    'runs a request, waits, prints the result or writes the export; lists requests',
    { timeout: 120_000 },
    async () => {
      const handle = await fixture.fresh();
      const env = { ...handle.env, CDP_ENCRYPTION_KEY: Buffer.alloc(32, 3).toString('base64') };
      const { store } = handle;
      await store.workspaces.create({ id: 'ws_pcli', slug: 'pcli', name: 'Privacy CLI', createdMs: AT });
      await store.events.append(
        [identify(1, 'ann', 'Ann@Example.com'), identify(2, 'bob', 'bob@example.com')],
        0,
      );
      await store.close();
      assert.equal((await runCdp(['profiles', 'rebuild', 'pcli'], env)).code, 0);

      const dir = mkdtempSync(path.join(tmpdir(), 'cdp-privacy-cli-'));
      try {
        const out = path.join(dir, 'ann.json');
        const exported = await runCdp(
          ['privacy', 'request', 'pcli', 'export', 'email', 'ann@example.com', '--out', out],
          env,
        );
        assert.equal(exported.code, 0, exported.stderr);
        assert.match(exported.stdout, /export prq_\w+ written to .*ann\.json/);
        assert.equal(statSync(out).mode & 0o777, 0o600);
        const doc = JSON.parse(readFileSync(out, 'utf8')) as {
          format: string;
          identities: { value: string }[];
        };
        assert.equal(doc.format, 'cdp.privacy-export.v1');
        assert.ok(doc.identities.some((i) => i.value === 'ann@example.com'));

        const erased = await runCdp(['privacy', 'request', 'pcli', 'erase', 'user_id', 'ann', '--json'], env);
        assert.equal(erased.code, 0, erased.stderr);
        const result = JSON.parse(erased.stdout) as {
          status: string;
          result: { deleted: Record<string, number> };
        };
        assert.equal(result.status, 'completed');
        assert.equal(result.result.deleted['events'], 1);

        const bad = await runCdp(['privacy', 'request', 'pcli', 'forget', 'user_id', 'bob'], env);
        assert.equal(bad.code, 1);
        assert.match(bad.stderr, /type must be one of export, erase, suppress_and_erase, unsuppress/);

        const list = await runCdp(['privacy', 'list', 'pcli'], env);
        assert.equal(list.code, 0, list.stderr);
        const lines = list.stdout.trim().split('\n');
        assert.equal(lines.length, 2);
        assert.match(lines[0] ?? '', /^prq_\w+\terase\tcompleted\tuser_id\t/);
        assert.match(lines[1] ?? '', /^prq_\w+\texport\tcompleted\temail\t/);
        assert.ok(!list.stdout.includes('ann'), 'a finished request shows no identifier');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
