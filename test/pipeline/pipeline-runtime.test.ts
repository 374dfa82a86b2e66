import assert from 'node:assert/strict';
import { it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppError } from '../../src/errors/app-error.ts';
import type { StoredEvent } from '../../src/ingestion/message-types.ts';
import type { Stage } from '../../src/pipeline/stage.ts';
import type { Store } from '../../src/storage/store.ts';
import { describeEachStore } from '../support/stores.ts';
import { basicAuth, createTestApp, type TestApp } from '../support/test-app.ts';

const FAST_RETRY = { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 50 };

/** A stage that records what it saw; `failOn` decides per event whether to throw. */
function recordingStage(
  name: string,
  failOn: (event: StoredEvent, attempt: number) => Error | undefined = () => undefined,
) {
  const seen: { messageId: string; attempt: number }[] = [];
  const stage: Stage = {
    name,
    maxBatch: 50,
    async handle(event, context) {
      seen.push({ messageId: event.messageId, attempt: context.attempt });
      const error = failOn(event, context.attempt);
      if (error) throw error;
    },
  };
  return { stage, seen, handled: () => new Set(seen.map((s) => s.messageId)) };
}

/** One request of track events; `properties` (the same for each) make them as large as needed. */
async function send(t: TestApp, messageIds: string[], properties?: Record<string, unknown>): Promise<void> {
  const response = await t.app.http.inject({
    method: 'POST',
    url: '/v1/batch',
    headers: basicAuth(t.writeKey),
    payload: {
      batch: messageIds.map((messageId) => ({
        type: 'track',
        event: 'E',
        userId: `u-${messageId}`,
        messageId,
        ...(properties === undefined ? {} : { properties }),
      })),
    },
  });
  assert.equal(response.statusCode, 200, response.body);
}

/** Each stored in over 2,000 bytes. */
const LARGE = { note: 'x'.repeat(2_000) };

async function until(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await sleep(20);
  }
  assert.fail(`timed out waiting for ${what}`);
}

async function failedList(t: TestApp) {
  const response = await t.app.http.inject({
    method: 'GET',
    url: `/api/v1/workspaces/${t.workspace.slug}/failed-events`,
    headers: t.adminHeaders,
  });
  return response.json().items as {
    id: string;
    stage: string;
    errorCode: string;
    reason: string;
    attempts: number;
    status: string;
  }[];
}

const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

describeEachStore('pipeline runtime', (fixture) => {
  it('delivers every acknowledged event to every stage', async () => {
    const { store } = await fixture.fresh();
    const a = recordingStage('a');
    const b = recordingStage('b');
    const t = await createTestApp(store, { stages: [a.stage, b.stage] });
    await send(t, ids('m', 120));
    await until(() => a.handled().size === 120 && b.handled().size === 120, 'both stages');
    assert.equal(a.seen.length, 120, 'no duplicate delivery without a failure');
    await t.close();
  });

  it('moves a poison event to failed events without blocking the events behind it', async () => {
    const { store } = await fixture.fresh();
    const poison = recordingStage('poison', (e) =>
      e.messageId === 'p-3' ? new AppError('request.invalid_body', 'cannot process this one') : undefined,
    );
    const t = await createTestApp(store, { stages: [poison.stage], retryPolicy: FAST_RETRY });
    await send(t, ids('p', 10));
    await until(() => poison.handled().size === 10, 'all ten handled');
    await until(async () => (await failedList(t)).length === 1, 'one failed event');
    const [failed] = await failedList(t);
    assert.equal(failed?.stage, 'poison');
    assert.equal(failed?.errorCode, 'request.invalid_body');
    assert.equal(failed?.attempts, 1, 'a non-retryable error is not retried');
    const stats = await t.app.http.inject({
      method: 'GET',
      url: `/api/v1/workspaces/${t.workspace.slug}/stats`,
      headers: t.adminHeaders,
    });
    assert.equal(stats.json().failedEvents, 1);
    // The first scrape after the failure shows it (each gauge reads the scrape's own snapshot).
    const metrics = await t.app.http.inject({ method: 'GET', url: '/metrics' });
    assert.match(metrics.body, /^cdp_pipeline_failed_events\{stage="poison"\} 1$/m);
    await t.close();
  });

  it('splits a failing batch in halves rather than processing each of its entries alone', async () => {
    const { store } = await fixture.fresh();
    const batches: { size: number; failed: boolean }[] = [];
    const alone: string[] = [];
    const stage: Stage = {
      name: 'bisect',
      maxBatch: 50,
      async handle(event) {
        alone.push(event.messageId);
        if (event.messageId === 'b-20') throw new AppError('request.invalid_body', 'cannot process this one');
      },
      async handleBatch(events) {
        const failed = events.some((e) => e.messageId === 'b-20');
        batches.push({ size: events.length, failed });
        if (failed) throw new Error('one entry of this batch is bad');
      },
    };
    const t = await createTestApp(store, { stages: [stage], retryPolicy: FAST_RETRY });
    await send(t, ids('b', 40));
    await until(async () => (await failedList(t)).length === 1, 'the poison entry failed');
    const done = () => batches.filter((b) => !b.failed).reduce((n, b) => n + b.size, 0) + alone.length;
    await until(() => done() >= 40, 'every entry processed');
    const largest = Math.max(...batches.filter((b) => b.failed).map((b) => b.size));
    assert.ok(largest >= 5, `the poison entry came in a batch (of ${largest})`);
    // Halving leaves at most one single entry per level; the old entry-by-entry fallback
    // processed every entry of the failed batch alone.
    const bound = Math.ceil(Math.log2(largest)) + 1;
    assert.ok(alone.length <= bound && alone.length < largest, `processed alone: ${alone.join(', ')}`);
    assert.ok(alone.includes('b-20'));
    assert.equal(alone.filter((id) => id === 'b-20').length, 1, 'a non-retryable error is not retried');
    await t.close();
  });

  it('bounds a batch by the bytes of its payloads as well as by its count', async () => {
    const { store } = await fixture.fresh();
    const batches: string[][] = [];
    const stage: Stage = {
      name: 'bytes',
      maxBatch: 50,
      // Each stored event below is over 2,000 bytes: at most three fit.
      maxBatchBytes: 7_000,
      async handle(event) {
        batches.push([event.messageId]);
      },
      async handleBatch(events) {
        batches.push(events.map((e) => e.messageId));
      },
    };
    const t = await createTestApp(store, { stages: [stage] });
    await send(t, ids('w', 30), LARGE);
    await until(() => batches.flat().length >= 30, 'every entry delivered');
    assert.deepEqual(batches.flat(), ids('w', 30), 'each entry once, in order');
    const largest = Math.max(...batches.map((b) => b.length));
    assert.ok(largest <= 3 && largest >= 2, `batch sizes: ${batches.map((b) => b.length).join(', ')}`);
    await t.close();
  });

  it('keeps redeliveries of large entries within the byte bound of a batch', async () => {
    const { store } = await fixture.fresh();
    const redelivered: string[][] = [];
    const stage: Stage = {
      name: 'large-retries',
      maxBatch: 50,
      // Less than one stored event's upper bound: one redelivery per batch, nothing fresh with it.
      maxBatchBytes: 7_000,
      async handle(event, context) {
        if (context.attempt === 1) throw new Error('connection reset');
        redelivered.push([event.messageId]);
      },
      async handleBatch(events, context) {
        if (context.attempt === 1) throw new Error('connection reset');
        redelivered.push(events.map((e) => e.messageId));
      },
    };
    const t = await createTestApp(store, { stages: [stage], retryPolicy: FAST_RETRY });
    await send(t, ids('r', 12), LARGE);
    await until(() => redelivered.flat().length >= 12, 'every entry redelivered');
    assert.deepEqual(redelivered.flat().sort(), ids('r', 12).sort());
    assert.ok(
      redelivered.every((batch) => batch.length === 1),
      `redelivered batches: ${redelivered.map((b) => b.length).join(', ')}`,
    );
    await t.close();
  });

  it('retries transient failures with backoff, then succeeds', async () => {
    const { store } = await fixture.fresh();
    const flaky = recordingStage('flaky', (e, attempt) =>
      e.messageId === 'f-1' && attempt < 3 ? new Error('connection reset') : undefined,
    );
    const t = await createTestApp(store, { stages: [flaky.stage], retryPolicy: FAST_RETRY });
    await send(t, ids('f', 3));
    await until(() => flaky.seen.some((s) => s.messageId === 'f-1' && s.attempt === 3), 'third attempt');
    assert.deepEqual(
      flaky.seen.filter((s) => s.messageId === 'f-1').map((s) => s.attempt),
      [1, 2, 3],
    );
    await sleep(100);
    assert.deepEqual(await failedList(t), []);
    await t.close();
  });

  it('gives up after the last attempt and replays a failed event on request', async () => {
    const { store } = await fixture.fresh();
    let broken = true;
    const stage = recordingStage('replayable', (e) =>
      broken && e.messageId === 'r-0' ? new Error('downstream unavailable') : undefined,
    );
    const t = await createTestApp(store, { stages: [stage.stage], retryPolicy: FAST_RETRY });
    await send(t, ids('r', 2));
    await until(async () => (await failedList(t)).length === 1, 'failed after retries');
    const [failed] = await failedList(t);
    assert.equal(failed?.attempts, 3);
    broken = false;
    const replay = await t.app.http.inject({
      method: 'POST',
      url: `/api/v1/workspaces/${t.workspace.slug}/failed-events/${failed?.id}/replay`,
      headers: t.adminHeaders,
    });
    assert.equal(replay.statusCode, 202, replay.body);
    await until(() => stage.seen.filter((s) => s.messageId === 'r-0').length === 4, 'replayed delivery');
    await until(async () => (await failedList(t))[0]?.status === 'replayed', 'status replayed');
    const missing = await t.app.http.inject({
      method: 'POST',
      url: `/api/v1/workspaces/${t.workspace.slug}/failed-events/fev_nope/replay`,
      headers: t.adminHeaders,
    });
    assert.equal(missing.statusCode, 404);
    await t.close();
  });

  it('resumes from the stored cursor after a restart without losing or repeating settled events', async () => {
    const handle = await fixture.fresh();
    const first = recordingStage('resumable');
    const t1 = await createTestApp(handle.store, { stages: [first.stage], workspaceSlug: 'restart' });
    await send(t1, ids('x', 30));
    await until(() => first.handled().size === 30, 'first run');
    await t1.close();
    await handle.store.close();

    const store2: Store = await handle.reopen();
    const second = recordingStage('resumable');
    const t2 = await createTestApp(store2, { stages: [second.stage], workspaceSlug: 'restart' });
    await send(t2, ids('y', 20));
    await until(() => second.handled().size === 20, 'second run');
    await sleep(150);
    assert.deepEqual([...second.handled()].sort(), ids('y', 20).sort(), 'only new events after restart');
    await t2.close();
    await store2.close();
  });

  it('reports lag per stage in /metrics', async () => {
    const { store } = await fixture.fresh();
    const gate = { open: false };
    const slow: Stage = {
      name: 'gated',
      async handle() {
        while (!gate.open) await sleep(10);
      },
    };
    const t = await createTestApp(store, { stages: [slow] });
    await send(t, ids('g', 5));
    const metrics = await t.app.http.inject({ method: 'GET', url: '/metrics' });
    assert.match(metrics.body, /cdp_pipeline_lag_events\{stage="gated"\} [1-5]/);
    gate.open = true;
    await t.close();
  });
});
