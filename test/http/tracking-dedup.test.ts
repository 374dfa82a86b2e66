import assert from 'node:assert/strict';
import { it } from 'node:test';
import {
  allEvents,
  send,
  sendOk,
  sharedStore,
  stats,
  storedMessage,
  withApp,
} from '../support/http-helpers.ts';
import { describeEachStore } from '../support/stores.ts';
import { createManualClock, createTestApp } from '../support/test-app.ts';

// A messageId seen again within the dedup window (24 h by default) is acknowledged (200) and not
// stored again, within a request, across requests, concurrently, and across a restart.

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
const HOUR = 3_600_000;

const trackItem = (messageId: string, plan = 'first'): Record<string, unknown> => ({
  type: 'track',
  userId: 'u-dedup',
  event: 'Dedup',
  messageId,
  properties: { plan },
});

describeEachStore('tracking API dedup', (fixture) => {
  const store = sharedStore(fixture);

  it('stores a messageId repeated inside one batch once; the first occurrence wins', async () => {
    await withApp(await store(), { clock: createManualClock(NOW) }, async (t) => {
      await sendOk(t, 'batch', {
        batch: [trackItem('d-1', 'first'), trackItem('d-2'), trackItem('d-1', 'second')],
      });
      assert.deepEqual((await storedMessage(t, 'd-1'))['properties'], { plan: 'first' });
      assert.equal((await stats(t)).events, 2);
    });
  });

  it('stores a messageId sent again in later requests once, and still answers 200', async () => {
    await withApp(await store(), { clock: createManualClock(NOW) }, async (t) => {
      const { type: _type, ...single } = trackItem('d-3', 'first');
      await sendOk(t, 'track', single);
      await sendOk(t, 'track', { ...single, properties: { plan: 'second' } });
      await sendOk(t, 'batch', { batch: [trackItem('d-3', 'third'), trackItem('d-4')] });
      await sendOk(t, 'identify', { userId: 'u-dedup', messageId: 'd-3' });
      assert.deepEqual((await storedMessage(t, 'd-3'))['properties'], { plan: 'first' });
      assert.equal((await storedMessage(t, 'd-3'))['type'], 'track');
      assert.equal((await stats(t)).events, 2);
    });
  });

  it('stores a messageId sent by many concurrent requests once', async () => {
    await withApp(await store(), { clock: createManualClock(NOW) }, async (t) => {
      const requests = Array.from({ length: 20 }, (_, i) =>
        send(t, 'batch', { batch: [trackItem('d-race', `copy-${i}`), trackItem(`d-own-${i}`)] }),
      );
      for (const res of await Promise.all(requests)) assert.equal(res.statusCode, 200, res.body);
      assert.equal((await allEvents(t)).filter((m) => m['messageId'] === 'd-race').length, 1);
      assert.equal((await stats(t)).events, 21);
    });
  });

  it('dedups per workspace: the same messageId in two workspaces is stored in both', async () => {
    const clock = createManualClock(NOW);
    await withApp(await store(), { clock }, async (a) => {
      await withApp(await store(), { clock }, async (b) => {
        await sendOk(a, 'batch', { batch: [trackItem('d-shared')] });
        await sendOk(b, 'batch', { batch: [trackItem('d-shared')] });
        assert.equal((await stats(a)).events, 1);
        assert.equal((await stats(b)).events, 1);
      });
    });
  });

  it('stores once within 24 h, and again once the window has passed', async () => {
    const clock = createManualClock(NOW);
    await withApp(await store(), { clock }, async (t) => {
      await sendOk(t, 'batch', { batch: [trackItem('d-window')] });
      clock.advance(24 * HOUR - 60_000);
      await sendOk(t, 'batch', { batch: [trackItem('d-window')] });
      assert.equal((await stats(t)).events, 1);
      clock.advance(2 * 60_000);
      await sendOk(t, 'batch', { batch: [trackItem('d-window')] });
      assert.equal((await stats(t)).events, 2);
    });
  });

  it('remembers messageIds across a restart of the app and the store', async () => {
    const handle = await fixture.fresh();
    const clock = createManualClock(NOW);
    const slug = `dedup-restart-${process.pid}`;
    const batch = { batch: [trackItem('r-1'), trackItem('r-2'), trackItem('r-3')] };

    const first = await createTestApp(handle.store, { clock, workspaceSlug: slug });
    try {
      await sendOk(first, 'batch', batch);
      await sendOk(first, 'track', { userId: 'u', event: 'Single', messageId: 'r-4' });
      assert.equal((await stats(first)).events, 4);
    } finally {
      await first.close();
      await handle.store.close();
    }

    clock.advance(HOUR);
    const reopened = await handle.reopen();
    const second = await createTestApp(reopened, { clock, workspaceSlug: slug });
    try {
      assert.equal(second.workspace.id, first.workspace.id);
      assert.equal((await stats(second)).events, 4);
      await sendOk(second, 'batch', batch);
      await sendOk(second, 'track', { userId: 'u', event: 'Single', messageId: 'r-4' });
      await sendOk(second, 'batch', { batch: [trackItem('r-1'), trackItem('r-5')] });
      assert.equal((await stats(second)).events, 5);
      const ids = (await allEvents(second)).map((m) => m['messageId']).sort();
      assert.deepEqual(ids, ['r-1', 'r-2', 'r-3', 'r-4', 'r-5']);
    } finally {
      await second.close();
      await reopened.close();
    }
  });

  it('stats.events counts exactly what is stored: new events, not duplicates or rejected ones', async () => {
    await withApp(await store(), { clock: createManualClock(NOW) }, async (t) => {
      assert.equal((await stats(t)).events, 0);
      await sendOk(t, 'batch', { batch: Array.from({ length: 30 }, (_, i) => trackItem(`s-${i}`)) });
      await sendOk(t, 'batch', { batch: Array.from({ length: 40 }, (_, i) => trackItem(`s-${i}`)) });
      const rejected = await send(t, 'batch', {
        batch: [trackItem('s-new'), { type: 'track', userId: 'u' }],
      });
      assert.equal(rejected.statusCode, 400);
      await sendOk(t, 'identify', { userId: 'u', messageId: 's-0' });
      await sendOk(t, 'identify', { userId: 'u' });
      await sendOk(t, 'identify', { userId: 'u' });
      const stored = await allEvents(t);
      assert.equal(stored.length, 42);
      assert.equal((await stats(t)).events, stored.length);
    });
  });
});
