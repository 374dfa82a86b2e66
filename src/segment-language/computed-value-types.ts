import type { CompareNode, InNode } from './ast.ts';
import type { Literal } from './literal.ts';
import { printPath } from './printer.ts';

/**
 * What a computed trait's value is, as far as its definition tells: counts and sums are
 * numbers, first and last times are ISO instants, distinct values a list; the value of a
 * property (`last_value`, `most_frequent`) can be anything, so it is not checked.
 */
export type ComputedValueType = 'number' | 'date' | 'list' | 'any';

/**
 * Why comparing a computed trait of a known type with this literal could never match (the
 * evaluators do not coerce: a count is never `"3"`), or undefined when the comparison is
 * meaningful. `null` always is: `= null` asks whether the value is missing.
 */
export function computedCompareProblem(
  node: CompareNode,
  type: ComputedValueType,
  describeLiteral: (literal: Literal) => string,
): string | undefined {
  const { op, value } = node;
  if (value.kind === 'null' || type === 'any') return undefined;
  const name = printPath(node.path);
  switch (type) {
    case 'number':
      if (value.kind === 'number') return undefined;
      return `${name} is a number: compare it with a number, not ${describeLiteral(value)}`;
    case 'date':
      if (value.kind === 'date') return undefined;
      if (value.kind === 'string' && op !== '>' && op !== '>=' && op !== '<' && op !== '<=') return undefined;
      return `${name} is a time: compare it with a date such as 2026-01-31 or 2026-01-31T12:00:00Z, not ${describeLiteral(value)}`;
    case 'list':
      if (op === 'contains') return undefined;
      return `${name} is a list of values, which equals and orders against nothing: write ${name} contains "value"`;
  }
}

/** The same for `in (…)`, which matches by equality with each value. */
export function computedInProblem(node: InNode, type: ComputedValueType): string | undefined {
  const values = node.values.filter((value) => value.kind !== 'null');
  const name = printPath(node.path);
  switch (type) {
    case 'any':
      return undefined;
    case 'number':
      return values.every((value) => value.kind === 'number')
        ? undefined
        : `${name} is a number: its list must hold numbers`;
    case 'date':
      return values.every((value) => value.kind === 'date' || value.kind === 'string')
        ? undefined
        : `${name} is a time: its list must hold dates`;
    case 'list':
      return values.length === 0
        ? undefined
        : `${name} is a list of values, which equals nothing: write ${name} contains "value"`;
  }
}
