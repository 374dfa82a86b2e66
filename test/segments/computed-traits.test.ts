import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { computeTraitValue, nextValueChangeAt } from '../../src/computed-traits/compute-trait.ts';
import {
  checkComputedTraitDefinition,
  checkComputedTraitName,
  type CompiledComputedTrait,
} from '../../src/computed-traits/computed-trait-definition.ts';
import type { JsonObject, SnapshotEvent } from '../../src/segments/profile-snapshot.ts';

const DAY = 86_400_000;
const NOW = Date.parse('2026-03-15T12:00:00Z');

function compile(definition: unknown): CompiledComputedTrait {
  const checked = checkComputedTraitDefinition(definition);
  if (!checked.ok) throw new Error(JSON.stringify(checked.problems));
  return checked.compiled;
}

const order = (atMs: number, properties: JsonObject, seq = 0): SnapshotEvent => ({
  type: 'track',
  event: 'Order Completed',
  timestampMs: atMs,
  seq,
  properties,
});

const EVENTS: readonly SnapshotEvent[] = [
  order(NOW - 100 * DAY, { revenue: 40, currency: 'USD', category: 'hats' }, 1),
  order(NOW - 20 * DAY, { revenue: 100, currency: 'EUR', category: 'shoes' }, 2),
  order(NOW - 5 * DAY, { revenue: '70', currency: 'EUR', category: 'shoes' }, 3),
  order(NOW - DAY, { revenue: 10, currency: 'EUR', category: 'bags', coupon: null }, 4),
  { type: 'track', event: 'Product Viewed', timestampMs: NOW - DAY, properties: { revenue: 999 } },
  { type: 'page', event: 'Order Completed', timestampMs: NOW - DAY, properties: { revenue: 999 } },
];

describe('computed trait values', () => {
  const cases: { definition: object; expected: unknown }[] = [
    { definition: { kind: 'event_count', event: 'Order Completed' }, expected: 4 },
    { definition: { kind: 'event_count', event: 'Order Completed', window: { days: 30 } }, expected: 3 },
    {
      definition: { kind: 'event_count', event: 'Order Completed', where: 'properties.currency = "EUR"' },
      expected: 3,
    },
    { definition: { kind: 'event_count', event: 'Nothing' }, expected: 0 },
    // Only JSON numbers add up: the string "70" is not a number.
    { definition: { kind: 'sum', event: 'Order Completed', property: 'properties.revenue' }, expected: 150 },
    { definition: { kind: 'sum', event: 'Nothing', property: 'properties.revenue' }, expected: 0 },
    {
      definition: { kind: 'average', event: 'Order Completed', property: 'properties.revenue' },
      expected: 50,
    },
    {
      definition: { kind: 'average', event: 'Nothing', property: 'properties.revenue' },
      expected: undefined,
    },
    {
      definition: {
        kind: 'min',
        event: 'Order Completed',
        property: 'properties.revenue',
        window: { days: 30 },
      },
      expected: 10,
    },
    { definition: { kind: 'max', event: 'Order Completed', property: 'properties.revenue' }, expected: 100 },
    {
      definition: { kind: 'first_value', event: 'Order Completed', property: 'properties.category' },
      expected: 'hats',
    },
    {
      definition: { kind: 'last_value', event: 'Order Completed', property: 'properties.revenue' },
      expected: 10,
    },
    // null is no value: the last order with a coupon has none.
    {
      definition: { kind: 'last_value', event: 'Order Completed', property: 'properties.coupon' },
      expected: undefined,
    },
    {
      definition: { kind: 'first_time', event: 'Order Completed', window: { days: 30 } },
      expected: new Date(NOW - 20 * DAY).toISOString(),
    },
    {
      definition: { kind: 'last_time', event: 'Order Completed' },
      expected: new Date(NOW - DAY).toISOString(),
    },
    {
      definition: { kind: 'most_frequent', event: 'Order Completed', property: 'properties.category' },
      expected: 'shoes',
    },
    // A tie goes to the most recent value.
    {
      definition: {
        kind: 'most_frequent',
        event: 'Order Completed',
        property: 'properties.currency',
        window: { days: 6 },
      },
      expected: 'EUR',
    },
    {
      definition: {
        kind: 'most_frequent',
        event: 'Order Completed',
        property: 'properties.category',
        window: { days: 6 },
      },
      expected: 'bags',
    },
    {
      definition: { kind: 'distinct_values', event: 'Order Completed', property: 'properties.category' },
      expected: ['hats', 'shoes', 'bags'],
    },
    // "70" and 70 would be different values; 100, "70", 10 and 40 are four.
    {
      definition: { kind: 'distinct_count', event: 'Order Completed', property: 'properties.revenue' },
      expected: 4,
    },
    { definition: { kind: 'days_since', event: 'Order Completed' }, expected: 1 },
    {
      definition: { kind: 'days_since', event: 'Order Completed', where: 'properties.currency = "USD"' },
      expected: 100,
    },
    { definition: { kind: 'days_since', event: 'Nothing' }, expected: undefined },
  ];
  for (const c of cases) {
    it(JSON.stringify(c.definition), () => {
      assert.deepEqual(computeTraitValue(compile(c.definition), EVENTS, NOW), c.expected);
    });
  }

  it('does not depend on the order events come in', () => {
    const trait = compile({ kind: 'first_value', event: 'Order Completed', property: 'properties.category' });
    assert.equal(computeTraitValue(trait, [...EVENTS].reverse(), NOW), 'hats');
  });

  it('reads own keys only', () => {
    const trait = compile({
      kind: 'last_value',
      event: 'Order Completed',
      property: 'properties.constructor',
    });
    assert.equal(computeTraitValue(trait, [order(NOW, {})], NOW), undefined);
    const own = compile({ kind: 'last_value', event: 'Order Completed', property: 'properties.__proto__' });
    assert.equal(computeTraitValue(own, [order(NOW, JSON.parse('{"__proto__":"x"}'))], NOW), 'x');
  });
});

describe('computed trait next change', () => {
  it('is the moment the oldest event that matters leaves the window', () => {
    const trait = compile({ kind: 'event_count', event: 'Order Completed', window: { days: 30 } });
    assert.equal(nextValueChangeAt(trait, EVENTS, NOW), NOW - 20 * DAY + 30 * DAY + 1);
  });

  it('skips expiries that leave the value as it is', () => {
    // max over 30 days is 100 until the 100 leaves; the 70 string never counted.
    const trait = compile({
      kind: 'max',
      event: 'Order Completed',
      property: 'properties.revenue',
      window: { days: 30 },
    });
    const next = nextValueChangeAt(trait, EVENTS, NOW);
    assert.equal(next, NOW + 10 * DAY + 1);
    assert.equal(computeTraitValue(trait, EVENTS, next - 1), 100);
    assert.equal(computeTraitValue(trait, EVENTS, next), 10);
  });

  it('counts whole days for days_since', () => {
    const trait = compile({ kind: 'days_since', event: 'Order Completed' });
    assert.equal(nextValueChangeAt(trait, EVENTS, NOW), NOW + DAY);
    assert.equal(computeTraitValue(trait, EVENTS, NOW + DAY), 2);
  });

  it('is null without a window or time dependence', () => {
    assert.equal(
      nextValueChangeAt(compile({ kind: 'event_count', event: 'Order Completed' }), EVENTS, NOW),
      null,
    );
  });
});

describe('computed trait definitions', () => {
  const bad: { definition: unknown; field: string; message: RegExp }[] = [
    { definition: null, field: 'definition', message: /JSON object/ },
    { definition: { kind: 'median', event: 'X' }, field: 'kind', message: /kind is one of/ },
    { definition: { kind: 'event_count' }, field: 'event', message: /event/ },
    { definition: { kind: 'sum', event: 'X' }, field: 'property', message: /needs a property/ },
    {
      definition: { kind: 'event_count', event: 'X', property: 'properties.a' },
      field: 'property',
      message: /takes no property/,
    },
    {
      definition: { kind: 'sum', event: 'X', property: 'traits.a' },
      field: 'property',
      message: /unknown root "traits"/,
    },
    {
      definition: { kind: 'sum', event: 'X', property: 'properties.a and properties.b' },
      field: 'property',
      message: /one path/,
    },
    {
      definition: { kind: 'event_count', event: 'X', where: 'properties.a = ' },
      field: 'where',
      message: /line 1, column 16: expected a value/,
    },
    {
      definition: { kind: 'event_count', event: 'X', where: 'did "Y"' },
      field: 'where',
      message: /not allowed/,
    },
    {
      definition: { kind: 'event_count', event: 'X', window: { days: 0 } },
      field: 'window',
      message: /whole number/,
    },
    {
      definition: { kind: 'event_count', event: 'X', window: { days: 100000 } },
      field: 'window',
      message: /whole number/,
    },
    {
      definition: { kind: 'event_count', event: 'X', window: { hours: 2 } },
      field: 'window',
      message: /whole number/,
    },
    { definition: { kind: 'event_count', event: 'X', extra: 1 }, field: 'extra', message: /unknown field/ },
  ];
  for (const c of bad) {
    it(`refuses ${JSON.stringify(c.definition)}`, () => {
      const checked = checkComputedTraitDefinition(c.definition);
      assert.equal(checked.ok, false);
      const problem = checked.ok ? undefined : checked.problems.find((p) => p.field === c.field);
      assert.ok(problem, JSON.stringify(checked));
      assert.match(problem.message, c.message);
    });
  }

  it('gives where problems a line and column', () => {
    const checked = checkComputedTraitDefinition({
      kind: 'event_count',
      event: 'X',
      where: 'properties.a =\n  and',
    });
    assert.equal(checked.ok, false);
    if (!checked.ok) assert.deepEqual([checked.problems[0]?.line, checked.problems[0]?.column], [2, 3]);
  });

  it('checks names', () => {
    assert.deepEqual(checkComputedTraitName('orders_90d'), []);
    for (const name of ['', '9lives', 'a-b', 'a.b', 'x'.repeat(65), 42, '__proto__'])
      assert.equal(checkComputedTraitName(name).length, 1);
  });
});
