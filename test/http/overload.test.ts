import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { allEvents, expectError, send, sharedStore, stats, withApp } from '../support/http-helpers.ts';
import { describeEachStore } from '../support/stores.ts';
import type { TestApp } from '../support/test-app.ts';

// With few pending events allowed, concurrent batches are shed with 429 + Retry-After: a batch
// is either acknowledged and fully stored, or refused and not stored at all.

const BATCH = 100;

const batchBody = (round: number, n: number): Record<string, unknown> => ({
  batch: Array.from({ length: BATCH }, (_, i) => ({
    type: 'track',
    userId: `user-${round}-${n}`,
    event: 'Overload',
    messageId: `ov-${round}-${n}-${i}`,
  })),
});

interface Outcome {
  readonly key: string;
  readonly res: LightMyRequestResponse;
}

async function fire(t: TestApp, round: number, concurrency: number): Promise<Outcome[]> {
  const keys = Array.from({ length: concurrency }, (_, n) => `${round}-${n}`);
  const answers = await Promise.all(keys.map((_, n) => send(t, 'batch', batchBody(round, n))));
  return answers.map((res, n) => ({ key: keys[n] as string, res }));
}

describeEachStore('tracking API under overload', (fixture) => {
  const store = sharedStore(fixture);

  it('sheds concurrent batches with 429 + Retry-After; acknowledged batches are stored whole, shed ones not at all', async () => {
    await withApp(await store(), { env: { CDP_MAX_PENDING_EVENTS: '100' } }, async (t) => {
      const outcomes: Outcome[] = [];
      // Concurrency makes shedding likely in the first round; more rounds make it certain.
      for (let round = 0; round < 5 && !outcomes.some((o) => o.res.statusCode === 429); round++) {
        outcomes.push(...(await fire(t, round, 40)));
      }
      const accepted = outcomes.filter((o) => o.res.statusCode === 200);
      const shed = outcomes.filter((o) => o.res.statusCode === 429);
      assert.equal(accepted.length + shed.length, outcomes.length, 'only 200 or 429 are expected');
      assert.ok(shed.length > 0, 'nothing was shed');
      assert.ok(accepted.length > 0, 'nothing was accepted');

      for (const { res } of shed) {
        expectError(res, 429, 'ingest.overloaded');
        const retryAfter = res.headers['retry-after'];
        assert.match(String(retryAfter), /^\d+$/, `Retry-After is ${retryAfter}`);
        assert.ok(Number(retryAfter) >= 1);
      }
      for (const { res } of accepted) assert.deepEqual(res.json(), { success: true });

      const stored = await allEvents(t);
      const byUser = new Map<string, Set<unknown>>();
      for (const message of stored) {
        const user = String(message['userId']);
        const ids = byUser.get(user) ?? new Set();
        ids.add(message['messageId']);
        byUser.set(user, ids);
      }
      for (const { key } of accepted) {
        assert.equal(byUser.get(`user-${key}`)?.size, BATCH, `acknowledged batch ${key} is not fully stored`);
      }
      for (const { key } of shed) {
        assert.equal(byUser.get(`user-${key}`), undefined, `shed batch ${key} was (partly) stored`);
      }
      assert.equal(stored.length, accepted.length * BATCH);
      assert.equal((await stats(t)).events, accepted.length * BATCH);
    });
  });

  it('a shed batch sent again after the pressure is gone is accepted and stored once', async () => {
    await withApp(await store(), { env: { CDP_MAX_PENDING_EVENTS: '100' } }, async (t) => {
      const outcomes: Outcome[] = [];
      for (let round = 0; round < 5 && !outcomes.some((o) => o.res.statusCode === 429); round++) {
        outcomes.push(...(await fire(t, round, 40)));
      }
      const shed = outcomes.filter((o) => o.res.statusCode === 429);
      assert.ok(shed.length > 0, 'nothing was shed');
      for (const { key } of shed) {
        const [round, n] = key.split('-').map(Number) as [number, number];
        const res = await send(t, 'batch', batchBody(round, n));
        assert.equal(res.statusCode, 200, res.body);
      }
      assert.equal((await stats(t)).events, outcomes.length * BATCH);
      assert.equal(new Set((await allEvents(t)).map((m) => m['messageId'])).size, outcomes.length * BATCH);
    });
  });

  it('a batch larger than the pending limit is still accepted when nothing else is pending', {}, async () => {
    await withApp(await store(), { env: { CDP_MAX_PENDING_EVENTS: '100' } }, async (t) => {
      const body = {
        batch: [...(batchBody(9, 0)['batch'] as unknown[]), ...(batchBody(9, 1)['batch'] as unknown[])],
      };
      for (let attempt = 0; attempt < 3; attempt++) {
        const res = await send(t, 'batch', body);
        if (res.statusCode === 200) break;
        expectError(res, 429, 'ingest.overloaded');
        assert.equal((await stats(t)).events, 0, 'a refused batch was half-written');
        if (attempt === 2) assert.fail('an idle server kept answering 429 to a valid 200-event batch');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.equal((await stats(t)).events, 2 * BATCH);
    });
  });
});
