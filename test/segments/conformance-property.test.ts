import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import fc from 'fast-check';
import type { Kysely } from 'kysely';
import {
  createAnd,
  createBetweenWindow,
  createCompare,
  createCount,
  createDateLiteral,
  createDid,
  createExists,
  createIn,
  createLastWindow,
  createNot,
  createOr,
  createPath,
  createSinceWindow,
  createStringLiteral,
  createNumberLiteral,
  createBooleanLiteral,
  createNullLiteral,
  type CompareOperator,
  type Expression,
  type Literal,
  type PathNode,
} from '../../src/segment-language/index.ts';
import { evaluateSegment } from '../../src/segments/evaluate-segment.ts';
import type { JsonObject, JsonValue } from '../../src/segments/profile-snapshot.ts';
import type { Database } from '../../src/storage/database-schema.ts';
import type { Store } from '../../src/storage/store.ts';
import { describeEachStore } from '../support/stores.ts';
import { DAY, NOW } from './conformance.cases.ts';
import { openRawDatabase, seedProfiles, snapshotOf, type ProfileFixture } from './profile-fixtures.ts';

/**
 * Generated populations and definitions: whatever values of whatever types profiles hold and
 * whatever conditions are written, the evaluator and the compiled SQL find the same members.
 */
const VALUES: readonly JsonValue[] = [
  0,
  1,
  -2.5,
  42,
  0.1,
  0.30000000000000004,
  1e21,
  '',
  'a',
  'A',
  'pro',
  '42',
  'true',
  'é🎉',
  "'; DROP TABLE profiles; --",
  'a%b_c\\d"e',
  '2026-01-01',
  '2026-01-01T10:00:00Z',
  '2026-01-01T11:00:00+01:00',
  '2026-02-30',
  true,
  false,
  null,
  [],
  ['a', 'pro'],
  [1, 'a'],
  { a: 'pro' },
  { b: 1 },
];
const KEYS = ['a', 'b', '__proto__', 'constructor'];
const LITERALS: readonly Literal[] = [
  createNumberLiteral(0),
  createNumberLiteral(1),
  createNumberLiteral(42),
  createNumberLiteral(0.30000000000000004),
  createNumberLiteral(1e21),
  createStringLiteral(''),
  createStringLiteral('a'),
  createStringLiteral('pro'),
  createStringLiteral('42'),
  createStringLiteral('%'),
  createStringLiteral("'; DROP"),
  createBooleanLiteral(true),
  createBooleanLiteral(false),
  createNullLiteral(),
  createDateLiteral('2026-01-01'),
  createDateLiteral('2026-01-01T10:00:00Z'),
];
const OPS: readonly CompareOperator[] = ['=', '!=', '>', '>=', '<', '<=', 'contains', 'starts_with'];
const EVENTS = ['Viewed', 'Bought'];

const value = fc.constantFrom(...VALUES);
const object: fc.Arbitrary<JsonObject> = fc
  .array(
    fc.tuple(fc.constantFrom(...KEYS), fc.oneof(value, fc.dictionary(fc.constantFrom('a', 'b'), value))),
    {
      maxLength: 3,
    },
  )
  .map((entries) => {
    const out: Record<string, JsonValue> = {};
    // defineProperty: `__proto__` stays an own key, as JSON.parse makes it.
    for (const [key, v] of entries)
      Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
    return out;
  });

const profile = (id: string): fc.Arbitrary<ProfileFixture> =>
  fc
    .record({
      traits: object,
      events: fc.array(
        fc.record({
          event: fc.constantFrom(...EVENTS),
          atMs: fc.integer({ min: -40, max: 2 }).map((days) => NOW + days * DAY),
          properties: object,
        }),
        { maxLength: 4 },
      ),
    })
    .map((p) => ({ id, ...p }));

const path = (root: string): fc.Arbitrary<PathNode> =>
  fc.array(fc.constantFrom(...KEYS), { minLength: 1, maxLength: 2 }).map((keys) => createPath(root, keys));

const condition = (root: string): fc.Arbitrary<Expression> =>
  fc.oneof(
    fc
      .tuple(path(root), fc.constantFrom(...OPS), fc.constantFrom(...LITERALS))
      .map(([p, op, l]) => createCompare(p, op, l)),
    fc
      .tuple(path(root), fc.constantFrom(...LITERALS), fc.constantFrom(...LITERALS))
      .map(([p, a, b]) => createIn(p, [a, b])),
    path(root).map(createExists),
  );

const did: fc.Arbitrary<Expression> = fc
  .record({
    event: fc.constantFrom(...EVENTS),
    where: fc.option(condition('properties'), { nil: null }),
    count: fc.tuple(
      fc.constantFrom('at_least' as const, 'at_most' as const, 'exactly' as const),
      fc.integer({ min: 0, max: 2 }),
    ),
    window: fc.oneof(
      fc.constant(undefined),
      fc.integer({ min: 1, max: 30 }).map((n) => createLastWindow(n, 'day')),
      fc.constant(createSinceWindow(createDateLiteral('2026-03-01'))),
      fc.constant(
        createBetweenWindow(createDateLiteral('2026-02-10'), createDateLiteral('2026-03-14T12:00:00Z')),
      ),
    ),
  })
  .map(({ event, where, count, window }) =>
    createDid(event, { where, count: createCount(count[0], count[1]), ...(window ? { window } : {}) }),
  );

const definition: fc.Arbitrary<Expression> = fc.letrec<{ expr: Expression }>((tie) => ({
  expr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    condition('traits'),
    did,
    fc.tuple(tie('expr'), tie('expr')).map(([a, b]) => createAnd([a, b])),
    fc.tuple(tie('expr'), tie('expr')).map(([a, b]) => createOr([a, b])),
    tie('expr').map(createNot),
  ),
})).expr;

describeEachStore('segment conformance: generated cases', (fixture) => {
  let store: Store;
  let raw: Kysely<Database>;
  before(async () => {
    const handle = await fixture.fresh();
    store = handle.store;
    raw = openRawDatabase(handle);
  });
  after(async () => {
    await raw.destroy();
  });

  it('the evaluator and the compiled SQL agree', { timeout: 300_000 }, async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.tuple(profile('x1'), profile('x2'), profile('x3'), profile('x4')),
        fc.array(definition, { minLength: 5, maxLength: 5 }),
        async (profiles, definitions) => {
          const workspaceId = `ws_gen_${run++}`;
          await seedProfiles(raw, workspaceId, profiles);
          for (const ast of definitions) {
            const expected = profiles
              .filter((p) => evaluateSegment(ast, snapshotOf(p, profiles, new Set()), NOW))
              .map((p) => p.id);
            const actual = await store.segments.matchingIds(workspaceId, ast, {
              nowMs: NOW,
              references: { kind: 'membership', segmentIds: new Map() },
            });
            assert.deepEqual(actual, expected, JSON.stringify(ast));
          }
        },
      ),
      { numRuns: fixture.kind === 'sqlite' ? 150 : 60 },
    );
  });
});
