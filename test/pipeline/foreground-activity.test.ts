import assert from 'node:assert/strict';
import { it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { InProcessBus } from '../../src/bus/in-process-bus.ts';
import type { AcceptedEvent } from '../../src/ingestion/message-types.ts';
import { ForegroundActivity } from '../../src/pipeline/foreground-activity.ts';
import { systemClock } from '../../src/shared/clock.ts';
import { describeEachStore } from '../support/stores.ts';

function event(i: number): AcceptedEvent {
  const messageId = `m-${i}`;
  return {
    workspaceId: 'ws_a',
    sourceId: 'src_1',
    messageId,
    type: 'track',
    event: 'Viewed',
    userId: `u${i}`,
    anonymousId: null,
    timestampMs: Date.now(),
    receivedMs: Date.now(),
    payload: JSON.stringify({ type: 'track', messageId, event: 'Viewed', userId: `u${i}` }),
  };
}

/** Resolves once `check` holds (polling), or fails after `ms`. */
async function eventually(check: () => boolean, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) assert.fail('condition not reached');
    await sleep(5);
  }
}

it('admits a background batch only once foreground work is over, at full size when quiet', async () => {
  const activity = new ForegroundActivity({ quietMs: 5, maxWaitMs: 60_000, busyBatch: 3, busyWindowMs: 0 });
  assert.equal(await activity.admit(50), 50);
  let release!: () => void;
  const request = activity.track(() => new Promise<void>((resolve) => (release = resolve)));
  let admitted: number | undefined;
  const waiting = activity.admit(50).then((n) => (admitted = n));
  await sleep(30);
  assert.equal(admitted, undefined, 'a batch started while a request was in flight');
  release();
  await request;
  await waiting;
  assert.equal(admitted, 50);
  assert.equal(activity.inFlight, 0);
});

it('under sustained foreground work, still admits small batches after the longest wait', async () => {
  const activity = new ForegroundActivity({ quietMs: 5, maxWaitMs: 20, busyBatch: 3, busyWindowMs: 1_000 });
  let release!: () => void;
  const request = activity.track(() => new Promise<void>((resolve) => (release = resolve)));
  assert.equal(await activity.admit(50), 3);
  release();
  await request;
});

it('a failing foreground task still ends its activity', async () => {
  const activity = new ForegroundActivity({ quietMs: 1, maxWaitMs: 60_000, busyBatch: 3, busyWindowMs: 0 });
  await assert.rejects(
    activity.track(() => Promise.reject(new Error('boom'))),
    /boom/,
  );
  assert.equal(activity.inFlight, 0);
  assert.equal(await activity.admit(9), 9);
});

describeEachStore('in-process bus behind the ack path', (fixture) => {
  it('holds the pipeline while a request is on its way to its ack, then catches up', async () => {
    const { store } = await fixture.fresh();
    const activity = new ForegroundActivity({
      quietMs: 5,
      maxWaitMs: 60_000,
      busyBatch: 4,
      busyWindowMs: 200,
    });
    const bus = new InProcessBus({
      log: store.events,
      state: store.consumerState,
      clock: systemClock,
      pollIntervalMs: 20,
      gate: activity,
    });
    const batches: number[] = [];
    let release!: () => void;
    // A request in flight before anything is consumed: the consumer must wait for it.
    const request = activity.track(() => new Promise<void>((resolve) => (release = resolve)));
    await store.events.append(
      Array.from({ length: 30 }, (_, i) => event(i)),
      0,
    );
    const consumer = bus.consume({
      group: 'gated',
      maxBatch: 50,
      handle: async (deliveries) => {
        batches.push(deliveries.length);
        return deliveries.map(() => ({ kind: 'ack' as const }));
      },
    });
    try {
      await sleep(100);
      assert.deepEqual(batches, [], 'the pipeline ran while a request waited for its ack');
      release();
      await request;
      await eventually(() => batches.reduce((a, b) => a + b, 0) === 30);
      // Right after the request, batches are small; once the ack path stays quiet, full size.
      assert.equal(batches[0], 4);
      await sleep(250);
      await store.events.append(
        Array.from({ length: 30 }, (_, i) => event(100 + i)),
        0,
      );
      bus.announce([]);
      await eventually(() => batches.reduce((a, b) => a + b, 0) === 60);
      assert.equal(batches.at(-1), 30);
    } finally {
      await consumer.stop();
      await store.close();
    }
  });
});
