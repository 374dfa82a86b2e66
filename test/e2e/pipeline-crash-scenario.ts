/**
 * The crash test of the pipeline: a real server process catching up on generator traffic gets
 * `kill -9` several times in the middle of its profile batches. Once it has caught up after the
 * last restart, every profile (identities, traits with their provenance, consent, accounts,
 * event counts, first and last seen) is the same as in a server that processed the same events
 * without a crash, and no event was given up on. Processing runs after the ack, from the log,
 * idempotently: this is where that promise is checked on real processes. One file per store
 * (pipeline-crash.*.test.ts): each run takes minutes under CI load.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { StoreFixture } from '../support/stores.ts';
import { adminClient, createWorkspaceWithSource } from './ingest-traffic.ts';
import { batchBodies, caughtUp, failedEvents, ingest, pipelineLag, profiles } from './profile-snapshot.ts';
import { startServerProcess, type ServerProcess } from './server-process.ts';

const PEOPLE = 600;
/**
 * Pauses before each kill, counted from the moment the restarted server's pipeline has been
 * seen committing a batch: the kill then lands while it works through the rest.
 */
const KILL_AFTER_MS = [40, 150, 90, 220];
/** Short batches (CDP_PIPELINE_MAX_BATCH_MS): many commits, so a kill lands between two of them. */
const BATCH_MS = '50';

interface Kill {
  /** Events left when the restarted server started. */
  readonly atStart: number;
  /** Events left at the kill. */
  readonly atKill: number;
}

/** Waits until the pipeline has committed at least one batch since `lag` was read. */
async function progressedFrom(server: ServerProcess, lag: number): Promise<void> {
  const deadline = performance.now() + 120_000;
  while ((await pipelineLag(server)) >= lag && lag > 0) {
    if (performance.now() > deadline) assert.fail(`the pipeline made no progress from ${lag} within 120 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export function pipelineCrashScenario(fixture: StoreFixture): void {
  it('ends with the same profiles as a run without a crash', { timeout: 600_000 }, async (t) => {
    const bodies = batchBodies(PEOPLE, 17);
    const env = { CDP_RATE_LIMIT_INGEST: '0', CDP_RATE_LIMIT_API: '0' };
    const servers: ServerProcess[] = [];
    try {
      const clean = await fixture.fresh();
      await clean.store.close();
      const reference = await startServerProcess({ env: { ...clean.env, ...env } });
      servers.push(reference);
      const referenceAdmin = adminClient(reference.url, reference.adminToken);
      const first = await createWorkspaceWithSource(referenceAdmin, 'Pipeline crash');
      await ingest(reference, first.writeKey, bodies);
      await caughtUp(reference);
      const expected = await profiles(referenceAdmin, first.slug);
      assert.equal(await failedEvents(referenceAdmin, first.slug), 0);
      await reference.stop('SIGTERM');

      const crashed = await fixture.fresh();
      await crashed.store.close();
      // The crashed server runs its pipeline on a thread of its own, in short batches; the
      // reference one in its main thread, in the default ones: both must end with the same
      // profiles.
      const crashEnv = {
        ...crashed.env,
        ...env,
        CDP_PIPELINE_THREAD: 'true',
        CDP_PIPELINE_MAX_BATCH_MS: BATCH_MS,
      };
      let server = await startServerProcess({ env: crashEnv });
      servers.push(server);
      const second = await createWorkspaceWithSource(
        adminClient(server.url, server.adminToken),
        'Pipeline crash',
      );
      await ingest(server, second.writeKey, bodies);
      const kills: Kill[] = [];
      for (const pause of KILL_AFTER_MS) {
        const atStart = await pipelineLag(server);
        await progressedFrom(server, atStart);
        await new Promise((resolve) => setTimeout(resolve, pause));
        kills.push({ atStart, atKill: await pipelineLag(server) });
        const killed = await server.stop('SIGKILL', 10_000);
        assert.equal(killed.signal, 'SIGKILL');
        server = await startServerProcess({ env: crashEnv });
        servers.push(server);
      }
      t.diagnostic(
        `${bodies.length} batches; events left at each restart → at its kill: ${kills.map((k) => `${k.atStart} → ${k.atKill}`).join(', ')}`,
      );
      const inside = kills.filter((k) => k.atKill > 0 && k.atKill < k.atStart);
      assert.ok(
        inside.length >= 2,
        'at least two kills landed while the pipeline was working: after a batch of its own, before the end',
      );
      await caughtUp(server);
      const admin = adminClient(server.url, server.adminToken);
      const actual = await profiles(admin, second.slug);
      assert.equal(await failedEvents(admin, second.slug), 0, 'no event given up on');
      assert.equal(actual.size, expected.size, 'as many profiles');
      for (const [id, profile] of expected) assert.equal(actual.get(id), profile, `profile ${id}`);
      const stopped = await server.stop('SIGTERM');
      assert.equal(stopped.code, 0);
    } finally {
      for (const server of servers) if (!server.exited()) await server.stop('SIGKILL', 5_000);
    }
  });
}
