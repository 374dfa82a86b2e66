import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  analyzeEventFilter,
  analyzeSegmentDefinition,
  SEGMENT_ERROR_CATALOGUE,
} from '../../src/segment-language/index.ts';

void describe('analyzeSegmentDefinition', () => {
  void it('returns the tree, dependencies and warnings of a valid definition', () => {
    const result = analyzeSegmentDefinition('did "A" at least 0 times and in segment "vip"', {
      knownSegments: new Set(['vip']),
    });
    assert.ok(result.ok);
    assert.deepStrictEqual(result.dependencies.segments, ['vip']);
    assert.deepStrictEqual(
      result.warnings.map((warning) => [warning.code, warning.line, warning.column]),
      [['segment.trivial_count', 1, 9]],
    );
  });

  void it('turns a parse error into a diagnostic with what was expected', () => {
    const result = analyzeSegmentDefinition('traits.plan = and');
    assert.deepStrictEqual(result, {
      ok: false,
      errors: [
        {
          code: 'segment.parse_error',
          severity: 'error',
          message:
            'line 1, column 15: expected a value (string, number, date, true, false or null) but found "and"',
          line: 1,
          column: 15,
          expected: ['a value'],
        },
      ],
    });
  });

  void it('returns every validation error with its position', () => {
    const result = analyzeSegmentDefinition('foo.x = 1 or\n in segment "nope"', { knownSegments: new Set() });
    assert.ok(!result.ok);
    assert.deepStrictEqual(
      result.errors.map((error) => [error.code, error.line, error.column, error.expected]),
      [
        ['segment.unknown_root', 1, 1, []],
        ['segment.unknown_segment', 2, 2, []],
      ],
    );
  });

  void it('applies custom limits to parsing and validation alike', () => {
    const result = analyzeSegmentDefinition('did "A" in last 10 days', { limits: { maxWindowDays: 7 } });
    assert.ok(!result.ok);
    assert.equal(result.errors[0]?.code, 'segment.invalid_window');
  });
});

void describe('analyzeEventFilter', () => {
  void it('accepts event conditions and refuses profile roots', () => {
    assert.ok(analyzeEventFilter('event = "Order Completed" and properties.total > 100').ok);
    const result = analyzeEventFilter('traits.plan = "pro" and consent.ads = true');
    assert.ok(!result.ok);
    assert.deepStrictEqual(
      result.errors.map((error) => [error.code, error.column]),
      [['segment.unknown_root', 25]],
    );
  });
});

void describe('error catalogue', () => {
  void it('has stable, namespaced codes with a summary each', () => {
    for (const [code, summary] of Object.entries(SEGMENT_ERROR_CATALOGUE)) {
      assert.match(code, /^segment\.[a-z_]+$/);
      assert.ok(summary.length > 10, code);
    }
  });
});
