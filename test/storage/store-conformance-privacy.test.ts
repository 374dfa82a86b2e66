import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { AcceptedEvent } from '../../src/ingestion/message-types.ts';
import type { PrivacyRequest } from '../../src/privacy/privacy.port.ts';
import { describeEachStore } from '../support/stores.ts';

/** The consent, privacy-request, suppression and retention repositories, the same on both stores. */

const NOW = Date.UTC(2026, 10, 1, 12);

const request = (id: string, overrides: Partial<PrivacyRequest> = {}): PrivacyRequest => ({
  workspaceId: 'ws_p',
  id,
  type: 'erase',
  status: 'pending',
  identifierType: 'email',
  identifierValue: 'a@b.co',
  identifierHash: `hash-${id}`,
  requestedBy: 'test',
  createdMs: NOW,
  startedMs: null,
  finishedMs: null,
  leaseUntilMs: null,
  attempts: 0,
  result: null,
  error: null,
  ...overrides,
});

const event = (n: number, receivedMs: number): AcceptedEvent => ({
  workspaceId: 'ws_p',
  sourceId: 'src',
  messageId: `m-${n}`,
  type: 'track',
  event: 'E',
  userId: 'u',
  anonymousId: null,
  timestampMs: receivedMs,
  receivedMs,
  payload: JSON.stringify({ type: 'track', event: 'E', userId: 'u', messageId: `m-${n}` }),
});

describeEachStore('store conformance: privacy', (fixture) => {
  it('consent: observations are idempotent per event and category; merges move history; current = latest', async () => {
    const { store } = await fixture.fresh();
    const obs = (seq: number, category: string, granted: boolean, tsMs: number, profileId: string) => ({
      seq,
      category,
      granted,
      tsMs,
      source: 'event',
      messageId: `m-${seq}`,
      profileId,
    });
    const batch = {
      observations: [obs(1, 'marketing', true, NOW, 'prf_a'), obs(2, 'marketing', false, NOW - 1, 'prf_b')],
      mergedProfiles: [],
      deletedProfiles: [],
      changedProfiles: [],
    };
    await store.consent.applyBatch('ws_p', batch, NOW);
    await store.consent.applyBatch('ws_p', batch, NOW);
    assert.equal((await store.consent.history('ws_p', 'prf_a', { limit: 10 })).length, 1);
    await store.consent.applyBatch(
      'ws_p',
      {
        observations: [],
        mergedProfiles: [{ id: 'prf_b', into: 'prf_a' }],
        deletedProfiles: [],
        changedProfiles: [],
      },
      NOW,
    );
    const current = await store.consent.current('ws_p', 'prf_a');
    assert.deepEqual(
      current.map((c) => [c.category, c.granted, c.messageId]),
      [['marketing', true, 'm-1']],
    );
    assert.deepEqual(await store.consent.current('ws_p', 'prf_b'), []);
    await store.consent.record(
      'ws_p',
      'prf_a',
      [{ category: 'marketing', granted: false, source: 'api', tsMs: NOW + 5, actor: 'token:t' }],
      NOW,
    );
    const history = await store.consent.history('ws_p', 'prf_a', { limit: 10 });
    assert.deepEqual(
      history.map((h) => [h.source, h.granted, h.tsMs - NOW]),
      [
        ['api', false, 5],
        ['event', true, 0],
        ['event', false, -1],
      ],
    );
    const page = await store.consent.history('ws_p', 'prf_a', {
      limit: 10,
      before: { tsMs: history[0]?.tsMs ?? 0, seq: history[0]?.seq ?? 0 },
    });
    assert.equal(page.length, 2);
    assert.equal((await store.consent.current('ws_p', 'prf_a'))[0]?.granted, false);
  });

  it('consent: a redelivered observation whose event now belongs to another profile moves there', async () => {
    const { store } = await fixture.fresh();
    const batchFor = (profileId: string) => ({
      observations: [
        {
          seq: 7,
          category: 'marketing',
          granted: true,
          tsMs: NOW,
          source: 'event',
          messageId: 'm-7',
          profileId,
        },
        { seq: 7, category: 'ads', granted: false, tsMs: NOW, source: 'event', messageId: 'm-7', profileId },
      ],
      mergedProfiles: [],
      deletedProfiles: [],
      changedProfiles: [],
    });
    await store.consent.applyBatch('ws_p', batchFor('prf_a'), NOW);
    // Between the two deliveries the event was re-resolved to another profile.
    await store.consent.applyBatch('ws_p', batchFor('prf_c'), NOW + 1);
    const moved = await store.consent.history('ws_p', 'prf_c', { limit: 10 });
    assert.deepEqual(moved.map((h) => [h.category, h.granted, h.eventSeq]).sort(), [
      ['ads', false, 7],
      ['marketing', true, 7],
    ]);
    assert.deepEqual(await store.consent.history('ws_p', 'prf_a', { limit: 10 }), []);
    assert.deepEqual(await store.consent.current('ws_p', 'prf_a'), []);
    assert.deepEqual([...(await store.consent.currentValues('ws_p', 'prf_c'))].sort(), [
      ['ads', false],
      ['marketing', true],
    ]);
  });

  it('privacy requests: one claimer wins; an expired lease is taken again; finishing clears the identifier', async () => {
    const { store } = await fixture.fresh();
    await store.privacyRequests.create(request('prq_1'));
    await store.privacyRequests.create(request('prq_2', { createdMs: NOW + 1 }));
    const claims = await Promise.all(
      Array.from({ length: 5 }, () =>
        store.privacyRequests.claim(NOW, 60_000, { workspaceId: 'ws_p', id: 'prq_1' }),
      ),
    );
    assert.equal(claims.filter((c) => c !== undefined).length, 1);
    assert.equal((await store.privacyRequests.claim(NOW, 60_000))?.id, 'prq_2');
    assert.equal(await store.privacyRequests.claim(NOW + 1_000, 60_000), undefined);
    const retaken = await store.privacyRequests.claim(NOW + 61_000, 60_000);
    assert.equal(retaken?.id, 'prq_1');
    assert.equal(retaken?.attempts, 2);
    assert.equal(retaken?.startedMs, NOW);
    // Settling before the outcome is recorded does nothing.
    await store.privacyRequests.settle('ws_p', 'prq_1');
    assert.equal((await store.privacyRequests.get('ws_p', 'prq_1'))?.status, 'running');
    await store.privacyRequests.recordOutcome('ws_p', 'prq_1', {
      result: { deleted: 3 },
      error: null,
      finishedMs: NOW + 62_000,
    });
    const recorded = await store.privacyRequests.get('ws_p', 'prq_1');
    assert.equal(recorded?.identifierValue, null);
    assert.equal(recorded?.status, 'running', 'not completed before the files are purged');
    assert.equal(recorded?.finishedMs, NOW + 62_000);
    await store.privacyRequests.settle('ws_p', 'prq_1');
    const done = await store.privacyRequests.get('ws_p', 'prq_1');
    assert.equal(done?.status, 'completed');
    assert.equal(done?.leaseUntilMs, null);
    assert.equal(done?.identifierValue, null);
    assert.equal(done?.identifierHash, 'hash-prq_1');
    assert.deepEqual(done?.result, { deleted: 3 });
    assert.deepEqual(
      (await store.privacyRequests.list('ws_p', { limit: 10 })).map((r) => r.id),
      ['prq_2', 'prq_1'],
    );
    await store.privacyRequests.saveExport('ws_p', 'prq_2', '{"a":1}', NOW, NOW + 10);
    assert.equal(await store.privacyRequests.readExport('ws_p', 'prq_2'), '{"a":1}');
    assert.equal(await store.privacyRequests.readExport('ws_other', 'prq_2'), undefined);
    assert.equal(await store.privacyRequests.deleteExpiredExports(NOW + 10), 1);
    await store.privacyRequests.recordOutcome('ws_p', 'prq_2', {
      result: null,
      error: { code: 'privacy.not_found', message: 'nothing' },
      finishedMs: NOW + 63_000,
    });
    await store.privacyRequests.settle('ws_p', 'prq_2');
    const failed = await store.privacyRequests.get('ws_p', 'prq_2');
    assert.equal(failed?.status, 'failed');
    assert.deepEqual(failed?.error, { code: 'privacy.not_found', message: 'nothing' });
  });

  it('suppressions: groups per request, versions per workspace, dropped counts', async () => {
    const { store } = await fixture.fresh();
    await store.suppressions.add('ws_p', ['h1', 'h2'], 'prq_a', NOW);
    await store.suppressions.add('ws_p', ['h3'], 'prq_b', NOW);
    assert.deepEqual((await store.suppressions.hashes('ws_p')).sort(), ['h1', 'h2', 'h3']);
    assert.equal((await store.suppressions.states()).get('ws_p')?.version, 2);
    assert.equal(await store.suppressions.removeGroupOf('ws_p', 'h2', NOW), 2);
    assert.equal(await store.suppressions.removeGroupOf('ws_p', 'h2', NOW), 0);
    assert.deepEqual(await store.suppressions.hashes('ws_p'), ['h3']);
    await store.suppressions.addDropped(new Map([['ws_p', 4]]), NOW);
    await store.suppressions.addDropped(new Map([['ws_p', 1]]), NOW);
    assert.deepEqual((await store.suppressions.states()).get('ws_p'), { version: 3, droppedEvents: 5 });
  });

  it('retention deletes the oldest events of a workspace in batches and keeps the counters exact', async () => {
    const { store } = await fixture.fresh();
    const events = Array.from({ length: 7 }, (_, i) => event(i, i < 5 ? NOW - 10_000 : NOW));
    await store.events.append(events, 0);
    assert.equal(await store.retention.deleteEventsBefore('ws_p', NOW - 1, 2), 2);
    assert.equal(await store.retention.deleteEventsBefore('ws_p', NOW - 1, 10), 3);
    assert.equal(await store.retention.deleteEventsBefore('ws_p', NOW - 1, 10), 0);
    assert.equal(await store.events.countByWorkspace('ws_p'), 2);
    assert.equal(await store.retention.deleteEventsBefore('ws_other', NOW + 1, 10), 0);
  });
});
