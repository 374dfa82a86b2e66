import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  createAnd,
  createBetweenWindow,
  createCount,
  createDid,
  createInSegment,
  createLastWindow,
  createNot,
  createOr,
  createPath,
  createSinceWindow,
  createCompare,
  parseEventFilter,
  parseSegmentDefinition,
  type Expression,
} from '../../src/segment-language/index.ts';
import { bool, cmp, date, exists, num, str, within } from './builders.ts';

function parsed(text: string): Expression {
  const result = parseSegmentDefinition(text);
  if (!result.ok) assert.fail(`expected ${JSON.stringify(text)} to parse: ${result.error.message}`);
  return result.ast;
}

void describe('parseSegmentDefinition: the contract examples', () => {
  const examples: readonly (readonly [string, Expression])[] = [
    ['traits.plan = "pro"', cmp('traits.plan', '=', str('pro'))],
    [
      'traits.lifetime_value >= 500 and traits.country in ("FR", "BE")',
      createAnd([
        cmp('traits.lifetime_value', '>=', num(500)),
        within('traits.country', str('FR'), str('BE')),
      ]),
    ],
    ['traits.email exists', exists('traits.email')],
    [
      'did "Order Completed" at least 2 times in last 30 days',
      createDid('Order Completed', {
        count: createCount('at_least', 2),
        window: createLastWindow(30, 'day'),
      }),
    ],
    [
      'did "Product Viewed" where (properties.category = "shoes") in last 7 days and not did "Order Completed" in last 7 days',
      createAnd([
        createDid('Product Viewed', {
          where: cmp('properties.category', '=', str('shoes')),
          window: createLastWindow(7, 'day'),
        }),
        createNot(createDid('Order Completed', { window: createLastWindow(7, 'day') })),
      ]),
    ],
    [
      'did "Order Completed" where (properties.revenue > 100 and properties.currency = "EUR") at most 1 time since 2026-01-01',
      createDid('Order Completed', {
        where: createAnd([
          cmp('properties.revenue', '>', num(100)),
          cmp('properties.currency', '=', str('EUR')),
        ]),
        count: createCount('at_most', 1),
        window: createSinceWindow(date('2026-01-01')),
      }),
    ],
    ['computed.orders_90d > 3', cmp('computed.orders_90d', '>', num(3))],
    ['in segment "vip"', createInSegment('vip')],
    ['consent.marketing = true', cmp('consent.marketing', '=', bool(true))],
  ];
  for (const [text, expected] of examples) {
    void it(text, () => assert.deepStrictEqual(parsed(text), expected));
  }
});

void describe('parseSegmentDefinition: forms and defaults', () => {
  void it('gives did without count and window explicit defaults', () => {
    const did = parsed('did "Signed Up"');
    assert.deepStrictEqual(did, createDid('Signed Up'));
    assert.deepStrictEqual(did, {
      kind: 'did',
      event: 'Signed Up',
      where: null,
      count: { kind: 'count', op: 'at_least', n: 1 },
      window: { kind: 'all_time' },
    });
  });

  void it('reads every operator', () => {
    for (const op of ['=', '!=', '>', '>=', '<', '<='] as const) {
      assert.deepStrictEqual(parsed(`traits.n ${op} 1`), cmp('traits.n', op, num(1)));
    }
    assert.deepStrictEqual(parsed('traits.name contains "an"'), cmp('traits.name', 'contains', str('an')));
    assert.deepStrictEqual(
      parsed('traits.name starts_with "An"'),
      cmp('traits.name', 'starts_with', str('An')),
    );
    assert.deepStrictEqual(parsed('traits.n>=1'), cmp('traits.n', '>=', num(1)));
  });

  void it('reads counts and windows in every unit, singular or plural', () => {
    assert.deepStrictEqual(
      parsed('did "A" exactly 0 times in last 1 minute'),
      createDid('A', { count: createCount('exactly', 0), window: createLastWindow(1, 'minute') }),
    );
    const units = [
      ['hours', 'hour'],
      ['day', 'day'],
      ['weeks', 'week'],
      ['month', 'month'],
    ] as const;
    for (const [word, unit] of units) {
      const did = parsed(`did "A" at least 3 time in last 2 ${word}`);
      assert.deepStrictEqual(
        did,
        createDid('A', { count: createCount('at_least', 3), window: createLastWindow(2, unit) }),
      );
    }
    assert.deepStrictEqual(
      parsed('did "A" between 2026-01-01 and 2026-01-31T23:59:59.999+01:00'),
      createDid('A', {
        window: createBetweenWindow(date('2026-01-01'), date('2026-01-31T23:59:59.999+01:00')),
      }),
    );
  });

  void it('gives not tighter binding than and, and and tighter than or', () => {
    const a = exists('traits.a');
    const b = exists('traits.b');
    const c = exists('traits.c');
    assert.deepStrictEqual(
      parsed('traits.a exists or traits.b exists and traits.c exists'),
      createOr([a, createAnd([b, c])]),
    );
    assert.deepStrictEqual(parsed('not traits.a exists and traits.b exists'), createAnd([createNot(a), b]));
    assert.deepStrictEqual(parsed('not (traits.a exists and traits.b exists)'), createNot(createAnd([a, b])));
    assert.deepStrictEqual(
      parsed('traits.a exists and traits.b exists and traits.c exists'),
      createAnd([a, b, c]),
    );
  });

  void it('keeps explicit grouping of same-kind operators', () => {
    const a = exists('traits.a');
    const b = exists('traits.b');
    const c = exists('traits.c');
    assert.deepStrictEqual(
      parsed('(traits.a exists and traits.b exists) and traits.c exists'),
      createAnd([createAnd([a, b]), c]),
    );
    assert.deepStrictEqual(parsed('((traits.a exists))'), a);
  });

  void it('reads keywords in any case but paths exactly as written', () => {
    const text =
      'DID "Order Completed" Where (properties.x = TRUE) AT Least 2 TIMES In LAST 30 Days AND NOT In Segment "vip" Or traits.Plan Exists';
    assert.deepStrictEqual(
      parsed(text),
      createOr([
        createAnd([
          createDid('Order Completed', {
            where: cmp('properties.x', '=', bool(true)),
            count: createCount('at_least', 2),
            window: createLastWindow(30, 'day'),
          }),
          createNot(createInSegment('vip')),
        ]),
        exists('traits.Plan'),
      ]),
    );
    assert.deepStrictEqual(
      parsed('Traits.plan = NULL'),
      createCompare(createPath('Traits', ['plan']), '=', { kind: 'null' }),
    );
  });

  void it('reads quoted keys, including keys that contain dots or keywords', () => {
    assert.deepStrictEqual(
      parsed('traits."first name" = "Ada" and traits.address."zip.code" exists and traits.and.or exists'),
      createAnd([
        createCompare(createPath('traits', ['first name']), '=', str('Ada')),
        { kind: 'exists', path: createPath('traits', ['address', 'zip.code']) },
        exists('traits.and.or'),
      ]),
    );
  });

  void it('decodes string escapes', () => {
    assert.deepStrictEqual(
      parsed(String.raw`traits.s = "q\" b\\ s\/ n\n t\t r\r b\b f\f u\u00e9\uD83D\uDE00"`),
      cmp('traits.s', '=', str('q" b\\ s/ n\n t\t r\r b\b f\f u\u00e9\u{1F600}')),
    );
    assert.deepStrictEqual(parsed('traits.s = "héllo 😀"'), cmp('traits.s', '=', str('héllo 😀')));
  });

  void it('reads numbers: integers, decimals, negatives, exponents', () => {
    const numbers: readonly (readonly [string, number])[] = [
      ['0', 0],
      ['-0', 0],
      ['42', 42],
      ['-17', -17],
      ['3.25', 3.25],
      ['-0.5', -0.5],
      ['1e3', 1000],
      ['2.5E-3', 0.0025],
      ['1e+21', 1e21],
    ];
    for (const [text, value] of numbers)
      assert.deepStrictEqual(parsed(`traits.n = ${text}`), cmp('traits.n', '=', num(value)));
  });

  void it('reads dates and timestamps with their instants', () => {
    const cases: readonly (readonly [string, number, boolean])[] = [
      ['2026-01-01', Date.UTC(2026, 0, 1), true],
      ['2024-02-29', Date.UTC(2024, 1, 29), true],
      ['2026-01-01T10:00:00Z', Date.UTC(2026, 0, 1, 10), false],
      ['2026-01-01T10:00:00+02:00', Date.UTC(2026, 0, 1, 8), false],
      ['2026-01-01T10:00:00.5-05:30', Date.UTC(2026, 0, 1, 15, 30, 0, 500), false],
    ];
    for (const [text, epochMs, dateOnly] of cases) {
      assert.deepStrictEqual(
        parsed(`traits.d > ${text}`),
        cmp('traits.d', '>', { kind: 'date', text, epochMs, dateOnly }),
      );
    }
  });

  void it('reads null and booleans, and lists of any literal', () => {
    assert.deepStrictEqual(
      parsed('traits.x in (1, 2.5, -3) or traits.y in (true) or traits.z != null'),
      createOr([
        within('traits.x', num(1), num(2.5), num(-3)),
        within('traits.y', bool(true)),
        cmp('traits.z', '!=', { kind: 'null' }),
      ]),
    );
  });

  void it('accepts any whitespace and line breaks between tokens', () => {
    assert.deepStrictEqual(
      parsed('\r\n\ttraits.plan\n=\r"pro"\n  and\ttraits.x exists  \n'),
      createAnd([cmp('traits.plan', '=', str('pro')), exists('traits.x')]),
    );
  });

  void it('records source spans for nodes', () => {
    const result = parseSegmentDefinition('traits.a = 1 and\n  did "X" in last 2 days');
    assert.ok(result.ok);
    const ast = result.ast;
    assert.ok(ast.kind === 'and');
    const did = ast.operands[1];
    assert.deepStrictEqual(result.spans.get(did), {
      start: { offset: 19, line: 2, column: 3 },
      end: { offset: 41, line: 2, column: 25 },
    });
    assert.deepStrictEqual(result.spans.get(ast)?.start, { offset: 0, line: 1, column: 1 });
  });
});

void describe('parseEventFilter', () => {
  void it('reads conditions on one event', () => {
    const result = parseEventFilter(
      'type = "track" and event in ("Order Completed", "Refund") and properties.total > 10',
    );
    assert.ok(result.ok);
    assert.deepStrictEqual(
      result.ast,
      createAnd([
        cmp('type', '=', str('track')),
        within('event', str('Order Completed'), str('Refund')),
        cmp('properties.total', '>', num(10)),
      ]),
    );
  });

  void it('gives the same tree as a segment definition for the same conditions', () => {
    const text = 'context.locale starts_with "fr" or not userId exists';
    const filter = parseEventFilter(text);
    const definition = parseSegmentDefinition(text);
    assert.ok(filter.ok && definition.ok);
    assert.deepStrictEqual(filter.ast, definition.ast);
  });
});
