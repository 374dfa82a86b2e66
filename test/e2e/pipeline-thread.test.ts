/**
 * The server runs its pipeline on a thread of its own (app/pipeline-thread.ts): what the two
 * threads tell each other is checked here on a real process. Audience events the pipeline
 * decides are appended through the API thread; a destination created through the API is seen
 * by the pipeline's router at once; the stages' observations reach /metrics; and the process
 * stops cleanly.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { describeEachStore } from '../support/stores.ts';
import { WebhookReceiver } from '../support/webhook-receiver.ts';
import { adminClient, basicAuth, createWorkspaceWithSource } from './ingest-traffic.ts';
import { startServerProcess, type ServerProcess } from './server-process.ts';

interface ProfileView {
  readonly id: string;
  readonly segments: readonly string[];
}

async function send(server: ServerProcess, writeKey: string, type: string, body: object): Promise<void> {
  const response = await fetch(`${server.url}/v1/${type}`, {
    method: 'POST',
    headers: { ...basicAuth(writeKey), 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(response.status, 200, await response.text());
}

async function processedByProfiles(server: ServerProcess): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith('cdp_pipeline_processed_total{stage="profiles",outcome="ack"}'));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

describeEachStore('the pipeline on its own thread', (fixture) => {
  it(
    'appends audience events, sees new destinations at once, reports to /metrics, stops cleanly',
    { timeout: 180_000 },
    async () => {
      const handle = await fixture.fresh();
      await handle.store.close();
      const receiver = await WebhookReceiver.start();
      const server = await startServerProcess({
        env: {
          ...handle.env,
          CDP_PIPELINE_THREAD: 'true',
          CDP_EGRESS_ALLOW: '127.0.0.1',
          CDP_RATE_LIMIT_API: '0',
        },
      });
      try {
        const admin = adminClient(server.url, server.adminToken);
        const { slug, writeKey } = await createWorkspaceWithSource(admin, 'Pipeline thread');
        const ws = `/api/v1/workspaces/${slug}`;
        const segment = await admin.post(`${ws}/segments`, {
          name: 'Pros',
          slug: 'pros',
          definition: 'traits.plan = "pro"',
        });
        assert.equal(segment.status, 201, JSON.stringify(segment.body));

        // The pipeline's router reads the workspace's destinations (none yet) and keeps them.
        await send(server, writeKey, 'track', { userId: 'early', event: 'Warm Up' });
        const lookup = async (userId: string) =>
          admin.get<ProfileView>(`${ws}/profiles/lookup?type=user_id&value=${userId}`);
        const deadline = performance.now() + 60_000;
        while ((await lookup('early')).status !== 200) {
          assert.ok(performance.now() < deadline, 'the first event is processed');
          await new Promise((resolve) => setTimeout(resolve, 50));
        }

        // Created on the API thread; the next event, right away, reaches it.
        const created = await admin.post<{ config: { secret?: string } }>(`${ws}/destinations`, {
          type: 'webhook',
          name: 'hook',
          config: { url: receiver.url },
        });
        assert.equal(created.status, 201, JSON.stringify(created.body));
        receiver.useSecret(created.body.config.secret ?? '');
        await send(server, writeKey, 'identify', { userId: 'u-pro', traits: { plan: 'pro' } });

        let profile: ProfileView | undefined;
        while (profile?.segments.includes('pros') !== true) {
          assert.ok(performance.now() < deadline, 'u-pro enters the segment');
          await new Promise((resolve) => setTimeout(resolve, 50));
          const found = await lookup('u-pro');
          profile = found.status === 200 ? found.body : undefined;
        }
        // Decided on the pipeline's thread, appended to the log by the API thread's committer.
        let entered: string[] = [];
        while (entered.length === 0) {
          assert.ok(performance.now() < deadline, 'the Audience Entered event is in the log');
          await new Promise((resolve) => setTimeout(resolve, 50));
          const events = await admin.get<{ items: { properties: { audience_key?: string } }[] }>(
            `${ws}/profiles/${profile.id}/events?event=${encodeURIComponent('Audience Entered')}`,
          );
          entered = events.body.items.map((e) => e.properties.audience_key ?? '');
        }
        assert.deepEqual(entered, ['pros']);

        while (!receiver.messages().some((m) => m['type'] === 'identify' && m['userId'] === 'u-pro')) {
          assert.ok(performance.now() < deadline, 'the new destination got the identify sent right after it');
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        assert.ok(
          !receiver.messages().some((m) => m['userId'] === 'early'),
          'the event from before the destination was not offered to it',
        );
        assert.deepEqual(receiver.problems, []);
        // The thread sends its observations every 250 ms: the three events are all counted.
        while ((await processedByProfiles(server)) < 3) {
          assert.ok(
            performance.now() < deadline,
            `the thread reports what it processed (${await processedByProfiles(server)})`,
          );
          await new Promise((resolve) => setTimeout(resolve, 50));
        }

        // The gate gauges speak of the API thread (its load, reported four times a second), not of
        // an in-process gate that runs no batches here (it read 1 and 12 for ever).
        const gauge = async (name: string): Promise<number> => {
          const lines = (await (await fetch(`${server.url}/metrics`)).text()).split('\n');
          return Number(lines.find((l) => l.startsWith(`${name} `))?.split(' ')[1]);
        };
        assert.equal(await gauge('cdp_pipeline_busy_budget_ms'), 0);
        while ((await gauge('cdp_pipeline_foreground_load')) >= 0.9) {
          assert.ok(performance.now() < deadline, 'the API thread’s load is reported, not stuck at 1');
          await new Promise((resolve) => setTimeout(resolve, 250));
        }

        const exit = await server.stop('SIGTERM', 30_000);
        assert.equal(exit.timedOut, false);
        assert.equal(exit.code, 0, server.stderr());
      } finally {
        await server.stop('SIGKILL').catch(() => undefined);
        await receiver.close();
      }
    },
  );
});
