import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { AcceptedEvent } from '../../src/ingestion/message-types.ts';
import { runCdp } from '../e2e/server-process.ts';
import { describeEachStore } from '../support/stores.ts';

/** `cdp workspace stats`: what a workspace stores, and the backlog the pipeline has not taken up. */

function tracked(messageId: string, receivedMs: number): AcceptedEvent {
  return {
    workspaceId: 'ws_cli',
    sourceId: 'src_cli',
    messageId,
    type: 'track',
    event: 'Page Read',
    userId: 'u-cli',
    anonymousId: null,
    timestampMs: receivedMs,
    receivedMs,
    payload: JSON.stringify({ type: 'track', messageId, event: 'Page Read', userId: 'u-cli' }),
  };
}

describeEachStore('cdp workspace stats', (fixture) => {
  it(
    'prints the counts and how long the oldest unprocessed event has waited',
    { timeout: 120_000 },
    async () => {
      const handle = await fixture.fresh();
      const { store } = handle;
      await store.workspaces.create({ id: 'ws_cli', slug: 'cli-ws', name: 'CLI', createdMs: Date.now() });
      const receivedMs = Date.now() - 90_000;
      const { seqs } = await store.events.append(
        ['m1', 'm2', 'm3'].map((id, i) => tracked(id, receivedMs + i * 1_000)),
        0,
      );
      // As the server's profiles stage leaves it after processing the first one.
      await store.consumerState.commit(
        'profiles',
        { cursor: seqs[0] ?? 0, schedule: [], settled: [] },
        Date.now(),
      );
      await store.close();

      const listed = await runCdp(['workspace', 'stats', 'cli-ws', '--json'], handle.env);
      assert.equal(listed.code, 0, listed.stderr);
      const stats = JSON.parse(listed.stdout) as Record<string, number>;
      assert.equal(stats['events'], 3);
      assert.equal(stats['failedEvents'], 0);
      assert.equal(stats['unprocessedEvents'], 2);
      // The second event was received 89 s ago.
      assert.ok((stats['processingDelayMs'] ?? 0) >= 89_000, `delay ${stats['processingDelayMs']}`);
      assert.ok((stats['processingDelayMs'] ?? 0) < 200_000, `delay ${stats['processingDelayMs']}`);

      const human = await runCdp(['workspace', 'stats', 'cli-ws'], handle.env);
      assert.equal(human.code, 0, human.stderr);
      assert.match(human.stdout, /^events\t3$/m);
      assert.match(human.stdout, /^unprocessed events\t2, the oldest waiting \d+\.\d s$/m);

      const missing = await runCdp(['workspace', 'stats', 'no-such-ws'], handle.env);
      assert.notEqual(missing.code, 0);
      assert.match(missing.stderr, /no-such-ws/);
    },
  );
});
