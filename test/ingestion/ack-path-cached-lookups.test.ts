/**
 * The ack path reads the write key's source and the workspace's PII classification from
 * memory, refreshing old copies behind the request: on the embedded store a query waits for
 * whatever transaction holds the one connection (a pipeline batch), and an acknowledgement
 * must not. The test holds a transaction open until a request is answered: if the request
 * needed the connection, neither could finish, and the request's wait runs out instead.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { it } from 'node:test';
import { send, sendOk, sharedStore, withApp } from '../support/http-helpers.ts';
import { describeEachStore } from '../support/stores.ts';
import { createManualClock } from '../support/test-app.ts';

async function eventuallyRefused(request: () => Promise<{ statusCode: number }>): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    if ((await request()).statusCode === 401) return;
    await sleep(20);
  }
  assert.fail('the disabled source kept being accepted');
}

describeEachStore('ack path: cached lookups refreshed behind the request', (fixture) => {
  const store = sharedStore(fixture);

  it('acknowledges while a transaction holds the store, once the key and policy copies are old', async () => {
    const clock = createManualClock(Date.parse('2026-06-01T00:00:00Z'));
    await withApp(await store(), { clock }, async (t) => {
      const track = (id: string) => ({ type: 'track', event: 'Held', userId: 'u-held', messageId: id });
      await sendOk(t, 'track', track('held-1'));
      // Past the write key's freshness (app clock) and the PII policy's (wall clock).
      clock.advance(6_000);
      await sleep(2_100);
      let answered: number | 'timed out' = 'timed out';
      await t.store.profileState.exclusive(t.workspace.id, clock.now(), async () => {
        const res = await Promise.race([send(t, 'track', track('held-2')), sleep(10_000, undefined)]);
        if (res !== undefined) answered = res.statusCode;
      });
      assert.equal(answered, 200);
      await sendOk(t, 'track', track('held-3'));

      // A source disabled by another process (straight in the store, bypassing this process's
      // service): an old copy answers once more while it is read again, then the key is refused.
      await t.store.sources.update(t.workspace.id, t.sourceId, { disabledMs: clock.now() });
      clock.advance(6_000);
      await sendOk(t, 'track', track('held-4'));
      await eventuallyRefused(() => send(t, 'track', track('held-5')));
      // Unused for over a minute, a key is looked up before answering.
      await t.store.sources.update(t.workspace.id, t.sourceId, { disabledMs: null });
      clock.advance(61_000);
      await sendOk(t, 'track', track('held-6'));
    });
  });
});
