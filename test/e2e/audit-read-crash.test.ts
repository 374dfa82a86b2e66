import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { runCdp, startServerProcess } from './server-process.ts';

/**
 * With `CDP_AUDIT_READS_WAIT_FOR_DISK=false` an audited read is answered once its audit entry
 * is committed, without waiting for the entry's fsync (governance/audit.service.ts). What that promises: a crash of the process right
 * after the answer keeps the entry. A real server gets `kill -9` just after its last answer; an
 * entry still held in memory (recorded after the answer, or batched for later) is lost, and
 * the count tells.
 */
describe('audit entries of reads survive a crash of the server [sqlite]', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cdp-audit-crash-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it(
    'every answered lookup by e-mail has its entry after kill -9, and the chain verifies',
    { timeout: 120_000 },
    async () => {
      const server = await startServerProcess({
        env: { CDP_DATA_DIR: dir, CDP_AUDIT_READS_WAIT_FOR_DISK: 'false' },
      });
      let answered = 0;
      try {
        const { writeKey, workspace } = server.banner();
        assert.ok(writeKey !== undefined && workspace !== undefined, server.stdout());
        const sent = await fetch(`${server.url}/v1/identify`, {
          method: 'POST',
          headers: {
            authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`,
            'content-type': 'application/json',
          },
          body: JSON.stringify({ userId: 'crash-user', traits: { email: 'ada.crash@example.com' } }),
        });
        assert.equal(sent.status, 200);
        const lookup = async (): Promise<number> => {
          const response = await fetch(
            `${server.url}/api/v1/workspaces/${workspace}/profiles/lookup?type=email&value=ada.crash%40example.com`,
            { headers: { authorization: `Bearer ${server.adminToken}` } },
          );
          await response.arrayBuffer();
          answered += 1;
          return response.status;
        };
        // Found or not, every lookup by e-mail is audited.
        const deadline = performance.now() + 30_000;
        while ((await lookup()) !== 200) {
          assert.ok(performance.now() < deadline, 'the profile never became visible');
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        for (let i = 0; i < 40; i++) assert.equal(await lookup(), 200);
      } finally {
        await server.stop('SIGKILL');
      }

      const db = new BetterSqlite3(path.join(dir, 'cdp.sqlite'));
      const entries = db
        .prepare(`select count(*) from audit_log where action = 'GET /api/v1/workspaces/:ws/profiles/lookup'`)
        .pluck()
        .get();
      db.close();
      assert.equal(entries, answered, 'one entry per answered lookup');
      const verified = await runCdp(['audit', 'verify'], { CDP_DATA_DIR: dir });
      assert.equal(verified.code, 0, verified.stderr);
      assert.match(verified.stdout, /audit log intact/);
    },
  );
});
