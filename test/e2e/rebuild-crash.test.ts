/**
 * `cdp profiles rebuild` killed with SIGKILL half-way through: the server started afterwards
 * finishes the rebuild by itself, and every profile ends as it was before (a rebuild of the
 * same log gives the same profiles). Before rebuilds recorded their position, the profiles
 * kept only the part of the history replayed before the kill.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { it } from 'node:test';
import { describeEachStore } from '../support/stores.ts';
import { adminClient, createWorkspaceWithSource } from './ingest-traffic.ts';
import { batchBodies, caughtUp, failedEvents, ingest, profiles } from './profile-snapshot.ts';
import { CDP_BIN, childEnv, REPO_ROOT, startServerProcess, type ServerProcess } from './server-process.ts';

const PEOPLE = 600;

interface Rebuild {
  status: string;
  done: number;
  total: number;
}

describeEachStore('crash: kill -9 during a profile rebuild', (fixture) => {
  it('the next server finishes it, with the same profiles as before', { timeout: 300_000 }, async (t) => {
    const handle = await fixture.fresh();
    const env = {
      ...handle.env,
      CDP_RATE_LIMIT_INGEST: '0',
      CDP_RATE_LIMIT_API: '0',
      // The command and both servers must open the same sealed data (PostgreSQL has no data dir).
      CDP_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    };
    const servers: ServerProcess[] = [];
    try {
      let server = await startServerProcess({ env });
      servers.push(server);
      let admin = adminClient(server.url, server.adminToken);
      const { slug, writeKey } = await createWorkspaceWithSource(admin, 'Rebuild crash');
      await ingest(server, writeKey, batchBodies(PEOPLE, 23));
      await caughtUp(server);
      const expected = await profiles(admin, slug);
      assert.equal((await server.stop('SIGTERM')).code, 0);

      const workspace = await handle.store.workspaces.findByIdOrSlug(slug);
      assert.ok(workspace);
      const command = spawn(process.execPath, [CDP_BIN, 'profiles', 'rebuild', slug], {
        cwd: REPO_ROOT,
        env: childEnv(env),
        stdio: 'ignore',
      });
      const exited = new Promise<NodeJS.Signals | null>((resolve) =>
        command.once('exit', (_code, signal) => resolve(signal)),
      );
      // Killed once a few pages of the log have been applied, well before the end.
      const deadline = performance.now() + 120_000;
      let atKill: Awaited<ReturnType<typeof handle.store.profileState.rebuildOf>>;
      for (;;) {
        atKill = await handle.store.profileState.rebuildOf(workspace.id);
        if (atKill?.status === 'replaying' && atKill.done >= 4_000) break;
        assert.ok(atKill?.status !== 'done', 'the rebuild ended before it could be killed');
        assert.ok(performance.now() < deadline, `rebuild stuck at ${JSON.stringify(atKill)}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      command.kill('SIGKILL');
      assert.equal(await exited, 'SIGKILL');
      const left = await handle.store.profileState.rebuildOf(workspace.id);
      t.diagnostic(`killed at ${left?.done} of ${left?.total} events`);
      assert.equal(left?.status, 'replaying');
      assert.ok((left?.done ?? 0) < (left?.total ?? 0), 'the kill landed half-way');
      await handle.store.close();

      server = await startServerProcess({ env });
      servers.push(server);
      admin = adminClient(server.url, server.adminToken);
      const until = performance.now() + 120_000;
      for (;;) {
        const progress = await admin.get<Rebuild>(`/api/v1/workspaces/${slug}/profiles/rebuild`);
        assert.equal(progress.status, 200);
        if (progress.body.status === 'done') {
          assert.equal(progress.body.done, progress.body.total);
          break;
        }
        assert.ok(performance.now() < until, `rebuild not resumed: ${JSON.stringify(progress.body)}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await caughtUp(server);
      const actual = await profiles(admin, slug);
      assert.equal(await failedEvents(admin, slug), 0);
      assert.equal(actual.size, expected.size, 'as many profiles');
      for (const [id, profile] of expected) assert.equal(actual.get(id), profile, `profile ${id}`);
      assert.equal((await server.stop('SIGTERM')).code, 0);
    } finally {
      for (const server of servers) if (!server.exited()) await server.stop('SIGKILL', 5_000);
    }
  });
});
