import assert from 'node:assert/strict';
import { it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { InProcessBus } from '../../src/bus/in-process-bus.ts';
import type { AcceptedEvent } from '../../src/ingestion/message-types.ts';
import { ForegroundActivity, type GatePolicy } from '../../src/pipeline/foreground-activity.ts';
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

/** A gate policy for a test: no time budget unless the test sets one. */
const gatePolicy = (
  policy: Omit<
    GatePolicy,
    'busyBatchMs' | 'maxBusyBatchMs' | 'lagShare' | 'growBelowLoad' | 'saturatedBatchMs' | 'loadWindowMs'
  > &
    Partial<GatePolicy>,
): GatePolicy => ({
  busyBatchMs: 60_000,
  maxBusyBatchMs: 60_000,
  lagShare: 0,
  growBelowLoad: Number.POSITIVE_INFINITY,
  saturatedBatchMs: 60_000,
  loadWindowMs: 60_000,
  ...policy,
});

/** Always busy; a 40 ms budget that grows to 160 ms with a quarter of the lag (10 ms when saturated). */
const BUDGETED = gatePolicy({
  busyWindowMs: 1_000_000,
  busyShare: 1,
  busyBatch: 5,
  busyBatchMs: 40,
  saturatedBatchMs: 10,
  maxBusyBatchMs: 160,
  lagShare: 0.25,
  gapWaitMs: 0,
});

/** Resolves once `check` holds (polling), or fails after `ms`. */
async function eventually(check: () => boolean, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) assert.fail('condition not reached');
    await sleep(5);
  }
}

it('admits a full batch at once while no request is on its way to its ack', async () => {
  const activity = new ForegroundActivity();
  const admission = await activity.admit(50);
  assert.equal(admission.maxBatch, 50);
  admission.done();
});

it('while requests come, admits small batches, in a gap between requests', async () => {
  const activity = new ForegroundActivity(
    // Requests take most of the thread (assumed until measured): batches wait for gaps.
    gatePolicy({ busyWindowMs: 1_000, busyShare: 0.5, busyBatch: 3, gapWaitMs: 60_000, growBelowLoad: 0.3 }),
  );
  let release!: () => void;
  const request = activity.track(() => new Promise<void>((resolve) => (release = resolve)));
  let admitted: number | undefined;
  const waiting = activity.admit(50).then((a) => {
    admitted = a.maxBatch;
    a.done();
  });
  await sleep(50);
  assert.equal(admitted, undefined, 'a batch started while a request was in flight');
  release();
  await request;
  await waiting;
  assert.equal(admitted, 3);
});

it('with no gap between requests, background batches take at most their share of the time', async () => {
  // The batch below sleeps: counted as thread time here, as a synchronous batch would be.
  const activity = new ForegroundActivity(
    gatePolicy({ busyWindowMs: 5_000, busyShare: 0.2, busyBatch: 3, gapWaitMs: 0, growBelowLoad: 0.3 }),
    undefined,
    () => performance.now(),
  );
  let release!: () => void;
  const request = activity.track(() => new Promise<void>((resolve) => (release = resolve)));
  const first = await activity.admit(50);
  assert.equal(first.maxBatch, 3);
  await sleep(50);
  first.done();
  const started = performance.now();
  const second = await activity.admit(50);
  const pausedMs = performance.now() - started;
  second.done();
  release();
  await request;
  // 50 ms of work at a 20 % share: at least 200 ms of pause (a lower bound: load only adds).
  assert.ok(pausedMs >= 190, `paused only ${pausedMs} ms`);
  // A gap ends the pause at once.
  const third = activity.admit(50);
  assert.equal((await third).maxBatch, 3);
});

it('under moderate traffic, starts a batch at once even while a request is in flight', async () => {
  let nowMs = 0;
  let busyMs = 0;
  const activity = new ForegroundActivity(
    gatePolicy({
      busyWindowMs: 1_000_000,
      busyShare: 0.1,
      busyBatch: 5,
      gapWaitMs: 60_000,
      growBelowLoad: 0.3,
      loadWindowMs: 1_000,
    }),
    () => nowMs,
    () => busyMs,
  );
  // A first second in which the requests took 10 % of the thread, measured when a batch ends.
  const first = await activity.admit(100);
  nowMs += 1_000;
  busyMs += 100;
  first.done(5);
  assert.ok(activity.foregroundLoad < 0.3, `load ${activity.foregroundLoad}`);
  let release!: () => void;
  const request = activity.track(() => new Promise<void>((resolve) => (release = resolve)));
  // Without waiting for the request (its transaction's slices let it in: transaction-slices.ts).
  // (The 2 s bound only keeps a failing run from hanging on the request, which never ends.)
  const second = await Promise.race([activity.admit(100), sleep(2_000).then(() => undefined)]);
  assert.ok(second !== undefined, 'the batch waited for the request in flight');
  second.done(5);
  release();
  await request;
});

it('sizes busy batches to their time budget: doubling while full ones fit, shrinking when over', async () => {
  let nowMs = 0;
  const activity = new ForegroundActivity(
    BUDGETED,
    () => nowMs,
    () => nowMs,
  );
  // Recent foreground work makes the ack path busy for the whole test.
  await activity.track(async () => undefined);
  const batch = async (costMs: number, entries?: (admitted: number) => number): Promise<number> => {
    const admission = await activity.admit(1_000);
    nowMs += costMs;
    admission.done(entries ? entries(admission.maxBatch) : admission.maxBatch);
    return admission.maxBatch;
  };
  assert.equal(await batch(5), 5);
  assert.equal(await batch(5), 10);
  assert.equal(await batch(5), 20);
  assert.equal(await batch(5, () => 3), 40, 'a batch that ran dry says nothing about the budget');
  assert.equal(await batch(80), 40);
  // 40 entries took 80 ms against a 40 ms budget: 20 next, never under busyBatch.
  assert.equal(await batch(1_000), 20);
  assert.equal(await batch(1), 5);
  assert.equal(activity.busyBatchSize, 10);
  // Never more than the consumer's own maximum.
  for (let i = 0; i < 20; i += 1) await batch(1);
  assert.equal(activity.busyBatchSize, 1_000);
});

it('counts what a batch held the thread for, not the time it waited on I/O', async () => {
  let nowMs = 0;
  let busyMs = 0;
  const activity = new ForegroundActivity(
    gatePolicy({
      busyWindowMs: 1_000_000,
      busyShare: 0.2,
      busyBatch: 5,
      busyBatchMs: 40,
      gapWaitMs: 0,
      growBelowLoad: 0.3,
    }),
    () => nowMs,
    () => busyMs,
  );
  let release!: () => void;
  const request = activity.track(() => new Promise<void>((resolve) => (release = resolve)));
  // 200 ms of a PostgreSQL batch, 10 of them on the thread: within the 40 ms budget.
  const first = await activity.admit(1_000);
  assert.equal(first.maxBatch, 5);
  nowMs += 200;
  busyMs += 10;
  first.done(5);
  // So the next batch may be twice as large (200 ms of wall time would have kept it at 5).
  const second = activity.admit(1_000);
  let admitted = false;
  void second.then(() => (admitted = true));
  await sleep(20);
  assert.equal(admitted, false, 'waits for its share while the request is in flight');
  nowMs += 40;
  release();
  await request;
  assert.equal((await second).maxBatch, 10);
});

it('gives a pipeline that fell behind a larger time budget, within bounds, and the base one once caught up', async () => {
  const activity = new ForegroundActivity(BUDGETED);
  await activity.track(async () => undefined);
  const finish = async (behindMs: number): Promise<number> => {
    (await activity.admit(100)).done(100, behindMs);
    return activity.budgetMs;
  };
  assert.equal(activity.budgetMs, 40);
  assert.equal(await finish(400), 100, 'a quarter of how far behind it is');
  assert.equal(await finish(60_000), 160, 'never more than the maximum');
  assert.equal(await finish(0), 40, 'caught up: the base budget');
});

it('grows the budget of a pipeline that fell behind only while requests take under a set share of the thread', async () => {
  let nowMs = 0;
  let busyMs = 0;
  const activity = new ForegroundActivity(
    { ...BUDGETED, growBelowLoad: 0.3, loadWindowMs: 1_000 },
    () => nowMs,
    () => busyMs,
  );
  await activity.track(async () => undefined);
  /** One batch of `ownMs` of its own work, with `yieldedMs` of foreground work inside it (a yield). */
  const batch = async (ownMs: number, yieldedMs = 0): Promise<void> => {
    const admission = await activity.admit(100);
    nowMs += ownMs;
    busyMs += ownMs;
    setImmediate(() => {
      nowMs += yieldedMs;
      busyMs += yieldedMs;
    });
    await activity.yieldToForeground();
    admission.done(100, 60_000);
  };
  assert.equal(
    activity.budgetMs,
    10,
    'before any measurement the thread counts as taken: the saturated budget',
  );
  // A second of the thread: 700 ms of the batch's own work, 300 ms of requests inside its yield.
  await batch(700, 300);
  assert.equal(activity.foregroundLoad, 0.3);
  assert.equal(activity.budgetMs, 10, 'requests took 30 %: far behind, but the saturated budget');
  // The next second: requests take 100 ms inside the batch's yield, 100 ms between batches.
  await batch(400, 100);
  nowMs += 100;
  busyMs += 100;
  await batch(400);
  assert.equal(activity.foregroundLoad, 0.2);
  assert.equal(activity.budgetMs, 160, 'requests took 20 %: the budget grows with the lag');
  // Idle time between batches is nobody's: 600 ms idle, 400 ms of batch.
  nowMs += 600;
  await batch(400);
  assert.equal(activity.foregroundLoad, 0);
  assert.equal(activity.budgetMs, 160);
  // Caught up under light traffic: the base budget, not the saturated one.
  (await activity.admit(100)).done(100, 0);
  assert.equal(activity.budgetMs, 40);
});

it('a failing foreground task still ends its activity', async () => {
  const activity = new ForegroundActivity(
    gatePolicy({ busyWindowMs: 0, busyShare: 0.5, busyBatch: 3, gapWaitMs: 0 }),
  );
  await assert.rejects(
    activity.track(() => Promise.reject(new Error('boom'))),
    /boom/,
  );
  assert.equal(activity.inFlight, 0);
  assert.equal((await activity.admit(9)).maxBatch, 9);
});

describeEachStore('in-process bus behind the ack path', (fixture) => {
  it('holds the pipeline while a request is on its way to its ack, then catches up', async () => {
    const { store } = await fixture.fresh();
    const activity = new ForegroundActivity(
      // Requests take most of the thread (assumed until measured).
      gatePolicy({ busyWindowMs: 200, busyShare: 0.5, busyBatch: 4, gapWaitMs: 60_000, growBelowLoad: 0.3 }),
    );
    const bus = new InProcessBus({
      log: store.events,
      state: store.consumerState,
      clock: systemClock,
      pollIntervalMs: 20,
      gate: activity,
    });
    const batches: number[] = [];
    const handled = (): number => batches.reduce((a, b) => a + b, 0);
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
      assert.equal(batches.length, 0, 'the pipeline ran while a request waited for its ack');
      release();
      await request;
      await eventually(() => handled() === 30);
      // Right after the request, batches are small; once the ack path stays quiet, full size.
      assert.equal(batches[0], 4);
      await sleep(250);
      await store.events.append(
        Array.from({ length: 30 }, (_, i) => event(100 + i)),
        0,
      );
      bus.announce([]);
      await eventually(() => handled() === 60);
      assert.equal(batches.at(-1), 30);
    } finally {
      await consumer.stop();
      await store.close();
    }
  });
});
