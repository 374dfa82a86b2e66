import { createDefaultCount, type CountNode } from './count.ts';
import type { Literal } from './literal.ts';
import { frozenCopy, hasKind } from './node-kind.ts';
import type { PathNode } from './path.ts';
import { createAllTimeWindow, type TimeWindow } from './time-window.ts';

/**
 * The expression nodes of the segment language. Every node is a frozen plain object tagged by
 * `kind`, built by a `create…` factory and recognised by an `is…` guard; trees are data, walked by
 * the printer, the validator, the evaluator and the SQL compilers, and never executed.
 */
export type Expression =
  AndNode | OrNode | NotNode | CompareNode | InNode | ExistsNode | DidNode | InSegmentNode;
export type ExpressionKind = Expression['kind'];

/** `and`/`or` are n-ary and keep the grouping as written: `(a and b) and c` is an `and` inside an `and`. */
export type Operands = readonly [Expression, Expression, ...Expression[]];

export interface AndNode {
  readonly kind: 'and';
  readonly operands: Operands;
}

export interface OrNode {
  readonly kind: 'or';
  readonly operands: Operands;
}

export interface NotNode {
  readonly kind: 'not';
  readonly operand: Expression;
}

export type CompareOperator = '=' | '!=' | '>' | '>=' | '<' | '<=' | 'contains' | 'starts_with';

export const COMPARE_OPERATORS: readonly CompareOperator[] = Object.freeze([
  '=',
  '!=',
  '>',
  '>=',
  '<',
  '<=',
  'contains',
  'starts_with',
]);

export interface CompareNode {
  readonly kind: 'compare';
  readonly path: PathNode;
  readonly op: CompareOperator;
  readonly value: Literal;
}

export interface InNode {
  readonly kind: 'in';
  readonly path: PathNode;
  readonly values: readonly [Literal, ...Literal[]];
}

/** True when the path holds a value other than null. */
export interface ExistsNode {
  readonly kind: 'exists';
  readonly path: PathNode;
}

/**
 * `did "Event" [where (…)] [count] [window]`. Defaults are explicit in the tree (`at least 1`,
 * `all_time`) so evaluators never handle a missing clause; `where` is null when absent.
 */
export interface DidNode {
  readonly kind: 'did';
  readonly event: string;
  readonly where: Expression | null;
  readonly count: CountNode;
  readonly window: TimeWindow;
}

export interface InSegmentNode {
  readonly kind: 'in_segment';
  readonly slug: string;
}

export function createAnd(operands: Operands): AndNode {
  return Object.freeze({ kind: 'and', operands: frozenCopy(operands) });
}

export function createOr(operands: Operands): OrNode {
  return Object.freeze({ kind: 'or', operands: frozenCopy(operands) });
}

export function createNot(operand: Expression): NotNode {
  return Object.freeze({ kind: 'not', operand });
}

export function createCompare(path: PathNode, op: CompareOperator, value: Literal): CompareNode {
  return Object.freeze({ kind: 'compare', path, op, value });
}

export function createIn(path: PathNode, values: readonly [Literal, ...Literal[]]): InNode {
  return Object.freeze({ kind: 'in', path, values: frozenCopy(values) });
}

export function createExists(path: PathNode): ExistsNode {
  return Object.freeze({ kind: 'exists', path });
}

export interface DidOptions {
  readonly where?: Expression | null;
  readonly count?: CountNode;
  readonly window?: TimeWindow;
}

export function createDid(event: string, options: DidOptions = {}): DidNode {
  return Object.freeze({
    kind: 'did',
    event,
    where: options.where ?? null,
    count: options.count ?? createDefaultCount(),
    window: options.window ?? createAllTimeWindow(),
  });
}

export function createInSegment(slug: string): InSegmentNode {
  return Object.freeze({ kind: 'in_segment', slug });
}

export function isAnd(value: unknown): value is AndNode {
  return hasKind(value, 'and');
}

export function isOr(value: unknown): value is OrNode {
  return hasKind(value, 'or');
}

export function isNot(value: unknown): value is NotNode {
  return hasKind(value, 'not');
}

export function isCompare(value: unknown): value is CompareNode {
  return hasKind(value, 'compare');
}

export function isIn(value: unknown): value is InNode {
  return hasKind(value, 'in');
}

export function isExists(value: unknown): value is ExistsNode {
  return hasKind(value, 'exists');
}

export function isDid(value: unknown): value is DidNode {
  return hasKind(value, 'did');
}

export function isInSegment(value: unknown): value is InSegmentNode {
  return hasKind(value, 'in_segment');
}

export function isExpression(value: unknown): value is Expression {
  return (
    isAnd(value) ||
    isOr(value) ||
    isNot(value) ||
    isCompare(value) ||
    isIn(value) ||
    isExists(value) ||
    isDid(value) ||
    isInSegment(value)
  );
}
