import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { allEvents, expectError, send, sendOk, stats } from '../support/http-helpers.ts';
import { describeEachStore } from '../support/stores.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';
import { batchOfSize, CASES, gzip, gzipBomb, item, jsonOfSize, KB } from './tracking-bad-input.cases.ts';

// Every malformed request gets a 4xx with {"error":{"code","message"}} and writes nothing; bad
// requests never slow good ones down, and the server keeps answering.

describeEachStore('tracking API bad input', (fixture) => {
  describe('on one running app', () => {
    let t: TestApp;
    before(async () => {
      t = await createTestApp((await fixture.fresh()).store);
    });
    after(async () => t.close());

    for (const c of CASES) {
      it(`${c.name} → ${c.status} ${c.code ?? ''}`, c.todo ? { todo: c.todo } : {}, async () => {
        const before = await stats(t);
        const res = await send(t, c.route, c.body(), c.options);
        const error = expectError(res, c.status, c.code);
        if (c.message !== undefined) assert.match(String(error['message']), c.message);
        if (c.rejected) {
          const rejected = error['rejected'] as { index: number; code: string; message: string }[];
          assert.deepEqual(
            rejected.map((r) => r.index),
            c.rejected,
          );
          for (const r of rejected) assert.ok(typeof r.code === 'string' && typeof r.message === 'string');
        }
        assert.equal((await stats(t)).events, before.events, 'a rejected request wrote events');
        assert.equal((await allEvents(t)).length, before.events);
      });
    }

    it('a batch with one invalid item among many stores nothing and names the index', async () => {
      const batch = Array.from({ length: 10 }, (_, i) => item(100 + i));
      batch[6] = { type: 'track', userId: 'u', messageId: 'bad-106' };
      const res = await send(t, 'batch', { batch });
      const error = expectError(res, 400, 'ingest.missing_field');
      assert.deepEqual(error['rejected'], [
        {
          index: 6,
          code: 'ingest.missing_field',
          message: (error['rejected'] as { message: string }[])[0]?.message,
        },
      ]);
      assert.match(String(error['message']), /\b6\b/);
      const ids = new Set((await allEvents(t)).map((m) => m['messageId']));
      for (const i of [0, 1, 2, 3, 4, 5, 7, 8, 9]) assert.equal(ids.has(`bad-10${i}`), false);
    });

    it('lists every rejected item of a batch, each with its own code', async () => {
      const batch = Array.from({ length: 8 }, (_, i) => item(200 + i));
      batch[2] = { type: 'nope', userId: 'u' };
      batch[5] = { type: 'identify' };
      const before = (await stats(t)).events;
      const error = expectError(await send(t, 'batch', { batch }), 400);
      const rejected = error['rejected'] as { index: number; code: string }[];
      assert.deepEqual(
        rejected.map((r) => [r.index, r.code]),
        [
          [2, 'ingest.unknown_type'],
          [5, 'ingest.missing_identity'],
        ],
      );
      assert.equal((await stats(t)).events, before);
    });

    it('accepts an event of exactly 32 KB, a batch of exactly 500 KB and 2,500 events', async () => {
      const before = (await stats(t)).events;
      const single = jsonOfSize(32 * KB, (blob) => ({
        userId: 'u',
        event: 'Limit',
        messageId: 'lim-1',
        properties: { blob },
      }));
      await sendOk(t, 'track', single);
      await sendOk(t, 'batch', batchOfSize(500 * KB, 'lim-b'));
      await sendOk(t, 'batch', {
        batch: Array.from({ length: 2500 }, (_, i) => item(i, { messageId: `lim-n-${i}` })),
      });
      assert.equal((await stats(t)).events, before + 1 + 17 + 2500);
    });

    it('keeps serving good requests while bad ones arrive at the same time', async () => {
      const before = (await stats(t)).events;
      const bad = Array.from({ length: 12 }, (_, i) =>
        i % 3 === 0
          ? send(t, 'batch', gzipBomb(), { headers: gzip })
          : i % 3 === 1
            ? send(t, 'batch', batchOfSize(501 * KB))
            : send(t, 'track', '{"userId":'),
      );
      const good = Array.from({ length: 6 }, (_, i) =>
        send(t, 'track', item(i, { messageId: `mixed-${i}` })),
      );
      const [badAnswers, goodAnswers] = await Promise.all([Promise.all(bad), Promise.all(good)]);
      for (const res of badAnswers) assert.ok(res.statusCode >= 400 && res.statusCode < 500, res.body);
      for (const res of goodAnswers) assert.equal(res.statusCode, 200, res.body);
      assert.equal((await stats(t)).events, before + 6);
    });

    it('still answers /health 200 after all of this', async () => {
      const res = await t.app.http.inject({ method: 'GET', url: '/health' });
      assert.equal(res.statusCode, 200);
      assert.deepEqual(res.json(), { status: 'ok' });
      await sendOk(t, 'track', item(0, { messageId: 'after-all' }));
    });
  });
});
