/**
 * `GET …/stats` says how far processing is behind ingestion: the workspace's acknowledged events
 * the pipeline has not taken up yet, and how long the oldest has waited. Here the profiles stage
 * is held back by a transaction standing where its batches run, as a long batch would.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { it } from 'node:test';
import { admin, drained, sendOk, withApp } from '../support/http-helpers.ts';
import { holdLikeABatch } from '../support/held-batch.ts';
import { describeEachStore } from '../support/stores.ts';
import type { TestApp } from '../support/test-app.ts';

interface Stats {
  events: number;
  unprocessedEvents: number;
  processingDelayMs: number;
}

const stats = async (t: TestApp): Promise<Stats> => {
  const res = await admin(t, 'GET', `/api/v1/workspaces/${t.workspace.slug}/stats`);
  assert.equal(res.statusCode, 200, res.body);
  return res.json<Stats>();
};

describeEachStore('processing backlog in the stats', (fixture) => {
  it('counts the events not yet processed and the wait of the oldest, then 0 once processed', async () => {
    const { store } = await fixture.fresh();
    await withApp(store, {}, async (t) => {
      await sendOk(t, 'track', { userId: 'u-1', event: 'First' });
      await drained(t);
      const idle = await stats(t);
      assert.deepEqual([idle.events, idle.unprocessedEvents, idle.processingDelayMs], [1, 0, 0]);

      const batch = await holdLikeABatch(store, t.workspace.id);
      try {
        const sentAt = Date.now();
        for (const event of ['Second', 'Third', 'Fourth']) await sendOk(t, 'track', { userId: 'u-1', event });
        await sleep(250);
        const behind = await stats(t);
        assert.equal(behind.events, 4);
        assert.equal(behind.unprocessedEvents, 3);
        assert.ok(behind.processingDelayMs >= 250, `delay ${behind.processingDelayMs} ms`);
        assert.ok(
          behind.processingDelayMs <= Date.now() - sentAt + 50,
          `delay ${behind.processingDelayMs} ms`,
        );
      } finally {
        await batch.release();
      }
      await drained(t);
      const after = await stats(t);
      assert.deepEqual([after.events, after.unprocessedEvents, after.processingDelayMs], [4, 0, 0]);
    });
  });
});
