import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AudiencePublisher } from '../../src/segments/audience-publisher.ts';
import type { AudienceTransition } from '../../src/segments/audience-state.port.ts';

function transition(messageId: string): AudienceTransition {
  return {
    messageId,
    profileId: `p-${messageId}`,
    segmentId: 'seg-1',
    segmentSlug: 'vip',
    segmentName: 'VIP',
    member: true,
    atMs: 1,
    decidedMs: 1,
  };
}

/** A publish whose calls the test answers one at a time, recording what each carried. */
function heldPublishes(): {
  publish: (ws: string, t: readonly AudienceTransition[]) => Promise<void>;
  calls: { ws: string; ids: string[] }[];
  answer: (error?: Error) => Promise<void>;
} {
  const calls: { ws: string; ids: string[] }[] = [];
  const waiting: { resolve: () => void; reject: (e: Error) => void }[] = [];
  return {
    calls,
    publish: (ws, transitions) => {
      calls.push({ ws, ids: transitions.map((t) => t.messageId) });
      return new Promise<void>((resolve, reject) => waiting.push({ resolve, reject }));
    },
    answer: async (error) => {
      for (let i = 0; i < 100 && waiting.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
      const next = waiting.shift();
      assert.ok(next !== undefined, 'a publish is in flight');
      if (error === undefined) next.resolve();
      else next.reject(error);
      await new Promise((r) => setImmediate(r));
    },
  };
}

describe('audience publisher', () => {
  it('appends in the order decided, one publish at a time, a workspace’s queued decisions together', async () => {
    const held = heldPublishes();
    const publisher = new AudiencePublisher({ publish: held.publish, onError: () => undefined });
    publisher.enqueue('ws-a', [transition('1')]);
    publisher.enqueue('ws-a', [transition('2'), transition('3')]);
    publisher.enqueue('ws-b', [transition('4')]);
    publisher.enqueue('ws-a', [transition('5')]);
    assert.deepEqual(publisher.state(), { pending: 5, generation: 4 });
    let settled = false;
    void publisher.settled().then(() => (settled = true));
    await held.answer();
    await held.answer();
    await held.answer();
    await held.answer();
    assert.deepEqual(held.calls, [
      { ws: 'ws-a', ids: ['1'] },
      { ws: 'ws-a', ids: ['2', '3'] },
      { ws: 'ws-b', ids: ['4'] },
      { ws: 'ws-a', ids: ['5'] },
    ]);
    assert.equal(settled, true);
    assert.equal(publisher.state().pending, 0);
  });

  it('retries a failed publish before anything decided after it, and reports the failure', async () => {
    const held = heldPublishes();
    const errors: unknown[] = [];
    const publisher = new AudiencePublisher({ publish: held.publish, onError: (e) => errors.push(e) });
    publisher.enqueue('ws-a', [transition('entered')]);
    await held.answer(new Error('store unavailable'));
    publisher.enqueue('ws-a', [transition('exited')]);
    // The retry carries the failed decision and what queued behind it, in order.
    await held.answer();
    assert.deepEqual(held.calls, [
      { ws: 'ws-a', ids: ['entered'] },
      { ws: 'ws-a', ids: ['entered', 'exited'] },
    ]);
    assert.equal(errors.length, 1);
    await publisher.settled();
  });

  it('holds callers back only while the queue is longer than its bound', async () => {
    const held = heldPublishes();
    const publisher = new AudiencePublisher({
      publish: held.publish,
      onError: () => undefined,
      maxQueued: 2,
      maxGroup: 1,
    });
    publisher.enqueue('ws-a', [transition('1')]);
    publisher.enqueue('ws-a', [transition('2')]);
    await publisher.room();
    publisher.enqueue('ws-a', [transition('3')]);
    let roomy = false;
    const room = publisher.room().then(() => (roomy = true));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(roomy, false);
    await held.answer();
    await room;
    assert.equal(publisher.state().pending, 2);
    await held.answer();
    await held.answer();
    await publisher.settled();
  });

  it('stops after a failure once stopped, leaving the rest (the outbox keeps it), and takes nothing new', async () => {
    const held = heldPublishes();
    const publisher = new AudiencePublisher({ publish: held.publish, onError: () => undefined });
    publisher.enqueue('ws-a', [transition('1')]);
    publisher.enqueue('ws-b', [transition('2')]);
    const stopped = publisher.stop();
    await held.answer(new Error('committer closed'));
    await stopped;
    assert.deepEqual(held.calls, [{ ws: 'ws-a', ids: ['1'] }]);
    assert.equal(publisher.state().pending, 0);
    publisher.enqueue('ws-a', [transition('3')]);
    assert.equal(publisher.state().pending, 0);
    await publisher.settled();
  });

  it('sends what is queued when stopped while everything succeeds', async () => {
    const sent: string[] = [];
    const publisher = new AudiencePublisher({
      publish: async (_ws, t) => void sent.push(...t.map((x) => x.messageId)),
      onError: () => undefined,
    });
    publisher.enqueue('ws-a', [transition('1')]);
    publisher.enqueue('ws-b', [transition('2')]);
    await publisher.stop();
    assert.deepEqual(sent, ['1', '2']);
  });
});
