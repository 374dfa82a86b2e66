import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { Kysely } from 'kysely';
import type { Database } from '../../src/storage/database-schema.ts';
import { admin, expectError, wsUrl } from '../support/http-helpers.ts';
import { describeEachStore } from '../support/stores.ts';
import { createManualClock, createTestApp, type TestApp } from '../support/test-app.ts';
import { BASE, NOW } from './conformance.cases.ts';
import { openRawDatabase, seedProfiles } from './profile-fixtures.ts';

interface SegmentBody {
  id: string;
  slug: string;
  size: number;
  status: string;
  backfill: { total: number; done: number; startedAt: string | null; finishedAt: string | null };
  dependencies: { segments: string[]; computed: string[]; events: string[] };
  warnings?: { code: string }[];
}

describeEachStore('segments API', (fixture) => {
  let t: TestApp;
  let raw: Kysely<Database>;
  const clock = createManualClock(NOW);
  const url = (path: string) => wsUrl(t, path);
  const settle = () => Promise.all([t.app.services.segments.idle(), t.app.services.computedTraits.idle()]);
  const create = async (slug: string, definition: string) => {
    const res = await admin(t, 'POST', url('/segments'), { name: `Segment ${slug}`, slug, definition });
    assert.equal(res.statusCode, 201, res.body);
    await settle();
    return res.json<SegmentBody>();
  };
  const get = async (slug: string) => {
    const res = await admin(t, 'GET', url(`/segments/${slug}`));
    assert.equal(res.statusCode, 200, res.body);
    return res.json<SegmentBody>();
  };
  const members = async (slug: string) => {
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await admin(
        t,
        'GET',
        url(`/segments/${slug}/members?limit=2${cursor ? `&cursor=${cursor}` : ''}`),
      );
      assert.equal(res.statusCode, 200, res.body);
      const page = res.json<{ items: { id: string; enteredAt: string }[]; nextCursor: string | null }>();
      ids.push(...page.items.map((m) => m.id));
      cursor = page.nextCursor;
    } while (cursor !== null);
    return ids;
  };

  before(async () => {
    const handle = await fixture.fresh();
    t = await createTestApp(handle.store, { clock });
    raw = openRawDatabase(handle);
    await seedProfiles(raw, t.workspace.id, BASE);
  });
  after(async () => {
    await t.close();
    await raw.destroy();
  });

  it('creates a segment (201), backfills it in the background, then GET has its size', async () => {
    const created = await create('pro', 'traits.plan = "pro"');
    assert.equal(created.slug, 'pro');
    assert.equal(created.status, 'backfilling');
    const segment = await get('pro');
    assert.equal(segment.status, 'ready');
    assert.equal(segment.size, 3);
    assert.deepEqual([segment.backfill.total, segment.backfill.done], [6, 6]);
    assert.ok(segment.backfill.finishedAt);
    assert.deepEqual(await members('pro'), ['p01', 'p03', 'p08']);
  });

  it('keeps the dependencies of a definition for the real-time index', async () => {
    const created = await create('buyers', 'did "Order Completed" in last 30 days and in segment "pro"');
    assert.deepEqual(created.dependencies.events, ['Order Completed']);
    assert.deepEqual(created.dependencies.segments, ['pro']);
    assert.deepEqual(await members('buyers'), ['p01', 'p03', 'p08']);
  });

  it('answers 400 with line, column and expected for a definition that does not parse', async () => {
    const res = await admin(t, 'POST', url('/segments'), {
      name: 'Broken',
      slug: 'broken',
      definition: 'traits.plan = "pro" and\n  traits.ltv >=',
    });
    const error = expectError(res, 400, 'segment.parse_error');
    assert.match(String(error['message']), /^line 2, column 16: expected a value/);
    assert.equal(error['line'], 2);
    assert.equal(error['column'], 16);
    assert.ok(Array.isArray(error['expected']) && error['expected'].includes('a value'));
  });

  it('refuses bad definitions with clear 400s', async () => {
    const bad: [string, string][] = [
      ['in segment "nope"', 'segment.unknown_segment'],
      ['computed.nope > 1', 'segment.unknown_computed'],
      ['did "X" in last 0 days', 'segment.invalid_window'],
      ['did "X" in last 100000 years', 'segment.parse_error'],
      ['did "X" in last 100000 days', 'segment.invalid_window'],
      ['traits.age > "old"', 'segment.type_mismatch'],
      ['traits.plan ~ "pro"', 'segment.parse_error'],
      ['in segment "pro2"', 'segment.unknown_segment'],
      [`${'('.repeat(10_000)}traits.a = 1${')'.repeat(10_000)}`, 'segment.too_deep'],
      ['in segment "self"', 'segment.cycle'],
    ];
    for (const [definition, code] of bad) {
      const res = await admin(t, 'POST', url('/segments'), { name: 'Bad', slug: 'self', definition });
      const error = expectError(res, 400, code);
      assert.ok(Array.isArray(error['problems']), res.body);
    }
    expectError(await admin(t, 'GET', url('/segments/self')), 404, 'segment.not_found');
  });

  it('refuses a taken slug (409) and an invalid slug (400)', async () => {
    expectError(
      await admin(t, 'POST', url('/segments'), { name: 'Again', slug: 'pro', definition: 'traits.a = 1' }),
      409,
      'segment.slug_taken',
    );
    expectError(
      await admin(t, 'POST', url('/segments'), {
        name: 'Bad',
        slug: 'Not a slug',
        definition: 'traits.a = 1',
      }),
      400,
      'request.invalid_body',
    );
  });

  it('previews a draft without saving it', async () => {
    const res = await admin(t, 'POST', url('/segments/preview'), {
      definition:
        'did "Product Viewed" where (properties.category = "shoes") in last 7 days and not did "Order Completed" in last 7 days',
      sampleSize: 1,
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), { size: 2, sample: [{ id: 'p02' }], warnings: [] });
    const warned = await admin(t, 'POST', url('/segments/preview'), {
      definition: 'did "X" at least 0 times',
    });
    assert.deepEqual(
      warned.json<{ warnings: { code: string }[] }>().warnings.map((w) => w.code),
      ['segment.trivial_count'],
    );
    expectError(
      await admin(t, 'POST', url('/segments/preview'), { definition: 'traits.' }),
      400,
      'segment.parse_error',
    );
    // Each distinct event, computed trait, consent category or segment read is a join of the
    // compiled query: the most a definition may read still runs on both stores, one more is a
    // clear 400 instead of the engine's join limit as a 500.
    const reads = (n: number): string =>
      [...Array.from({ length: n - 1 }, (_, i) => `did "E${i}"`), 'consent.marketing = true'].join(' or ');
    const widest = await admin(t, 'POST', url('/segments/preview'), { definition: reads(48) });
    assert.equal(widest.statusCode, 200, widest.body);
    for (const definition of [reads(49), reads(64)]) {
      const error = expectError(
        await admin(t, 'POST', url('/segments/preview'), { definition }),
        400,
        'segment.too_many_reads',
      );
      assert.match(String(error['message']), /the limit is 48/);
    }
    const list = await admin(t, 'GET', url('/segments'));
    assert.deepEqual(
      list.json<{ items: { slug: string }[] }>().items.map((s) => s.slug),
      ['buyers', 'pro'],
    );
  });

  it('redefines a segment: backfilled again, entries and exits in the history', async () => {
    clock.set(NOW + 1000);
    const res = await admin(t, 'PATCH', url('/segments/pro'), { definition: 'traits.lifetime_value >= 700' });
    assert.equal(res.statusCode, 200, res.body);
    await settle();
    assert.deepEqual(await members('pro'), ['p01', 'p08']);
    const history = await admin(t, 'GET', url('/profiles/p03/segment-history'));
    const items = history.json<{ items: { slug: string; change: string; at: string }[] }>().items;
    assert.deepEqual(
      items.filter((h) => h.slug === 'pro').map((h) => [h.change, h.at]),
      [
        ['exited', new Date(NOW + 1000).toISOString()],
        ['entered', new Date(NOW).toISOString()],
      ],
    );
    const sizes = await admin(t, 'GET', url('/segments/pro/size-history?interval=hour'));
    assert.deepEqual(sizes.json(), {
      items: [
        {
          at: new Date(Math.floor(NOW / 3_600_000) * 3_600_000).toISOString(),
          size: 2,
          entered: 3,
          exited: 1,
        },
      ],
    });
    const renamed = await admin(t, 'PATCH', url('/segments/pro'), { name: 'Big spenders' });
    assert.equal(renamed.json<{ status: string }>().status, 'ready', 'a rename does not backfill');
  });

  it('refuses a cycle through PATCH', async () => {
    const res = await admin(t, 'PATCH', url('/segments/pro'), { definition: 'in segment "buyers"' });
    const error = expectError(res, 400, 'segment.cycle');
    assert.match(String(error['message']), /pro → buyers → pro/);
  });

  it('refuses to delete a segment in use (409), deletes others (204)', async () => {
    expectError(await admin(t, 'DELETE', url('/segments/pro')), 409, 'segment.in_use');
    assert.equal((await admin(t, 'DELETE', url('/segments/buyers'))).statusCode, 204);
    expectError(await admin(t, 'GET', url('/segments/buyers')), 404, 'segment.not_found');
    assert.equal((await admin(t, 'DELETE', url('/segments/pro'))).statusCode, 204);
  });

  it('keeps hostile strings as data', async () => {
    await create('hostile', 'traits.plan = "\'; DROP TABLE segments; --" or traits."${x}" = "__proto__"');
    assert.equal((await get('hostile')).size, 0);
  });

  it('computed traits: create, compute for every profile, read in segments', async () => {
    const res = await admin(t, 'POST', url('/computed-traits'), {
      name: 'eur_orders_30d',
      definition: {
        kind: 'event_count',
        event: 'Order Completed',
        where: 'properties.currency = "EUR"',
        window: { days: 30 },
      },
    });
    assert.equal(res.statusCode, 201, res.body);
    await settle();
    const trait = await admin(t, 'GET', url('/computed-traits/eur_orders_30d'));
    assert.equal(trait.json<{ status: string }>().status, 'ready', trait.body);
    await create('eur_buyers', 'computed.eur_orders_30d >= 2');
    assert.deepEqual(await members('eur_buyers'), ['p01', 'p03']);
    // A count is a number: comparing it with text or a date could never match, so it is refused
    // with where and why, on saving and on preview alike.
    for (const [path, definition] of [
      ['/segments', { name: 'Typo', slug: 'typo', definition: 'computed.eur_orders_30d = "2"' }],
      ['/segments/preview', { definition: 'computed.eur_orders_30d > 2026-01-01' }],
    ] as const) {
      const error = expectError(await admin(t, 'POST', url(path), definition), 400, 'segment.type_mismatch');
      assert.match(String(error['message']), /computed\.eur_orders_30d is a number/);
      assert.equal(error['line'], 1);
    }
    expectError(
      await admin(t, 'DELETE', url('/computed-traits/eur_orders_30d')),
      409,
      'computed_trait.in_use',
    );
    // A kind whose values the segment's comparison never matches is refused, naming the
    // segment, and the trait stays as it was.
    const breaking = await admin(t, 'PATCH', url('/computed-traits/eur_orders_30d'), {
      definition: { kind: 'distinct_values', event: 'Order Completed', property: 'properties.currency' },
    });
    const conflict = expectError(breaking, 409, 'computed_trait.in_use');
    assert.match(String(conflict['message']), /"eur_buyers" compare computed\.eur_orders_30d/);
    const unchanged = await admin(t, 'GET', url('/computed-traits/eur_orders_30d'));
    assert.equal(unchanged.json<{ definition: { kind: string } }>().definition.kind, 'event_count');
    const redefined = await admin(t, 'PATCH', url('/computed-traits/eur_orders_30d'), {
      definition: { kind: 'event_count', event: 'Order Completed' },
    });
    assert.equal(redefined.statusCode, 200, redefined.body);
    const list = await admin(t, 'GET', url('/computed-traits'));
    assert.deepEqual(
      list.json<{ items: { name: string }[] }>().items.map((c) => c.name),
      ['eur_orders_30d'],
    );
  });

  it('computed traits: every problem of a bad definition, 409 on a taken name, 404', async () => {
    const res = await admin(t, 'POST', url('/computed-traits'), {
      name: '9 lives',
      definition: { kind: 'sum', event: 'X', where: 'properties.a = ', window: { days: 0 } },
    });
    const error = expectError(res, 400, 'computed_trait.invalid_definition');
    const fields = (error['problems'] as { field: string }[]).map((p) => p.field);
    assert.deepEqual(fields, ['name', 'where', 'property', 'window']);
    expectError(
      await admin(t, 'POST', url('/computed-traits'), {
        name: 'eur_orders_30d',
        definition: { kind: 'event_count', event: 'X' },
      }),
      409,
      'computed_trait.name_taken',
    );
    expectError(await admin(t, 'GET', url('/computed-traits/nope')), 404, 'computed_trait.not_found');
  });
});
