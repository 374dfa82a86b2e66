import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { AcceptedEvent } from '../../src/ingestion/message-types.ts';
import { describeEachStore } from '../support/stores.ts';

const NOW = Date.UTC(2026, 10, 1, 12);

function event(
  workspaceId: string,
  messageId: string,
  overrides: Partial<AcceptedEvent> = {},
): AcceptedEvent {
  return {
    workspaceId,
    sourceId: 'src_1',
    messageId,
    type: 'track',
    event: 'Order Completed',
    userId: 'u1',
    anonymousId: null,
    timestampMs: NOW - 1000,
    receivedMs: NOW,
    payload: JSON.stringify({
      type: 'track',
      messageId,
      event: 'Order Completed',
      userId: 'u1',
      properties: { __proto__: { x: 1 }, n: 1 },
    }),
    ...overrides,
  };
}

/** Its payload holds 2,000 two-byte characters: ~4,100 bytes but ~2,100 characters. */
function heavy(workspaceId: string, messageId: string): AcceptedEvent {
  const base = event(workspaceId, messageId);
  const message = JSON.parse(base.payload as string) as Record<string, unknown>;
  return { ...base, payload: JSON.stringify({ ...message, properties: { note: 'é'.repeat(2_000) } }) };
}

describeEachStore('store conformance', (fixture) => {
  it('migrates idempotently and answers ping', async () => {
    const { store } = await fixture.fresh();
    assert.deepEqual((await store.migrate()).applied, []);
    await store.ping();
  });

  it('creates workspaces with unique slugs and finds them by id or slug', async () => {
    const { store } = await fixture.fresh();
    const ws = { id: 'ws_a', slug: 'acme', name: 'Acme', createdMs: NOW };
    assert.equal(await store.workspaces.create(ws), true);
    assert.equal(await store.workspaces.create({ ...ws, id: 'ws_b' }), false);
    assert.deepEqual(await store.workspaces.findByIdOrSlug('acme'), ws);
    assert.deepEqual(await store.workspaces.findByIdOrSlug('ws_a'), ws);
    assert.equal(await store.workspaces.findByIdOrSlug('nope'), undefined);
    await store.workspaces.create({ id: 'ws_c', slug: 'c', name: 'C', createdMs: NOW });
    assert.deepEqual(
      (await store.workspaces.list({ limit: 1, afterId: 'ws_a' })).map((w) => w.id),
      ['ws_c'],
    );
  });

  it('stores sources by write-key hash and replaces keys', async () => {
    const { store } = await fixture.fresh();
    await store.workspaces.create({ id: 'ws_a', slug: 'a', name: 'A', createdMs: NOW });
    const source = {
      id: 'src_1',
      workspaceId: 'ws_a',
      name: 'Web',
      type: 'http' as const,
      writeKeyPrefix: 'wk_abc',
      settings: { captureIp: false },
      createdMs: NOW,
      keyRotatedMs: null,
      disabledMs: null,
    };
    await store.sources.create(source, 'hash1');
    assert.deepEqual(await store.sources.findByWriteKeyHash('hash1'), source);
    assert.equal(await store.sources.replaceWriteKey('ws_a', 'src_1', 'hash2', 'wk_def', NOW + 1), true);
    assert.equal(await store.sources.findByWriteKeyHash('hash1'), undefined);
    assert.equal((await store.sources.findByWriteKeyHash('hash2'))?.keyRotatedMs, NOW + 1);
    assert.equal(await store.sources.replaceWriteKey('ws_other', 'src_1', 'hash3', 'x', NOW), false);
    assert.equal(
      await store.sources.update('ws_a', 'src_1', { disabledMs: NOW + 2, settings: { captureIp: true } }),
      true,
    );
    const updated = await store.sources.find('ws_a', 'src_1');
    assert.equal(updated?.disabledMs, NOW + 2);
    assert.equal(updated?.settings.captureIp, true);
  });

  it('stores tokens, scoped per workspace, and revokes them once', async () => {
    const { store } = await fixture.fresh();
    await store.workspaces.create({ id: 'ws_a', slug: 'a', name: 'A', createdMs: NOW });
    const token = {
      id: 'tok_1',
      workspaceId: 'ws_a',
      name: 't',
      role: 'viewer' as const,
      tokenPrefix: 'cdp_x',
      createdMs: NOW,
      revokedMs: null,
    };
    await store.tokens.create(token, 'th');
    await store.tokens.create({ ...token, id: 'tok_i', workspaceId: null, role: 'owner' }, 'th2');
    assert.deepEqual(await store.tokens.findByHash('th'), token);
    assert.deepEqual(
      (await store.tokens.list('ws_a', { limit: 10 })).map((t) => t.id),
      ['tok_1'],
    );
    assert.deepEqual(
      (await store.tokens.list(null, { limit: 10 })).map((t) => t.id),
      ['tok_i'],
    );
    assert.equal(await store.tokens.revoke('ws_other', 'tok_1', NOW), false);
    assert.equal(await store.tokens.revoke('ws_a', 'tok_1', NOW), true);
    assert.equal(await store.tokens.revoke('ws_a', 'tok_1', NOW), false);
    assert.equal((await store.tokens.findByHash('th'))?.revokedMs, NOW);
  });

  it('appends with increasing sequence numbers and reads back the exact payload', async () => {
    const { store } = await fixture.fresh();
    const result = await store.events.append(
      [event('ws_a', 'm1'), event('ws_a', 'm2'), event('ws_b', 'm1')],
      NOW - 86_400_000,
    );
    const seqs = result.seqs as number[];
    assert.equal(seqs.length, 3);
    assert.ok(seqs.every((s) => typeof s === 'number'));
    assert.ok((seqs[0] as number) < (seqs[1] as number) && (seqs[1] as number) < (seqs[2] as number));
    const read = await store.events.readAfter(0, 10);
    assert.deepEqual(
      read.map((e) => e.messageId),
      ['m1', 'm2', 'm1'],
    );
    const first = read[0];
    assert.ok(first);
    assert.equal(first.timestampMs, NOW - 1000);
    assert.equal(first.receivedMs, NOW);
    assert.equal(Object.getPrototypeOf(first.message['properties']), Object.prototype);
    assert.ok(Object.hasOwn(first.message['properties'] as object, 'n'));
    assert.equal(await store.events.headSeq(), seqs[2]);
    assert.equal(await store.events.countByWorkspace('ws_a'), 2);
    assert.equal(await store.events.countByWorkspace('ws_b'), 1);
  });

  it("counts a workspace's backlog after a position, up to a limit, with its oldest receipt", async () => {
    const { store } = await fixture.fresh();
    const { seqs } = await store.events.append(
      [
        event('ws_a', 'b1', { receivedMs: NOW - 300 }),
        event('ws_b', 'b2', { receivedMs: NOW - 250 }),
        event('ws_a', 'b3', { receivedMs: NOW - 200 }),
        event('ws_a', 'b4', { receivedMs: NOW - 100 }),
        event('ws_a', 'b5', { receivedMs: NOW - 50 }),
      ],
      0,
    );
    const at = (i: number): number => {
      const seq = seqs[i];
      assert.ok(typeof seq === 'number');
      return seq;
    };
    assert.deepEqual(await store.events.backlog('ws_a', 0, 100), { events: 4, oldestReceivedMs: NOW - 300 });
    // Another workspace's entries are not this one's backlog.
    assert.deepEqual(await store.events.backlog('ws_a', at(0), 100), {
      events: 3,
      oldestReceivedMs: NOW - 200,
    });
    assert.deepEqual(await store.events.backlog('ws_b', at(0), 100), {
      events: 1,
      oldestReceivedMs: NOW - 250,
    });
    // The count stops at the limit; the oldest is still the first one after the position.
    assert.deepEqual(await store.events.backlog('ws_a', at(0), 2), {
      events: 2,
      oldestReceivedMs: NOW - 200,
    });
    assert.deepEqual(await store.events.backlog('ws_a', at(4), 100), { events: 0, oldestReceivedMs: null });
    assert.deepEqual(await store.events.backlog('ws_none', 0, 100), { events: 0, oldestReceivedMs: null });
  });

  it('bounds a read by the bytes of its payloads, counted in UTF-8, the first entry always read', async () => {
    const { store } = await fixture.fresh();
    await store.events.append(
      ['m1', 'm2', 'm3', 'm4', 'm5'].map((id) => heavy('ws_a', id)),
      NOW - 86_400_000,
    );
    const ids = async (afterSeq: number, limit: number, maxBytes?: number): Promise<string[]> =>
      (await store.events.readAfter(afterSeq, limit, maxBytes)).map((e) => e.messageId);
    assert.deepEqual(await ids(0, 10, 9_000), ['m1', 'm2']);
    assert.deepEqual(await ids(0, 10, 10), ['m1']);
    assert.deepEqual(await ids(0, 3, 1_000_000), ['m1', 'm2', 'm3']);
    assert.deepEqual(await ids(0, 10), ['m1', 'm2', 'm3', 'm4', 'm5']);
    const second = (await store.events.readAfter(0, 2))[1];
    assert.ok(second);
    assert.deepEqual(await ids(second.seq, 10, 9_000), ['m3', 'm4']);
    assert.deepEqual(await ids(second.seq, 10, 100_000), ['m3', 'm4', 'm5']);
  });

  // The bound is measured in a pass before the read: entries committed between the two passes
  // were not measured and must not be read (a pipeline batch over its memory bound, seen in CI).
  it('keeps a bounded read within its bound while appends commit', async () => {
    const { store } = await fixture.fresh();
    const groups = 40;
    let appended = false;
    const appending = (async () => {
      for (let g = 0; g < groups; g++)
        await store.events.append(
          ['a', 'b', 'c'].map((k) => heavy('ws_a', `g${g}${k}`)),
          NOW - 86_400_000,
        );
      appended = true;
    })();
    let cursor = 0;
    let read = 0;
    while (read < groups * 3) {
      const batch = await store.events.readAfter(cursor, 50, 9_000);
      assert.ok(
        batch.length <= 2,
        `a read of ${batch.length} entries of ~4,100 bytes under a 9,000-byte bound`,
      );
      read += batch.length;
      cursor = batch.at(-1)?.seq ?? cursor;
      if (batch.length === 0 && appended) break;
      if (batch.length === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await appending;
    assert.equal(read, groups * 3);
  });

  it('bounds a workspace’s log read in a profile transaction by the bytes of its own events', async () => {
    const { store } = await fixture.fresh();
    await store.events.append(
      [
        heavy('ws_a', 'a1'),
        heavy('ws_b', 'b1'),
        heavy('ws_a', 'a2'),
        heavy('ws_b', 'b2'),
        heavy('ws_a', 'a3'),
      ],
      NOW - 86_400_000,
    );
    const ids = (limit: number, maxBytes?: number): Promise<string[]> =>
      store.profileState.exclusive('ws_a', NOW, async (session) =>
        (await session.logAfter(0, limit, maxBytes)).map((e) => e.messageId),
      );
    assert.deepEqual(await ids(10, 9_000), ['a1', 'a2'], "the other workspace's events are not counted");
    assert.deepEqual(await ids(10, 10), ['a1']);
    assert.deepEqual(await ids(10), ['a1', 'a2', 'a3']);
  });

  it('appends large groups in order, with payloads given as text or UTF-8 bytes', async () => {
    const { store } = await fixture.fresh();
    const cutoff = NOW - 86_400_000;
    await store.events.append([event('ws_a', 'm-7'), event('ws_a', 'm-150')], cutoff);
    const events = Array.from({ length: 203 }, (_, i) => {
      const payload = JSON.stringify({ type: 'track', messageId: `m-${i}`, event: 'Café ✓', n: i });
      return event('ws_a', `m-${i}`, {
        payload: i % 2 === 0 ? payload : new Uint8Array(Buffer.from(payload)),
      });
    });
    const { seqs } = await store.events.append(events, cutoff);
    assert.equal(seqs.length, 203);
    assert.equal(seqs[7], null);
    assert.equal(seqs[150], null);
    const stored = seqs.filter((seq): seq is number => seq !== null);
    assert.equal(stored.length, 201);
    assert.ok(stored.every((seq, i) => i === 0 || seq > (stored[i - 1] as number)));
    const read = await store.events.readBySeqs(stored);
    const bySeq = new Map(read.map((e) => [e.seq, e]));
    seqs.forEach((seq, i) => {
      if (seq === null) return;
      const entry = bySeq.get(seq);
      assert.equal(entry?.messageId, `m-${i}`);
      assert.deepEqual(entry?.message, { type: 'track', messageId: `m-${i}`, event: 'Café ✓', n: i });
    });
    assert.equal(await store.events.countByWorkspace('ws_a'), 203);
  });

  it('stores a messageId once within the dedup window and again after it', async () => {
    const { store } = await fixture.fresh();
    const cutoff = NOW - 86_400_000;
    await store.events.append([event('ws_a', 'dup')], cutoff);
    const again = await store.events.append(
      [event('ws_a', 'dup', { receivedMs: NOW + 1000 }), event('ws_a', 'fresh')],
      cutoff,
    );
    assert.equal(again.seqs[0], null);
    assert.equal(typeof again.seqs[1], 'number');
    assert.equal(await store.events.countByWorkspace('ws_a'), 2);
    // A day later the window has passed: the same messageId is new again.
    const later = await store.events.append(
      [event('ws_a', 'dup', { receivedMs: NOW + 90_000_000 })],
      NOW + 1,
    );
    assert.equal(typeof later.seqs[0], 'number');
  });

  it('queries a workspace newest first with filters and paging', async () => {
    const { store } = await fixture.fresh();
    const cutoff = NOW - 1;
    await store.events.append(
      [
        event('ws_a', 'a1', { type: 'identify', event: null }),
        event('ws_a', 'a2'),
        event('ws_b', 'b1'),
        event('ws_a', 'a3', { event: 'Product Viewed', userId: null, anonymousId: 'anon' }),
      ],
      cutoff,
    );
    const { events: all } = await store.events.query({ workspaceId: 'ws_a', limit: 10 });
    assert.deepEqual(
      all.map((e) => e.messageId),
      ['a3', 'a2', 'a1'],
    );
    assert.deepEqual(
      (await store.events.query({ workspaceId: 'ws_a', type: 'identify', limit: 10 })).events.map(
        (e) => e.messageId,
      ),
      ['a1'],
    );
    assert.deepEqual(
      (await store.events.query({ workspaceId: 'ws_a', event: 'Product Viewed', limit: 10 })).events.map(
        (e) => e.messageId,
      ),
      ['a3'],
    );
    assert.deepEqual(
      (await store.events.query({ workspaceId: 'ws_a', anonymousId: 'anon', limit: 10 })).events.map(
        (e) => e.messageId,
      ),
      ['a3'],
    );
    assert.deepEqual(
      (await store.events.query({ workspaceId: 'ws_a', beforeSeq: all[0]?.seq, limit: 1 })).events.map(
        (e) => e.messageId,
      ),
      ['a2'],
    );
    assert.deepEqual(
      (await store.events.tail('ws_a', all[1]?.seq ?? 0, 10)).map((e) => e.messageId),
      ['a3'],
    );
  });

  it('bounds what one filtered page of the log reads, and says where to continue', async () => {
    const { store } = await fixture.fresh();
    const cutoff = Date.now() - 60_000;
    // One identify, then 30 track events of the workspace (and some of another in between).
    await store.events.append(
      [event('ws_s', 's0', { type: 'identify', userId: 'u_old', event: null })],
      cutoff,
    );
    for (let i = 1; i <= 30; i++)
      await store.events.append(
        [
          event('ws_s', `s${i}`, { event: 'Product Viewed' }),
          event('ws_t', `t${i}`, { event: 'Product Viewed' }),
        ],
        cutoff,
      );
    const query = { workspaceId: 'ws_s', userId: 'u_old', limit: 5, scanWithin: 10 };
    // The newest 10 entries of ws_s hold no match: an empty page, and where to go on from.
    const first = await store.events.query(query);
    assert.deepEqual(first.events, []);
    assert.equal(typeof first.continueBefore, 'number');
    const second = await store.events.query({ ...query, beforeSeq: first.continueBefore });
    assert.deepEqual(second.events, []);
    const third = await store.events.query({ ...query, beforeSeq: second.continueBefore });
    const fourth = await store.events.query({ ...query, beforeSeq: third.continueBefore });
    // 31 entries: the fourth window reaches the first one; fewer than 10 left, so no bound.
    assert.deepEqual(
      [third.events, fourth.events].flat().map((e) => e.messageId),
      ['s0'],
    );
    assert.equal(fourth.continueBefore, undefined);
    // Unfiltered pages, and filtered pages that fill up, are not bounded.
    const unfiltered = await store.events.query({ workspaceId: 'ws_s', limit: 5, scanWithin: 1 });
    assert.equal(unfiltered.events.length, 5);
    assert.equal(unfiltered.continueBefore, undefined);
    const full = await store.events.query({
      workspaceId: 'ws_s',
      event: 'Product Viewed',
      limit: 5,
      scanWithin: 10,
    });
    assert.deepEqual(
      full.events.map((e) => e.messageId),
      ['s30', 's29', 's28', 's27', 's26'],
    );
    assert.equal(full.continueBefore, undefined);
  });

  it('keeps consumer cursors and redeliveries, committed together', async () => {
    const { store } = await fixture.fresh();
    const state = store.consumerState;
    assert.equal(await state.getCursor('stage-a'), 0);
    await state.commit(
      'stage-a',
      { cursor: 7, schedule: [{ seq: 3, attempt: 1, dueMs: NOW + 500 }], settled: [] },
      NOW,
    );
    assert.equal(await state.getCursor('stage-a'), 7);
    assert.equal(await state.getCursor('stage-b'), 0);
    assert.deepEqual(await state.dueRedeliveries('stage-a', NOW, 10), []);
    assert.deepEqual(await state.dueRedeliveries('stage-a', NOW + 500, 10), [{ seq: 3, attempt: 1 }]);
    assert.equal(await state.nextDueMs('stage-a'), NOW + 500);
    await state.scheduleNow('stage-a', [3, 4], NOW);
    assert.deepEqual(await state.dueRedeliveries('stage-a', NOW, 10), [
      { seq: 3, attempt: 1 },
      { seq: 4, attempt: 0 },
    ]);
    await state.commit('stage-a', { schedule: [], settled: [3, 4] }, NOW);
    assert.equal(await state.nextDueMs('stage-a'), undefined);
    assert.equal(await state.getCursor('stage-a'), 7);
  });

  it('records failed events idempotently per stage and entry', async () => {
    const { store } = await fixture.fresh();
    const failure = {
      id: 'fev_1',
      stage: 's',
      seq: 5,
      workspaceId: 'ws_a',
      errorCode: 'x',
      reason: 'boom',
      attempts: 1,
      failedMs: NOW,
    };
    await store.failedEvents.record(failure);
    await store.failedEvents.record({
      ...failure,
      id: 'fev_2',
      attempts: 3,
      reason: 'boom again',
      failedMs: NOW + 1,
    });
    const listed = await store.failedEvents.list('ws_a', { limit: 10 });
    assert.equal(listed.length, 1);
    assert.equal(listed[0]?.attempts, 3);
    assert.equal(listed[0]?.id, 'fev_1');
    await store.failedEvents.record({ ...failure, id: 'fev_3', seq: 6, failedMs: NOW + 5 });
    assert.deepEqual(
      (await store.failedEvents.list('ws_a', { limit: 1 })).map((f) => f.seq),
      [6],
    );
    assert.deepEqual(
      (await store.failedEvents.list('ws_a', { limit: 5, before: { failedMs: NOW + 5, id: 'fev_3' } })).map(
        (f) => f.seq,
      ),
      [5],
    );
    assert.equal(await store.failedEvents.countFailed('ws_a'), 2);
    await store.failedEvents.markReplayed(['fev_1'], NOW + 9);
    assert.equal(await store.failedEvents.countFailed('ws_a'), 1);
    assert.deepEqual(await store.failedEvents.countFailedByStage(), [{ stage: 's', count: 1 }]);
    assert.equal((await store.failedEvents.find('ws_a', 'fev_1'))?.status, 'replayed');
    assert.equal(await store.failedEvents.find('ws_b', 'fev_1'), undefined);
  });

  it('keeps appended events across close and reopen', async () => {
    const handle = await fixture.fresh();
    await handle.store.events.append([event('ws_a', 'keep')], NOW - 1);
    await handle.store.close();
    const reopened = await handle.reopen();
    assert.deepEqual(
      (await reopened.events.readAfter(0, 10)).map((e) => e.messageId),
      ['keep'],
    );
    // Dedup survives the restart too.
    assert.deepEqual((await reopened.events.append([event('ws_a', 'keep')], NOW - 1)).seqs, [null]);
    await reopened.close();
  });
});

describeEachStore('store conformance: prepared append path', (fixture) => {
  it('dedups across a reopen when the append path is prepared before the first append', async () => {
    const handle = await fixture.fresh();
    await handle.store.events.append([event('ws_a', 'warm')], NOW - 1);
    await handle.store.close();
    const reopened = await handle.reopen();
    await reopened.events.prepare(NOW - 1);
    assert.deepEqual(
      (await reopened.events.append([event('ws_a', 'warm'), event('ws_a', 'cold')], NOW - 1)).seqs.map(
        (s) => s === null,
      ),
      [true, false],
    );
    await reopened.close();
  });
});
