/**
 * What the crash tests of real server processes share: the generator's shop sent through
 * `/v1/batch`, waiting for the pipeline to catch up, and every profile as the API shows it.
 */
import assert from 'node:assert/strict';
import { generateShop } from '../../bench/generate/index.ts';
import { basicAuth, type AdminClient } from './ingest-traffic.ts';
import type { ServerProcess } from './server-process.ts';

const BATCH = 100;

/** The generator's shop as `/v1/batch` bodies (shuffled: merges happen late, as on a network). */
export function batchBodies(people: number, seed: number): string[] {
  const bodies: string[] = [];
  let batch: unknown[] = [];
  for (const { message } of generateShop({ people, seed, order: 'shuffled' })) {
    batch.push(message);
    if (batch.length === BATCH) {
      bodies.push(JSON.stringify({ batch }));
      batch = [];
    }
  }
  if (batch.length > 0) bodies.push(JSON.stringify({ batch }));
  return bodies;
}

export async function ingest(
  server: ServerProcess,
  writeKey: string,
  bodies: readonly string[],
): Promise<void> {
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

export async function pipelineLag(server: ServerProcess): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const lags = text
    .split('\n')
    .filter((line) => line.startsWith('cdp_pipeline_lag_events'))
    .map((line) => Number(line.split(' ').at(-1)));
  assert.ok(lags.length > 0, 'the lag gauge is exported');
  return Math.max(...lags);
}

export async function caughtUp(server: ServerProcess): Promise<void> {
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
export async function profiles(admin: AdminClient, slug: string): Promise<Map<string, string>> {
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

export async function failedEvents(admin: AdminClient, slug: string): Promise<number> {
  const page = await admin.get<{ items: unknown[] }>(`/api/v1/workspaces/${slug}/failed-events`);
  return page.body.items.length;
}
