import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  createExists,
  createIn,
  createNot,
  createPath,
  createStringLiteral,
  DEFAULT_SEGMENT_LIMITS,
  parseEventFilter,
  parseSegmentDefinition,
  printDefinition,
  validateDefinition,
  type Expression,
  type ParseError,
} from '../../src/segment-language/index.ts';

function parseError(text: string, limits?: Parameters<typeof parseSegmentDefinition>[1]): ParseError {
  const result = parseSegmentDefinition(text, limits);
  assert.ok(!result.ok, 'expected a parse error');
  return result.error;
}

void describe('nesting bombs fail cleanly', () => {
  void it('10,000 nested parentheses', () => {
    const error = parseError(`${'('.repeat(10_000)}traits.a exists${')'.repeat(10_000)}`);
    assert.equal(error.code, 'segment.too_deep');
    assert.deepStrictEqual([error.line, error.column], [1, 65]);
  });

  void it('10,000 unclosed parentheses and 10,000 nots', () => {
    assert.equal(parseError('('.repeat(10_000)).code, 'segment.too_deep');
    const nots = parseError(`${'not '.repeat(10_000)}traits.a exists`);
    assert.equal(nots.code, 'segment.too_deep');
    assert.equal(nots.column, 64 * 4 + 1);
  });

  void it('nested where clauses and mixtures', () => {
    const mixed = `${'not ('.repeat(5_000)}traits.a exists${')'.repeat(5_000)}`;
    assert.equal(parseError(mixed).code, 'segment.too_deep');
    assert.equal(parseError(`did "A" where (${'('.repeat(100)}`).code, 'segment.too_deep');
  });

  void it('accepts exactly the maximum nesting and refuses one more', () => {
    const max = DEFAULT_SEGMENT_LIMITS.maxNesting;
    const at = (depth: number): string => `${'('.repeat(depth)}traits.a exists${')'.repeat(depth)}`;
    assert.ok(parseSegmentDefinition(at(max)).ok);
    assert.equal(parseError(at(max + 1)).code, 'segment.too_deep');
    const nots = (depth: number): string => `${'not '.repeat(depth)}traits.a exists`;
    assert.ok(parseSegmentDefinition(nots(max)).ok);
    assert.equal(parseError(nots(max + 1)).code, 'segment.too_deep');
  });

  void it('counts where ( as one level', () => {
    const text = `${'not '.repeat(63)}did "A" where (properties.a exists)`;
    assert.ok(parseSegmentDefinition(text).ok);
    assert.equal(parseError(`not ${text}`).code, 'segment.too_deep');
  });

  void it('honours a custom limit', () => {
    const error = parseError('((traits.a exists))', { limits: { maxNesting: 1 } });
    assert.deepStrictEqual([error.code, error.column], ['segment.too_deep', 2]);
  });

  void it('validates a deep hand-built tree without overflowing the stack', () => {
    let deep: Expression = createExists(createPath('traits', ['a']));
    for (let i = 0; i < 200_000; i++) deep = createNot(deep);
    const problems = validateDefinition(deep);
    assert.deepStrictEqual(
      problems.map((problem) => problem.code),
      ['segment.too_deep'],
    );
  });
});

void describe('size limits', () => {
  void it('refuses a definition over 64 KB before scanning it', () => {
    const error = parseError(`traits.a = "${'x'.repeat(70_000)}"`);
    assert.deepStrictEqual([error.code, error.line, error.column], ['segment.too_large', 1, 1]);
    assert.equal(parseError(' '.repeat(50_000_000)).code, 'segment.too_large');
  });

  void it('measures the size in UTF-8 bytes', () => {
    // 22,000 three-byte characters: 22,000 UTF-16 units but 66,000 bytes.
    const text = `traits.a = "${'€'.repeat(22_000)}"`;
    assert.ok(text.length < DEFAULT_SEGMENT_LIMITS.maxSourceBytes);
    assert.equal(parseError(text, { limits: { maxStringLength: 100_000 } }).code, 'segment.too_large');
  });

  void it('parses, prints and validates a long flat definition', () => {
    const text = Array.from({ length: 2_500 }, (_, i) => `traits.a${i} = ${i}`).join(' and ');
    assert.ok(text.length < DEFAULT_SEGMENT_LIMITS.maxSourceBytes);
    const result = parseSegmentDefinition(text);
    assert.ok(result.ok);
    assert.equal(printDefinition(result.ast), text);
    assert.deepStrictEqual(validateDefinition(result.ast), []);
  });

  void it('refuses a list longer than the limit, at the first value too many', () => {
    const values = (count: number): string => Array.from({ length: count }, (_, i) => String(i)).join(',');
    assert.ok(parseSegmentDefinition(`traits.a in (${values(1000)})`).ok);
    const error = parseError(`traits.a in (${values(1001)})`);
    assert.equal(error.code, 'segment.list_too_long');
    assert.equal(error.offset, `traits.a in (${values(1000)},`.length);
  });

  void it('refuses a string longer than the limit, at its opening quote', () => {
    assert.ok(parseSegmentDefinition(`traits.a = "${'x'.repeat(1000)}"`).ok);
    const error = parseError(`traits.a = "${'x'.repeat(1001)}"`);
    assert.deepStrictEqual([error.code, error.column], ['segment.string_too_long', 12]);
    assert.equal(parseError(`traits."${'k'.repeat(1001)}" exists`).code, 'segment.string_too_long');
  });

  void it('applies the same bounds to event filters', () => {
    const result = parseEventFilter('('.repeat(1_000));
    assert.ok(!result.ok);
    assert.equal(result.error.code, 'segment.too_deep');
  });

  void it('re-checks list and string bounds on hand-built trees', () => {
    const values = Array.from({ length: 1001 }, () => createStringLiteral('y'.repeat(1001)));
    const node = createIn(createPath('traits', ['a']), [createStringLiteral('x'), ...values]);
    const codes = new Set(validateDefinition(node).map((problem) => problem.code));
    assert.deepStrictEqual([...codes].sort(), ['segment.list_too_long', 'segment.string_too_long']);
  });
});
