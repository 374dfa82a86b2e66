// Terse AST builders for expected values in tests. Dotted paths are split on "." here only for
// brevity; keys containing dots are built with createPath directly.
import {
  createBooleanLiteral,
  createCompare,
  createDateLiteral,
  createExists,
  createIn,
  createNullLiteral,
  createNumberLiteral,
  createPath,
  createStringLiteral,
  type CompareOperator,
  type Expression,
  type Literal,
  type PathNode,
} from '../../src/segment-language/index.ts';

export function path(dotted: string): PathNode {
  const [root, ...keys] = dotted.split('.');
  return createPath(root ?? '', keys);
}

export const str = createStringLiteral;
export const num = createNumberLiteral;
export const bool = createBooleanLiteral;
export const nul = createNullLiteral;
export const date = createDateLiteral;

export function cmp(dotted: string, op: CompareOperator, value: Literal): Expression {
  return createCompare(path(dotted), op, value);
}

export function exists(dotted: string): Expression {
  return createExists(path(dotted));
}

export function within(dotted: string, first: Literal, ...rest: Literal[]): Expression {
  return createIn(path(dotted), [first, ...rest]);
}
