/**
 * The crash test of the pipeline: a real server process catching up on generator traffic gets
 * `kill -9` several times in the middle of its profile batches. Once it has caught up after the
 * last restart, every profile (identities, traits with their provenance, consent, accounts,
 * event counts, first and last seen) is the same as in a server that processed the same events
 * without a crash, and no event was given up on. Processing runs after the ack, from the log,
 * idempotently: this is where that promise is checked on real processes.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { generateShop } from '../../bench/generate/index.ts';
import { describeEachStore } from '../support/stores.ts';
import { adminClient, basicAuth, createWorkspaceWithSource, type AdminClient } from './ingest-traffic.ts';
import { startServerProcess, type ServerProcess } from './server-process.ts';

const PEOPLE = 600;
const BATCH = 100;
/** Pauses before each kill, from the restart: short enough to land inside the catch-up. */
const KILL_AFTER_MS = [250, 400, 300, 600, 450];

/** The generator's shop as `/v1/batch` bodies (shuffled: merges happen late, as on a network). */
function batchBodies(): string[] {
  const bodies: string[] = [];
  let batch: unknown[] = [];
  for (const { message } of generateShop({ people: PEOPLE, seed: 17, order: 'shuffled' })) {
    batch.push(message);
    if (batch.length === BATCH) {
      bodies.push(JSON.stringify({ batch }));
      batch = [];
    }
  }
  if (batch.length > 0) bodies.push(JSON.stringify({ batch }));
  return bodies;
}

async function ingest(server: ServerProcess, writeKey: string, bodies: readonly string[]): Promise<void> {
  let next = 0;
  const client = async (): Promise<void> => {
    while (next < bodies.length) {
      const body = bodies[next++];
      const response = await fetch(`${server.url}/v1/batch`, {
        method: 'POST',
        headers: { ...basicAuth(writeKey), 'content-type': 'application/json' },
        body,
      });
      await response.arrayBuffer();
      assert.equal(response.status, 200, 'every batch is acknowledged');
    }
  };
  await Promise.all(Array.from({ length: 8 }, client));
}

async function pipelineLag(server: ServerProcess): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const lags = text
    .split('\n')
    .filter((line) => line.startsWith('cdp_pipeline_lag_events'))
    .map((line) => Number(line.split(' ').at(-1)));
  assert.ok(lags.length > 0, 'the lag gauge is exported');
  return Math.max(...lags);
}

async function caughtUp(server: ServerProcess): Promise<void> {
  const deadline = performance.now() + 180_000;
  let zeroes = 0;
  while (zeroes < 3) {
    if (performance.now() > deadline) assert.fail('the pipeline did not catch up within 180 s');
    zeroes = (await pipelineLag(server)) === 0 ? zeroes + 1 : 0;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

interface ProfilePage {
  items: {
    id: string;
    updatedAt?: unknown;
    mergedIds?: unknown;
    identities?: { type: string; value: string }[];
  }[];
  nextCursor: string | null;
}

/**
 * Every profile, as the API shows it. Left out: `updatedAt` (when it was written) and
 * `mergedIds` (which short-lived profiles existed before a merge depends on where batches
 * happened to begin and end, not on the events). Source ids differ between the two stores.
 */
async function profiles(admin: AdminClient, slug: string): Promise<Map<string, string>> {
  const all = new Map<string, string>();
  for (const kind of ['person', 'account']) {
    let cursor: string | null = null;
    do {
      const page: { status: number; body: ProfilePage } = await admin.get<ProfilePage>(
        `/api/v1/workspaces/${slug}/profiles?kind=${kind}&limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      assert.equal(page.status, 200);
      for (const { updatedAt: _written, mergedIds: _merged, ...profile } of page.body.items) {
        profile.identities?.sort((a, b) => `${a.type}:${a.value}`.localeCompare(`${b.type}:${b.value}`));
        all.set(profile.id, JSON.stringify(profile).replace(/src_[0-9a-f]{32}/g, 'src'));
      }
      cursor = page.body.nextCursor;
    } while (cursor);
  }
  return all;
}

async function failedEvents(admin: AdminClient, slug: string): Promise<number> {
  const page = await admin.get<{ items: unknown[] }>(`/api/v1/workspaces/${slug}/failed-events`);
  return page.body.items.length;
}

describeEachStore('crash: kill -9 while the pipeline catches up', (fixture) => {
  it('ends with the same profiles as a run without a crash', { timeout: 600_000 }, async (t) => {
    const bodies = batchBodies();
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
      const crashEnv = { ...crashed.env, ...env };
      let server = await startServerProcess({ env: crashEnv });
      servers.push(server);
      const second = await createWorkspaceWithSource(
        adminClient(server.url, server.adminToken),
        'Pipeline crash',
      );
      await ingest(server, second.writeKey, bodies);
      const lagsAtKill: number[] = [];
      for (const pause of KILL_AFTER_MS) {
        await new Promise((resolve) => setTimeout(resolve, pause));
        lagsAtKill.push(await pipelineLag(server));
        const killed = await server.stop('SIGKILL', 10_000);
        assert.equal(killed.signal, 'SIGKILL');
        server = await startServerProcess({ env: crashEnv });
        servers.push(server);
      }
      t.diagnostic(`${bodies.length} batches; pipeline lag at each kill: ${lagsAtKill.join(', ')}`);
      assert.ok(
        lagsAtKill.some((lag) => lag > 0),
        'at least one kill landed while the pipeline still had events to process',
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
});
