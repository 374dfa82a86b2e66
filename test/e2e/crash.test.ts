import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Agent } from 'node:http';
import { it } from 'node:test';
import type { Store } from '../../src/storage/store.ts';
import { describeEachStore } from '../support/stores.ts';
import {
  adminClient,
  basicAuth,
  createWorkspaceWithSource,
  post,
  startLoad,
  storedEventCount,
  storedMessageIds,
  waitFor,
  type Load,
  type SentBatch,
} from './ingest-traffic.ts';
import { startServerProcess, type ServerProcess } from './server-process.ts';

/**
 * The crash test of the ingestion contract: a real server process gets `kill -9` while
 * batches are in flight on keep-alive connections. After a restart on the same data, every
 * messageId acknowledged with a 200 is stored exactly once, no batch is stored in part, and a
 * client retrying its batches after the crash never creates duplicates.
 */

const CLIENTS = 8;
const BATCH_SIZE = 100;

async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function sample(ids: readonly string[]): string {
  return `${ids.length} (e.g. ${ids.slice(0, 5).join(', ')})`;
}

/** Checks the invariants that must hold for whatever the crash left behind. */
function assertCrashInvariants(load: Load, counts: ReadonlyMap<string, number>): void {
  const missing = load.acked.flatMap((batch) => batch.messageIds.filter((id) => counts.get(id) !== 1));
  assert.equal(missing.length, 0, `acknowledged messageIds not stored exactly once: ${sample(missing)}`);

  const duplicated = [...counts].filter(([, count]) => count !== 1).map(([id]) => id);
  assert.equal(duplicated.length, 0, `messageIds stored more than once: ${sample(duplicated)}`);

  const sentIds = new Set(load.sent.flatMap((batch) => batch.messageIds));
  const phantoms = [...counts.keys()].filter((id) => !sentIds.has(id));
  assert.equal(phantoms.length, 0, `stored messageIds nobody sent: ${sample(phantoms)}`);

  // A batch is one request: it is stored entirely or not at all, also when the crash hits it.
  const partial = load.sent.filter((batch) => {
    const stored = batch.messageIds.filter((id) => counts.has(id)).length;
    return stored !== 0 && stored !== batch.messageIds.length;
  });
  assert.equal(
    partial.length,
    0,
    `batches stored in part: ${sample(partial.map((b) => b.messageIds[0] ?? ''))}`,
  );
}

/** Reads the whole log from the store itself, bypassing the server, and counts one prefix. */
async function countInStore(store: Store, prefix: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  let after = 0;
  for (let page = 0; page < 1_000; page++) {
    const events = await store.events.readAfter(after, 5_000);
    for (const event of events) {
      if (event.messageId.startsWith(prefix))
        counts.set(event.messageId, (counts.get(event.messageId) ?? 0) + 1);
    }
    const last = events.at(-1);
    if (last === undefined) return counts;
    after = last.seq;
  }
  throw new Error('the event log did not end within 1,000 pages');
}

/** A client retrying after the crash: resends whole batches, which all must answer 200. */
async function resend(url: string, writeKey: string, batches: readonly SentBatch[]): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
  try {
    const headers = basicAuth(writeKey);
    for (let i = 0; i < batches.length; i += CLIENTS) {
      const answers = await Promise.all(
        batches.slice(i, i + CLIENTS).map((batch) => post(agent, `${url}/v1/batch`, batch.body, headers)),
      );
      for (const answer of answers)
        assert.equal(answer.status, 200, `resend answered ${answer.status}: ${answer.body}`);
    }
  } finally {
    agent.destroy();
  }
}

describeEachStore('crash: kill -9 while batches are in flight', (fixture) => {
  for (const killAfterMs of [900, 1_900]) {
    it(
      `keeps every acknowledged messageId exactly once (kill after ~${killAfterMs} ms of traffic)`,
      { timeout: 240_000 },
      async (t) => {
        const handle = await fixture.fresh();
        const env = handle.env;
        await handle.store.close();
        const prefix = `crash-${fixture.kind}-${killAfterMs}-${randomUUID().slice(0, 8)}`;
        const servers: ServerProcess[] = [];
        try {
          const first = await startServerProcess({ env });
          servers.push(first);
          const { slug, writeKey } = await createWorkspaceWithSource(
            adminClient(first.url, first.adminToken),
            `Crash ${killAfterMs}`,
          );

          const load = startLoad({
            url: first.url,
            writeKey,
            clients: CLIENTS,
            batchSize: BATCH_SIZE,
            prefix,
            maxBatchesPerClient: 5_000,
          });
          const trafficStarted = performance.now();
          await waitFor(
            () => performance.now() - trafficStarted >= killAfterMs && load.acked.length >= CLIENTS,
            60_000,
            'traffic to be acknowledged',
          );
          const inFlightAtKill = load.inFlight();
          const killed = await first.stop('SIGKILL', 10_000);
          await within(load.done, 60_000, 'the clients');

          assert.equal(killed.signal, 'SIGKILL', 'the server died of the kill, not of something else');
          assert.ok(inFlightAtKill > 0, 'requests were in flight when the process was killed');
          assert.ok(load.failed.length > 0, 'some requests were cut off by the kill');
          assert.deepEqual([...load.refused], [], 'no request was refused before the kill');

          const second = await startServerProcess({ env });
          servers.push(second);
          const admin = adminClient(second.url, second.adminToken);
          const counts = await storedMessageIds(admin, slug);
          assertCrashInvariants(load, counts);
          assert.ok(counts.size >= load.acked.length * BATCH_SIZE);
          assert.equal(
            await storedEventCount(admin, slug),
            counts.size,
            'stats.events counts the stored events',
          );
          t.diagnostic(
            `sent ${load.sent.length} batches, ${load.acked.length} acknowledged, ${inFlightAtKill} in flight ` +
              `at the kill, ${counts.size / BATCH_SIZE} stored after restart`,
          );

          // The client retries: some acknowledged batches (the first and the last ones, closest to
          // the kill) and every batch it never got an answer for. Nothing may be stored twice.
          const ackedSet = new Set(load.acked);
          const unanswered = load.sent.filter((batch) => !ackedSet.has(batch));
          const retried = [...load.acked.slice(0, 3), ...load.acked.slice(-5), ...unanswered];
          await resend(second.url, writeKey, retried);
          const afterRetry = await storedMessageIds(admin, slug);
          const expected = load.sent.length * BATCH_SIZE;
          assert.equal(afterRetry.size, expected, 'every sent event is stored once the client has retried');
          assert.ok(
            [...afterRetry.values()].every((count) => count === 1),
            'no event is stored twice after the retries',
          );
          assert.equal(await storedEventCount(admin, slug), expected);

          const stopped = await second.stop('SIGTERM');
          assert.equal(stopped.code, 0, `SIGTERM exit code; stderr:\n${second.stderr()}`);

          // The same answer from the store itself, without the server in between.
          const direct = await handle.reopen();
          try {
            const inStore = await countInStore(direct, prefix);
            assert.equal(inStore.size, expected);
            assert.ok([...inStore.values()].every((count) => count === 1));
          } finally {
            await direct.close();
          }
        } finally {
          for (const server of servers) if (!server.exited()) await server.stop('SIGKILL', 5_000);
        }
      },
    );
  }
});
