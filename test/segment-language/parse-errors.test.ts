import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  parseEventFilter,
  parseSegmentDefinition,
  type ParseResult,
  type SegmentErrorCode,
} from '../../src/segment-language/index.ts';

interface ErrorCase {
  readonly text: string;
  readonly code?: SegmentErrorCode;
  readonly line: number;
  readonly column: number;
  readonly expected?: readonly string[];
  /** The whole message, when the wording itself is under test. */
  readonly message?: string;
  readonly parse?: (text: string) => ParseResult;
}

const START = ['not', '(', 'did', 'in segment', 'a path'];
const OPERATORS = ['=', '!=', '>', '>=', '<', '<=', 'in', 'contains', 'starts_with', 'exists'];
const AFTER_DID = [
  'where',
  'at least',
  'at most',
  'exactly',
  'in last',
  'since',
  'between',
  'and',
  'or',
  'end of input',
];

const cases: readonly ErrorCase[] = [
  {
    text: 'traits.plan = and',
    line: 1,
    column: 15,
    expected: ['a value'],
    message:
      'line 1, column 15: expected a value (string, number, date, true, false or null) but found "and"',
  },
  {
    text: 'traits.plan = pro',
    line: 1,
    column: 15,
    expected: ['a value'],
    message:
      'line 1, column 15: expected a value (string, number, date, true, false or null) but found "pro"; text is written in double quotes',
  },
  {
    text: '',
    line: 1,
    column: 1,
    expected: START,
    message:
      'line 1, column 1: expected "not", "(", "did", "in segment" or a path (such as traits.plan) but found end of input',
  },
  { text: 'traits.plan', line: 1, column: 12, expected: ['.', ...OPERATORS] },
  {
    text: 'traits.plan = "pro" traits.x exists',
    line: 1,
    column: 21,
    expected: ['and', 'or', 'end of input'],
  },
  { text: 'traits.a exists and', line: 1, column: 20, expected: START },
  { text: '(traits.a exists', line: 1, column: 17, expected: ['and', 'or', ')'] },
  { text: 'traits.a exists)', line: 1, column: 16, expected: ['and', 'or', 'end of input'] },
  { text: 'traits.x not exists', line: 1, column: 10, expected: OPERATORS },
  { text: 'traits.', line: 1, column: 8, expected: ['a key'] },
  {
    text: 'traits. x',
    line: 1,
    column: 8,
    expected: ['a key'],
    message: 'line 1, column 8: expected a key right after "." but found a space; a path has no spaces',
  },
  { text: 'traits .x = 1', line: 1, column: 8, expected: OPERATORS },
  { text: 'traits.1 = 2', line: 1, column: 8, expected: ['a key'] },
  { text: 'traits.x in "a"', line: 1, column: 13, expected: ['('] },
  { text: 'traits.x in ()', line: 1, column: 14, expected: ['a value'] },
  { text: 'traits.x in ("a" "b")', line: 1, column: 18, expected: [',', ')'] },
  { text: 'traits.x in ("a",)', line: 1, column: 18, expected: ['a value'] },
  { text: 'did Order', line: 1, column: 5, expected: ['a string'] },
  { text: 'did "X" foo', line: 1, column: 9, expected: AFTER_DID },
  { text: 'did "X" where properties.a = 1', line: 1, column: 15, expected: ['('] },
  { text: 'did "X" at 2 times', line: 1, column: 12, expected: ['least', 'most'] },
  { text: 'did "X" at least two times', line: 1, column: 18, expected: ['a number'] },
  { text: 'did "X" at least 2', line: 1, column: 19, expected: ['times', 'time'] },
  { text: 'did "X" in segment "a"', line: 1, column: 12, expected: ['last'] },
  { text: 'did "X" in last 3 fortnights', line: 1, column: 19, expected: ['a time unit'] },
  { text: 'did "X" since "2026-01-01"', line: 1, column: 15, expected: ['a date'] },
  { text: 'did "X" between 2026-01-01 2026-02-01', line: 1, column: 28, expected: ['and'] },
  {
    text: 'did "X" in last 7 days at least 2 times',
    line: 1,
    column: 24,
    expected: ['and', 'or', 'end of input'],
  },
  { text: 'in "vip"', line: 1, column: 4, expected: ['segment'] },
  { text: 'in segment vip', line: 1, column: 12, expected: ['a string'] },
  { text: 'traits.a = 1\n  and\n    traits.b = ', line: 3, column: 16, expected: ['a value'] },
  { text: 'traits.a = 1\r\nor traits.b ~ 2', line: 2, column: 13, code: 'segment.parse_error', expected: [] },
  // Lexical errors.
  { text: "traits.plan = 'pro'", line: 1, column: 15, expected: [] },
  { text: 'traits.plan = "pro', line: 1, column: 15, expected: ['"'] },
  { text: 'traits.plan = "a\nb"', line: 1, column: 15 },
  { text: 'traits.plan = "a\\qb"', line: 1, column: 17 },
  { text: 'traits.plan = "a\\u12G4"', line: 1, column: 17 },
  { text: 'traits.plan = "a\tb"', line: 1, column: 17 },
  { text: 'traits.n = 30days', line: 1, column: 12 },
  { text: 'traits.n = 007', line: 1, column: 12 },
  { text: 'traits.n = 1.', line: 1, column: 12 },
  { text: 'traits.n = .5', line: 1, column: 12 },
  { text: 'traits.n = - 1', line: 1, column: 12 },
  { text: 'traits.n = 1e999', code: 'segment.invalid_number', line: 1, column: 12 },
  { text: 'traits.d > 2026-02-30', code: 'segment.invalid_date', line: 1, column: 12 },
  { text: 'traits.d > 2025-02-29', code: 'segment.invalid_date', line: 1, column: 12 },
  { text: 'traits.d > 2026-13-01', code: 'segment.invalid_date', line: 1, column: 12 },
  { text: 'traits.d > 2026-01-01T10:00:00', code: 'segment.invalid_date', line: 1, column: 12 },
  { text: 'traits.d > 2026-01-01T25:00:00Z', code: 'segment.invalid_date', line: 1, column: 12 },
  { text: 'traits.d > 2026-01-01T10:00Z', code: 'segment.invalid_date', line: 1, column: 12 },
  { text: 'traits.$email exists', line: 1, column: 8 },
  { text: 'traits.plan == "pro"', line: 1, column: 14, expected: ['a value'] },
  // The first error in reading order wins, even when a bad character comes later.
  { text: 'traits.a = = @', line: 1, column: 12, expected: ['a value'] },
  // Mode-specific forms.
  {
    text: 'did "X"',
    parse: parseEventFilter,
    code: 'segment.not_allowed',
    line: 1,
    column: 1,
    expected: ['not', '(', 'a path'],
    message: 'line 1, column 1: "did" is not allowed in an event filter',
  },
  {
    text: 'event = "A" or In Segment "vip"',
    parse: parseEventFilter,
    code: 'segment.not_allowed',
    line: 1,
    column: 16,
    message: 'line 1, column 16: "in segment" is not allowed in an event filter',
  },
  {
    text: 'did "X" where (did "Y")',
    code: 'segment.not_allowed',
    line: 1,
    column: 16,
    message: 'line 1, column 16: "did" is not allowed inside a did … where (…) clause',
  },
  { text: 'did "X" where (in segment "a")', code: 'segment.not_allowed', line: 1, column: 16 },
];

void describe('parse errors', () => {
  for (const { text, code = 'segment.parse_error', line, column, expected, message, parse } of cases) {
    void it(JSON.stringify(text), () => {
      const result = (parse ?? parseSegmentDefinition)(text);
      assert.ok(!result.ok, 'expected a parse error');
      const { error } = result;
      assert.equal(error.code, code, error.message);
      assert.deepStrictEqual([error.line, error.column], [line, column], error.message);
      assert.ok(error.message.startsWith(`line ${line}, column ${column}: `), error.message);
      if (expected !== undefined) assert.deepStrictEqual(error.expected, expected, error.message);
      if (message !== undefined) assert.equal(error.message, message);
    });
  }

  void it('reports the offset of the error in UTF-16 units', () => {
    const result = parseSegmentDefinition('traits.é = 1');
    assert.ok(!result.ok);
    assert.deepStrictEqual([result.error.offset, result.error.line, result.error.column], [7, 1, 8]);
  });

  void it('freezes the error', () => {
    const result = parseSegmentDefinition('traits.a =');
    assert.ok(!result.ok);
    assert.ok(Object.isFrozen(result.error) && Object.isFrozen(result.error.expected));
  });

  void it('explains misplaced not, quoted dates and unquoted names', () => {
    const hints: readonly (readonly [string, string])[] = [
      ['traits.x not exists', '"not" goes before the condition'],
      ['did "X" since "2026-01-01"', 'dates are written without quotes'],
      ['did Order', 'event names are quoted'],
      ["traits.plan = 'pro'", 'strings use double quotes'],
      ['traits.$email exists', 'quote keys that are not plain names'],
      ['traits.d > 2026-01-01T10:00:00', 'needs a time zone'],
      ['traits.a = 1 && traits.b = 2', 'write `and`'],
      ['traits.a = 1 || traits.b = 2', 'write `or`'],
      ['traits.plan == "pro"', 'equality is a single `=`'],
      ['traits.plan ~ "pro"', 'use contains, starts_with or ends_with'],
    ];
    for (const [text, hint] of hints) {
      const result = parseSegmentDefinition(text);
      assert.ok(!result.ok);
      assert.match(result.error.message, new RegExp(hint.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    }
  });
});
