import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  childExpressions,
  createAnd,
  createBetweenWindow,
  createDateLiteral,
  createDid,
  createInSegment,
  createLastWindow,
  createNot,
  createNumberLiteral,
  createOr,
  createPath,
  createSinceWindow,
  createAllTimeWindow,
  forEachExpression,
  isAnd,
  isCompare,
  isDid,
  isExpression,
  isLiteral,
  isPath,
  measureNesting,
  parseSegmentDefinition,
  resolveWindow,
  visitExpression,
  type Expression,
  type ExpressionVisitor,
} from '../../src/segment-language/index.ts';
import { cmp, exists, num, path } from './builders.ts';

const DAY = 86_400_000;

void describe('factories and guards', () => {
  void it('freeze nodes and copy the arrays they are given', () => {
    const keys = ['a'];
    const p = createPath('traits', keys);
    keys.push('b');
    assert.deepStrictEqual(p.keys, ['a']);
    assert.ok(Object.isFrozen(p) && Object.isFrozen(p.keys));
    const operands: [Expression, Expression] = [exists('traits.a'), exists('traits.b')];
    const and = createAnd(operands);
    operands[0] = exists('traits.c');
    assert.deepStrictEqual(and.operands[0], exists('traits.a'));
  });

  void it('recognise nodes by kind only', () => {
    const compare = cmp('traits.a', '=', num(1));
    assert.ok(isCompare(compare) && isExpression(compare) && !isAnd(compare));
    assert.ok(isPath(path('traits.a')) && !isExpression(path('traits.a')));
    assert.ok(isLiteral(num(1)) && !isLiteral(compare));
    assert.ok(!isExpression(null) && !isExpression('and') && !isDid({ kind: 'didn’t' }));
  });

  void it('refuse values the language cannot write', () => {
    assert.throws(() => createNumberLiteral(Number.NaN), RangeError);
    assert.throws(() => createNumberLiteral(Infinity), RangeError);
    assert.throws(() => createDateLiteral('2026-02-30'), RangeError);
    assert.equal(Object.is(createNumberLiteral(-0).value, 0), true);
  });
});

void describe('walking', () => {
  const result = parseSegmentDefinition(
    'traits.a exists or not (did "X" where (properties.p = 1 or properties.q = 2) and in segment "s")',
  );
  assert.ok(result.ok);
  const ast = result.ast;

  void it('visits every expression in pre-order with nesting and the enclosing did', () => {
    const seen: string[] = [];
    forEachExpression(ast, ({ node, nesting, enclosingDid, parent }) => {
      seen.push(
        `${node.kind}:${nesting}:${enclosingDid === null ? '-' : enclosingDid.event}:${parent?.kind ?? '-'}`,
      );
    });
    assert.deepStrictEqual(seen, [
      'or:0:-:-',
      'exists:0:-:or',
      'not:0:-:or',
      'and:2:-:not',
      'did:2:-:and',
      'or:3:X:did',
      'compare:3:X:or',
      'compare:3:X:or',
      'in_segment:2:-:and',
    ]);
    assert.equal(measureNesting(ast), 3);
  });

  void it('skips children on request', () => {
    const kinds: string[] = [];
    forEachExpression(ast, ({ node }) => {
      kinds.push(node.kind);
      return node.kind === 'not' ? 'skip' : undefined;
    });
    assert.deepStrictEqual(kinds, ['or', 'exists', 'not']);
  });

  void it('dispatches visitors by kind, for evaluators and compilers', () => {
    const count: ExpressionVisitor<number> = {
      and: (node) => node.operands.reduce((sum, child) => sum + visitExpression(child, count), 1),
      or: (node) => node.operands.reduce((sum, child) => sum + visitExpression(child, count), 1),
      not: (node) => 1 + visitExpression(node.operand, count),
      compare: () => 1,
      in: () => 1,
      exists: () => 1,
      did: (node) => 1 + (node.where === null ? 0 : visitExpression(node.where, count)),
      inSegment: () => 1,
    };
    assert.equal(visitExpression(ast, count), 9);
    assert.deepStrictEqual(childExpressions(createInSegment('x')), []);
    assert.deepStrictEqual(childExpressions(createNot(createOr([exists('a.b'), exists('a.c')]))).length, 1);
    assert.deepStrictEqual(childExpressions(createDid('X')), []);
  });
});

void describe('resolveWindow', () => {
  const now = Date.UTC(2026, 5, 15, 12);

  void it('gives half-open intervals shared by every evaluator', () => {
    assert.deepStrictEqual(resolveWindow(createAllTimeWindow(), now), { fromMs: null, toMs: null });
    assert.deepStrictEqual(resolveWindow(createLastWindow(2, 'day'), now), {
      fromMs: now - 2 * DAY,
      toMs: null,
    });
    assert.deepStrictEqual(resolveWindow(createLastWindow(1, 'month'), now), {
      fromMs: now - 30 * DAY,
      toMs: null,
    });
    assert.deepStrictEqual(resolveWindow(createLastWindow(90, 'minute'), now), {
      fromMs: now - 5_400_000,
      toMs: null,
    });
    const since = createSinceWindow(createDateLiteral('2026-01-01T00:00:00+01:00'));
    assert.deepStrictEqual(resolveWindow(since, now), { fromMs: Date.UTC(2025, 11, 31, 23), toMs: null });
  });

  void it('includes the whole last day of a date-only between, but not a timestamp end', () => {
    const days = createBetweenWindow(createDateLiteral('2026-01-01'), createDateLiteral('2026-01-31'));
    assert.deepStrictEqual(resolveWindow(days, now), {
      fromMs: Date.UTC(2026, 0, 1),
      toMs: Date.UTC(2026, 1, 1),
    });
    const instants = createBetweenWindow(
      createDateLiteral('2026-01-01'),
      createDateLiteral('2026-01-31T00:00:00Z'),
    );
    assert.deepStrictEqual(resolveWindow(instants, now).toMs, Date.UTC(2026, 0, 31));
  });
});
