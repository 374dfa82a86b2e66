/**
 * The router's rule for history: an event is offered to the destinations created at or before
 * its receipt, on every report of it (the first one, a redelivery, a rebuild): the outbox makes
 * a re-report queue nothing twice. The people of events no destination is offered are not even
 * looked up (a rebuild re-reports the whole log).
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { offeredTo } from '../../src/destinations/delivery-policy.ts';
import { DestinationRouter } from '../../src/destinations/destination-router.ts';
import type { Destination } from '../../src/destinations/destination-types.ts';
import type { DestinationRepository, EventDeliveryRow } from '../../src/destinations/destinations.port.ts';
import type { StoredEvent } from '../../src/ingestion/message-types.ts';
import type { ProfileBatchChange } from '../../src/profiles/profile-state.port.ts';
import { createManualClock } from '../../src/shared/clock.ts';

const CREATED_MS = 1_000_000;

const destination = (id: string, createdMs: number, segments: string[] = []): Destination => ({
  id,
  workspaceId: 'ws',
  type: 'webhook',
  name: id,
  config: { url: 'https://example.com/hook', secret: 's', sendDeletions: true },
  filter: null,
  segments,
  consentCategories: [],
  enabled: true,
  createdMs,
  updatedMs: createdMs,
});

const event = (seq: number, receivedMs: number): StoredEvent => ({
  seq,
  workspaceId: 'ws',
  sourceId: 'src',
  messageId: `m${seq}`,
  type: 'track',
  event: 'Viewed',
  userId: `u${seq}`,
  anonymousId: null,
  timestampMs: receivedMs,
  receivedMs,
  message: { type: 'track', event: 'Viewed', userId: `u${seq}`, messageId: `m${seq}` },
});

it('offers a destination the events received at or after its creation', () => {
  const d = { createdMs: CREATED_MS };
  for (const [receivedMs, offered] of [
    [CREATED_MS - 1, false],
    [0, false],
    [CREATED_MS, true],
    [CREATED_MS + 1, true],
  ] as const)
    assert.equal(offeredTo(d, receivedMs), offered, String(receivedMs));
});

it('queues re-reported old events for no destination created after them, recent ones once', async () => {
  const outbox = new Map<string, EventDeliveryRow>();
  const skippedTotal: Record<string, number> = {};
  const lookedUp: string[] = [];
  const repository = {
    enabledIn: async () => [destination('older', 0), destination('newer', CREATED_MS, ['vip'])],
    enqueue: async (_ws: string, rows: readonly EventDeliveryRow[]) => {
      let added = 0;
      for (const row of rows) {
        const key = `${row.destinationId}/${row.eventSeq}`;
        if (outbox.has(key)) continue;
        outbox.set(key, row);
        added++;
      }
      return added;
    },
  } as unknown as DestinationRepository;
  const router = new DestinationRouter({
    destinations: repository,
    membershipsOf: async (_ws, profileId) => {
      lookedUp.push(profileId);
      return ['vip'];
    },
    consentOf: async () => new Map(),
    clock: createManualClock(CREATED_MS + 10_000),
    onRouted: ({ skipped }) => {
      for (const [reason, n] of Object.entries(skipped))
        skippedTotal[reason] = (skippedTotal[reason] ?? 0) + n;
    },
  });
  const change: ProfileBatchChange = {
    workspaceId: 'ws',
    nowMs: CREATED_MS + 10_000,
    events: [event(1, CREATED_MS - 5_000), event(2, CREATED_MS - 1), event(3, CREATED_MS + 5)],
    profileOf: new Map([
      [1, 'p-old'],
      [2, 'p-old'],
      [3, 'p-new'],
    ]),
    changedProfiles: ['p-old', 'p-new'],
    mergedProfiles: [],
    deletedProfiles: [],
    reassignedProfiles: [],
  };
  // The first report, then the same batch again (a redelivery, or a rebuild replaying the log).
  await router.profilesChanged(change);
  await router.profilesChanged(change);
  assert.deepEqual([...outbox.keys()].sort(), ['newer/3', 'older/1', 'older/2', 'older/3']);
  assert.equal(skippedTotal['predates_destination'], 4, 'events 1 and 2, twice, for "newer"');
  assert.deepEqual([...new Set(lookedUp)], ['p-new'], 'only the people of events "newer" is offered');
});
