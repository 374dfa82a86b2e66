import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseSegmentDefinition, type Expression } from '../../src/segment-language/index.ts';
import { evaluateSegment } from '../../src/segments/evaluate-segment.ts';
import { nextChangeAt } from '../../src/segments/next-change.ts';
import { emptySnapshot, type ProfileSnapshot } from '../../src/segments/profile-snapshot.ts';

const DAY = 86_400_000;
const NOW = Date.parse('2026-03-15T12:00:00Z');

function parse(text: string): Expression {
  const parsed = parseSegmentDefinition(text);
  if (!parsed.ok) throw new Error(parsed.error.message);
  return parsed.ast;
}

const withEvents = (times: readonly number[], extra: Partial<ProfileSnapshot> = {}): ProfileSnapshot => ({
  ...emptySnapshot(),
  events: times.map((timestampMs) => ({ type: 'track', event: 'X', timestampMs })),
  ...extra,
});

describe('nextChangeAt', () => {
  const cases: { definition: string; times: number[]; expected: number | null; traits?: object }[] = [
    // Leaves when the newest event is 7 days and 1 ms old.
    {
      definition: 'did "X" in last 7 days',
      times: [NOW - 2 * DAY, NOW - 5 * DAY],
      expected: NOW + 5 * DAY + 1,
    },
    {
      definition: 'did "X" at least 2 times in last 7 days',
      times: [NOW - 2 * DAY, NOW - 5 * DAY],
      expected: NOW + 2 * DAY + 1,
    },
    {
      definition: 'not did "X" in last 7 days',
      times: [NOW - 2 * DAY, NOW - 5 * DAY],
      expected: NOW + 5 * DAY + 1,
    },
    {
      definition: 'did "X" at most 1 time in last 7 days',
      times: [NOW - DAY, NOW - 2 * DAY, NOW - 3 * DAY],
      expected: NOW + 5 * DAY + 1,
    },
    {
      definition: 'did "X" exactly 1 time in last 1 day',
      times: [NOW - 1000, NOW - 2000],
      expected: NOW + DAY - 2000 + 1,
    },
    // An event exactly at the window's start leaves 1 ms from now.
    { definition: 'did "X" in last 7 days', times: [NOW - 7 * DAY], expected: NOW + 1 },
    // Events in the future stay in an `in last` window until they are old enough.
    { definition: 'did "X" in last 1 hour', times: [NOW + DAY], expected: NOW + DAY + 3_600_000 + 1 },
    // Ties leave together.
    {
      definition: 'did "X" at least 2 times in last 1 day',
      times: [NOW - 10, NOW - 10, NOW - 5],
      expected: NOW + DAY - 10 + 1,
    },
    { definition: 'did "X" in last 7 days', times: [], expected: null },
    { definition: 'did "X" at least 3 times in last 7 days', times: [NOW - DAY], expected: null },
    { definition: 'did "X" since 2026-01-01', times: [NOW - DAY], expected: null },
    { definition: 'did "X" between 2026-01-01 and 2026-12-31', times: [NOW - DAY], expected: null },
    { definition: 'traits.plan = "pro"', times: [NOW - DAY], expected: null },
    // The other operand decides: the expiry does not change the answer.
    { definition: 'traits.plan = "pro" and did "X" in last 7 days', times: [NOW - DAY], expected: null },
    {
      definition: 'traits.plan = "pro" or did "X" in last 7 days',
      times: [NOW - DAY],
      traits: { plan: 'pro' },
      expected: null,
    },
    {
      definition: 'traits.plan = "pro" or did "X" in last 7 days',
      times: [NOW - DAY],
      expected: NOW + 6 * DAY + 1,
    },
    // The earliest flip of several windows that changes the answer.
    {
      definition: 'did "X" in last 2 days and not did "X" in last 1 day',
      times: [NOW - 1.5 * DAY],
      expected: NOW + 0.5 * DAY + 1,
    },
  ];
  for (const c of cases) {
    it(`${c.definition} (${c.times.length} events)`, () => {
      const snapshot = withEvents(c.times, { traits: (c.traits ?? {}) as ProfileSnapshot['traits'] });
      const ast = parse(c.definition);
      const next = nextChangeAt(ast, snapshot, NOW);
      assert.equal(next, c.expected);
      if (next !== null) {
        const before = evaluateSegment(ast, snapshot, NOW);
        assert.equal(evaluateSegment(ast, snapshot, next - 1), before, 'unchanged until then');
        assert.notEqual(evaluateSegment(ast, snapshot, next), before, 'changed at that instant');
      }
    });
  }

  it('is exact: nothing changes before it, the answer changes at it (property)', () => {
    const templates = [
      'did "X" in last 3 days',
      'did "X" at least 2 times in last 3 days',
      'did "X" at most 1 time in last 2 days',
      'did "X" exactly 2 times in last 36 hours',
      'did "X" in last 1 day and not did "X" at least 3 times in last 3 days',
      'not did "X" in last 12 hours or did "X" exactly 1 time in last 2 days',
    ].map(parse);
    fc.assert(
      fc.property(
        fc.constantFrom(...templates),
        fc.array(fc.integer({ min: -5 * DAY, max: DAY }), { maxLength: 8 }),
        (ast, offsets) => {
          const snapshot = withEvents(offsets.map((offset) => NOW + offset));
          const now = evaluateSegment(ast, snapshot, NOW);
          const next = nextChangeAt(ast, snapshot, NOW);
          // Every instant where anything could change: each event's expiry for any window used.
          const probes = offsets.flatMap((offset) =>
            [DAY / 2, DAY, 1.5 * DAY, 2 * DAY, 3 * DAY].map((span) => NOW + offset + span + 1),
          );
          for (const probe of probes.filter((t) => t > NOW)) {
            if (next === null || probe < next) assert.equal(evaluateSegment(ast, snapshot, probe), now);
          }
          if (next !== null) {
            assert.ok(next > NOW);
            assert.equal(evaluateSegment(ast, snapshot, next - 1), now);
            assert.notEqual(evaluateSegment(ast, snapshot, next), now);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
