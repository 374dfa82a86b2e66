import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  createCompare,
  createCount,
  createDid,
  createInSegment,
  createLastWindow,
  createPath,
  hasErrors,
  parseEventFilter,
  parseSegmentDefinition,
  validateDefinition,
  validateEventFilter,
  type ValidationContext,
  type ValidationProblem,
} from '../../src/segment-language/index.ts';
import { num, str } from './builders.ts';

interface Case {
  readonly text: string;
  /** `code@line:column` for each problem, in order; [] for a valid definition. */
  readonly problems: readonly string[];
  readonly context?: ValidationContext;
  readonly filter?: boolean;
}

const cases: readonly Case[] = [
  // Valid definitions.
  { text: 'traits.plan = "pro" and traits.ltv >= 500 and traits.signup > 2026-01-01', problems: [] },
  { text: 'did "A" at least 2 times in last 3660 days', problems: [] },
  {
    text: 'did "A" in last 120 months or did "B" in last 522 weeks or did "C" in last 87840 hours',
    problems: [],
  },
  { text: 'did "A" between 2026-01-01 and 2026-01-01', problems: [] },
  { text: 'did "A" exactly 0 times and did "B" at most 0 times', problems: [] },
  {
    text: 'traits.tags contains "vip" and traits.name starts_with "A" and traits.x in ("a", null)',
    problems: [],
  },
  { text: 'consent.marketing = true and consent.ads != false and consent.sms exists', problems: [] },
  { text: 'group.plan = "enterprise" and computed.orders_90d > 3 and traits.x = null', problems: [] },
  // Roots and paths.
  { text: 'foo.bar = 1', problems: ['segment.unknown_root@1:1'] },
  { text: 'traits.a = 1 and properties.x = 1', problems: ['segment.unknown_root@1:18'] },
  { text: 'did "A" where (traits.plan = "pro")', problems: ['segment.unknown_root@1:16'] },
  { text: 'traits exists', problems: ['segment.invalid_path@1:1'] },
  { text: 'consent.marketing.email = true', problems: ['segment.invalid_path@1:1'] },
  { text: 'traits."" exists', problems: ['segment.invalid_path@1:1'] },
  { text: 'traits.a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q exists', problems: ['segment.invalid_path@1:1'] },
  { text: 'event.name = "x"', filter: true, problems: ['segment.invalid_path@1:1'] },
  {
    text: 'computed.x > 1',
    context: { knownComputed: new Set(['y']) },
    problems: ['segment.unknown_computed@1:1'],
  },
  {
    text: 'consent.ads = true',
    context: { knownConsentCategories: new Set(['marketing']) },
    problems: ['segment.unknown_consent_category@1:1'],
  },
  // Types.
  { text: 'traits.x > "abc"', problems: ['segment.type_mismatch@1:12'] },
  { text: 'traits.x <= true', problems: ['segment.type_mismatch@1:13'] },
  { text: 'traits.x >= null', problems: ['segment.type_mismatch@1:13'] },
  { text: 'traits.x contains 3', problems: ['segment.type_mismatch@1:19'] },
  { text: 'traits.x starts_with 2026-01-01', problems: ['segment.type_mismatch@1:22'] },
  { text: 'traits.x in ("a", 1)', problems: ['segment.type_mismatch@1:1'] },
  { text: 'traits.x in (2026-01-01, "2026-01-02")', problems: ['segment.type_mismatch@1:1'] },
  { text: 'consent.marketing = "yes"', problems: ['segment.type_mismatch@1:21'] },
  { text: 'consent.marketing in ("yes")', problems: ['segment.type_mismatch@1:1'] },
  // Computed traits of a known value type (from their kind) compare only with what they can hold.
  ...computedTypeCases(),
  // Counts.
  { text: 'did "A" at least 2.5 times', problems: ['segment.invalid_count@1:9'] },
  { text: 'did "A" exactly -1 times', problems: ['segment.invalid_count@1:9'] },
  { text: 'did "A" at most 1000001 times', problems: ['segment.invalid_count@1:9'] },
  { text: 'did "A" at least 0 times', problems: ['segment.trivial_count@1:9'] },
  // Windows.
  { text: 'did "A" in last 0 days', problems: ['segment.invalid_window@1:9'] },
  { text: 'did "A" in last 1.5 days', problems: ['segment.invalid_window@1:9'] },
  { text: 'did "A" in last -3 days', problems: ['segment.invalid_window@1:9'] },
  { text: 'did "A" in last 3661 days', problems: ['segment.invalid_window@1:9'] },
  { text: 'did "A" in last 123 months', problems: ['segment.invalid_window@1:9'] },
  { text: 'did "A" in last 100000 weeks', problems: ['segment.invalid_window@1:9'] },
  { text: 'did "A" between 2026-02-01 and 2026-01-01', problems: ['segment.invalid_window@1:9'] },
  {
    text: 'did "A" between 2026-01-01T10:00:00Z and 2026-01-01T11:00:00+02:00',
    problems: ['segment.invalid_window@1:9'],
  },
  // Names and references.
  { text: 'did ""', problems: ['segment.empty_name@1:1'] },
  { text: 'in segment ""', problems: ['segment.empty_name@1:1'] },
  { text: 'in segment "vip"', context: { knownSegments: new Set(['vip']) }, problems: [] },
  {
    text: 'in segment "gold"',
    context: { knownSegments: new Set(['vip']) },
    problems: ['segment.unknown_segment@1:1'],
  },
  { text: 'not in segment "me"', context: { selfSlug: 'me' }, problems: ['segment.cycle@1:5'] },
  // Event filters.
  {
    text: 'type = "track" and event in ("A") and properties.x > 1 and context.ip exists and userId exists',
    filter: true,
    problems: [],
  },
  { text: 'computed.x > 1 or anonymousId exists', filter: true, problems: ['segment.unknown_root@1:1'] },
  // Several problems are all reported, in source order.
  {
    text: 'foo.x = 1 and traits.y > "a" and did "B" in last 0 days',
    problems: ['segment.unknown_root@1:1', 'segment.type_mismatch@1:26', 'segment.invalid_window@1:42'],
  },
];

function summary(problems: readonly ValidationProblem[]): string[] {
  return problems.map((problem) => `${problem.code}@${problem.line}:${problem.column}`);
}

void describe('validateDefinition', () => {
  for (const { text, problems, context = {}, filter = false } of cases) {
    void it(text, () => {
      const result = filter ? parseEventFilter(text) : parseSegmentDefinition(text);
      if (!result.ok) assert.fail(result.error.message);
      const validate = filter ? validateEventFilter : validateDefinition;
      const found = validate(result.ast, { ...context, spans: result.spans });
      assert.deepStrictEqual(summary(found), problems, found.map((problem) => problem.message).join('\n'));
      for (const problem of found)
        assert.ok(problem.message.startsWith(`line ${problem.line}, column ${problem.column}: `));
    });
  }

  void it('words messages so that users can act on them', () => {
    const message = (text: string): string => {
      const result = parseSegmentDefinition(text);
      assert.ok(result.ok);
      return validateDefinition(result.ast, { spans: result.spans })[0]?.message ?? '';
    };
    assert.equal(
      message('traits.x > "abc"'),
      'line 1, column 12: ">" compares numbers or dates, not the string "abc"',
    );
    assert.equal(
      message('Traits.plan = "pro"'),
      'line 1, column 1: unknown root "Traits": a segment definition reads traits, group, computed, consent; did you mean traits?',
    );
    assert.equal(
      message('properties.x = 1'),
      'line 1, column 1: unknown root "properties": a segment definition reads traits, group, computed, consent; properties is available in an event filter',
    );
    assert.equal(
      message('did "A" in last 200 months'),
      'line 1, column 9: a window can reach back at most 3660 days, but this one is 6000 days (a month counts as 30 days)',
    );
  });

  void it('reports no position for hand-built trees', () => {
    const problems = validateDefinition(createCompare(createPath('nope', ['x']), '=', num(1)));
    assert.deepStrictEqual(
      problems.map(({ code, line, column }) => [code, line, column]),
      [['segment.unknown_root', null, null]],
    );
    assert.equal(problems[0]?.message.startsWith('unknown root "nope"'), true);
  });

  void it('refuses did and in segment in hand-built event filters and where clauses', () => {
    const nested = createDid('A', { where: createDid('B') });
    assert.deepStrictEqual(summary(validateDefinition(nested)), ['segment.not_allowed@null:null']);
    const filter = createInSegment('vip');
    assert.deepStrictEqual(summary(validateEventFilter(filter)), ['segment.not_allowed@null:null']);
  });

  void it('checks counts and windows of hand-built trees', () => {
    const did = createDid('A', {
      count: createCount('at_least', Number.MAX_SAFE_INTEGER),
      window: createLastWindow(0.5, 'hour'),
    });
    assert.deepStrictEqual(summary(validateDefinition(did)).sort(), [
      'segment.invalid_count@null:null',
      'segment.invalid_window@null:null',
    ]);
  });

  void it('separates errors from warnings', () => {
    const warningOnly = validateDefinition(createDid('A', { count: createCount('at_least', 0) }));
    assert.equal(warningOnly[0]?.severity, 'warning');
    assert.equal(hasErrors(warningOnly), false);
    assert.equal(hasErrors(validateDefinition(createCompare(createPath('x'), '=', str('y')))), true);
  });
});

function computedTypeCases(): Case[] {
  const computedTypes = new Map([
    ['orders', 'number'],
    ['last_order_at', 'date'],
    ['categories', 'list'],
    ['last_plan', 'any'],
  ] as const);
  const context = { computedTypes };
  const ok = (text: string): Case => ({ text, context, problems: [] });
  const bad = (text: string, at: string): Case => ({
    text,
    context,
    problems: [`segment.type_mismatch@${at}`],
  });
  return [
    ok('computed.orders > 2'),
    ok('computed.orders = 0'),
    ok('computed.orders in (1, 2, null)'),
    ok('computed.orders = null'),
    ok('computed.orders exists'),
    bad('computed.orders = "3"', '1:19'),
    bad('computed.orders != true', '1:20'),
    bad('computed.orders > 2026-01-01', '1:19'),
    bad('computed.orders in (1, "2")', '1:1'),
    bad('computed.orders in ("1", "2")', '1:1'),
    ok('computed.last_order_at > 2026-01-01'),
    ok('computed.last_order_at < 2026-02-01T00:00:00Z'),
    ok('computed.last_order_at starts_with "2026-01"'),
    ok('computed.last_order_at in (2026-01-01T10:00:00Z, null)'),
    bad('computed.last_order_at > 5', '1:26'),
    bad('computed.last_order_at = false', '1:26'),
    bad('computed.last_order_at in (5)', '1:1'),
    ok('computed.categories contains "shoes"'),
    ok('computed.categories in (null)'),
    bad('computed.categories = "shoes"', '1:23'),
    bad('computed.categories starts_with "sh"', '1:33'),
    bad('computed.categories in ("shoes")', '1:1'),
    ok('computed.last_plan = "pro"'),
    ok('computed.last_plan > 3'),
    ok('computed.unknown_to_the_map = "x"'),
  ];
}
