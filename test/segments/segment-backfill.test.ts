import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { Kysely } from 'kysely';
import { buildSegmentServices } from '../../src/app/segment-services.ts';
import { parseSegmentDefinition } from '../../src/segment-language/index.ts';
import type { Segment } from '../../src/segments/segment-types.ts';
import { createManualClock } from '../../src/shared/clock.ts';
import type { Database } from '../../src/storage/database-schema.ts';
import type { Store } from '../../src/storage/store.ts';
import { describeEachStore } from '../support/stores.ts';
import { BASE, NOW } from './conformance.cases.ts';
import { openRawDatabase, seedProfiles } from './profile-fixtures.ts';

const WS = 'ws_backfill';

describeEachStore('segment backfill', (fixture) => {
  let store: Store;
  let raw: Kysely<Database>;
  const clock = createManualClock(NOW);
  const errors: unknown[] = [];
  let services: ReturnType<typeof buildSegmentServices>;

  before(async () => {
    const handle = await fixture.fresh();
    store = handle.store;
    raw = openRawDatabase(handle);
    await seedProfiles(raw, WS, BASE);
    // Chunks of 2 profiles: every range bound of the compiled queries is exercised.
    services = buildSegmentServices({
      store,
      clock,
      logError: (details) => errors.push(details),
      chunkSize: 2,
    });
  });
  after(async () => {
    await raw.destroy();
  });

  it('cuts the live persons into chunks at every chunk-th id', async () => {
    assert.deepEqual(await store.segments.chunkBoundaries(WS, 2), ['p02', 'p04', 'p08']);
    assert.deepEqual(await store.segments.chunkBoundaries(WS, 6), ['p08']);
    assert.deepEqual(await store.segments.chunkBoundaries(WS, 7), []);
  });

  it('chunked backfills store exactly the members of the whole query', async () => {
    const definitions = [
      'traits.plan = "pro"',
      'did "Order Completed" at least 2 times in last 30 days',
      'did "Product Viewed" where (properties.category = "shoes") in last 7 days and not did "Order Completed" in last 7 days',
      'did "Order Completed" at most 0 times',
      'group.plan = null or consent.marketing = true',
    ];
    for (const [index, definition] of definitions.entries()) {
      const slug = `s${index}`;
      const { segment } = await services.segments.create(WS, { name: slug, slug, definition });
      await services.segments.idle();
      const parsed = parseSegmentDefinition(definition);
      assert.ok(parsed.ok);
      const expected = await store.segments.matchingIds(WS, parsed.ast, {
        nowMs: NOW,
        references: { kind: 'membership', segmentIds: new Map() },
      });
      const members = await store.segments.listMembers(WS, segment.id, { limit: 100 });
      assert.deepEqual(
        members.map((m) => m.profileId),
        expected,
        definition,
      );
      const done = await services.segments.get(WS, slug);
      assert.deepEqual([done.backfill.status, done.backfill.done, done.backfill.total], ['ready', 6, 6]);
    }
    assert.deepEqual(errors, []);
  });

  it('writes nothing for a segment that was redefined or deleted meanwhile', async () => {
    const segment: Segment = await services.segments.get(WS, 's0');
    assert.equal(
      await store.segments.replaceMembers(WS, segment.id, segment.version + 1, {}, ['p04'], NOW),
      null,
    );
    await services.segments.delete(WS, 's0');
    assert.equal(
      await store.segments.replaceMembers(WS, segment.id, segment.version, {}, ['p04'], NOW),
      null,
    );
    assert.equal(await store.segments.countMembers(WS, segment.id), 0);
  });

  it('computed traits: chunked recompute stores each profile value', async () => {
    const trait = await services.computedTraits.create(WS, {
      name: 'orders',
      definition: { kind: 'event_count', event: 'Order Completed', window: { days: 30 } },
    });
    await services.computedTraits.idle();
    const values = new Map<string, unknown>();
    for (const id of ['p01', 'p02', 'p03', 'p04', 'p05', 'p08'])
      values.set(id, (await store.computedTraits.valuesOf(WS, id))['orders']);
    assert.deepEqual(Object.fromEntries(values), { p01: 2, p02: 0, p03: 3, p04: 0, p05: 1, p08: 1 });
    const stored = await services.computedTraits.get(WS, 'orders');
    assert.equal(stored.backfill.status, 'ready');
    assert.equal(
      await store.computedTraits.replaceValues(
        WS,
        { id: trait.id, name: 'orders', version: 99 },
        {},
        [],
        NOW,
      ),
      false,
    );
    assert.deepEqual(errors, []);
  });

  // A backfill computes at its start and writes later; the real-time path may have written a
  // newer value for a profile in between (its event came meanwhile, a window lapsed).
  it('computed traits: a backfill keeps the values written in real time after it began', async () => {
    const trait = await services.computedTraits.get(WS, 'orders');
    const began = NOW + 1_000;
    const realtime = (profileId: string, value: number, atMs: number) =>
      store.audienceState.apply(
        WS,
        {
          removed: [],
          updates: [
            {
              profileId,
              memberships: [],
              computed: [{ name: 'orders', value, nextChangeMs: null }],
              dueMs: null,
            },
          ],
        },
        atMs,
      );
    await realtime('p01', 40, began + 5); // after the backfill began: newer
    await realtime('p02', 41, began - 5); // before: the backfill replaces it
    await realtime('p03', 42, began); // in the very millisecond: replaced
    const replaced = await store.computedTraits.replaceValues(
      WS,
      { id: trait.id, name: 'orders', version: trait.version },
      {},
      [
        { profileId: 'p01', value: 1, nextChangeMs: null },
        { profileId: 'p02', value: 2, nextChangeMs: null },
        { profileId: 'p03', value: 3, nextChangeMs: null },
      ],
      began,
    );
    assert.equal(replaced, true);
    const orders = async (id: string) => (await store.computedTraits.valuesOf(WS, id))['orders'];
    assert.deepEqual([await orders('p01'), await orders('p02'), await orders('p03')], [40, 2, 3]);
    // Profiles without a value from the backfill lose older ones.
    assert.equal(await orders('p05'), undefined);
  });

  // What a backfill computed from a profile's older state may have replaced what the real-time
  // path decided meanwhile (realtime-audiences.test.ts): once its last step is written, it asks
  // for the profiles written since its start to be evaluated again, before it says `ready`.
  it('a finished backfill asks for the profiles written since it began, before it is ready', async () => {
    const calls: { since: number; status: string; members: number; value: unknown }[] = [];
    const began = NOW + 7_000;
    clock.set(began);
    const withCatchUp = buildSegmentServices({
      store,
      clock,
      logError: (details) => errors.push(details),
      chunkSize: 2,
      reevaluateSince: async (workspaceId, since) => {
        assert.equal(workspaceId, WS);
        const segment = await store.segments.find(WS, 'catch-up');
        const trait = await store.computedTraits.find(WS, 'catch_up');
        calls.push({
          since,
          status: (trait ?? segment)?.backfill.status ?? 'missing',
          members: segment === undefined ? -1 : await store.segments.countMembers(WS, segment.id),
          value: (await store.computedTraits.valuesOf(WS, 'p01'))['catch_up'],
        });
      },
    });
    await withCatchUp.segments.create(WS, { name: 'c', slug: 'catch-up', definition: 'traits.plan = "pro"' });
    await withCatchUp.segments.idle();
    const segment = await withCatchUp.segments.get(WS, 'catch-up');
    const expected = await store.segments.countMembers(WS, segment.id);
    assert.ok(expected > 0);
    assert.deepEqual(calls, [{ since: began, status: 'backfilling', members: expected, value: undefined }]);
    assert.equal(segment.backfill.status, 'ready');
    calls.length = 0;
    await withCatchUp.computedTraits.create(WS, {
      name: 'catch_up',
      definition: { kind: 'event_count', event: 'Order Completed' },
    });
    await withCatchUp.computedTraits.idle();
    assert.equal(calls.length, 1);
    assert.deepEqual([calls[0]?.since, calls[0]?.status, calls[0]?.value], [began, 'backfilling', 2]);
    assert.equal((await withCatchUp.computedTraits.get(WS, 'catch_up')).backfill.status, 'ready');
    assert.deepEqual(errors, []);
  });
});
