import { hasKind } from './node-kind.ts';

export type CountOperator = 'at_least' | 'at_most' | 'exactly';

/** How many matching events `did` requires. `did "X"` without a count means `at least 1 time`. */
export interface CountNode {
  readonly kind: 'count';
  readonly op: CountOperator;
  readonly n: number;
}

export function createCount(op: CountOperator, n: number): CountNode {
  return Object.freeze({ kind: 'count', op, n: n === 0 ? 0 : n });
}

export function createDefaultCount(): CountNode {
  return createCount('at_least', 1);
}

export function isCount(value: unknown): value is CountNode {
  return hasKind(value, 'count');
}

/** The printer leaves the default out, so `did "X"` and `did "X" at least 1 time` print the same. */
export function isDefaultCount(count: CountNode): boolean {
  return count.op === 'at_least' && count.n === 1;
}
