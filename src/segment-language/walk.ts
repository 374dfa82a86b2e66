import type {
  AndNode,
  CompareNode,
  DidNode,
  ExistsNode,
  Expression,
  InNode,
  InSegmentNode,
  NotNode,
  OrNode,
} from './ast.ts';

/** One method per expression kind; `visitExpression` dispatches, the visitor decides how to recurse. */
export interface ExpressionVisitor<R> {
  and(node: AndNode): R;
  or(node: OrNode): R;
  not(node: NotNode): R;
  compare(node: CompareNode): R;
  in(node: InNode): R;
  exists(node: ExistsNode): R;
  did(node: DidNode): R;
  inSegment(node: InSegmentNode): R;
}

export function visitExpression<R>(node: Expression, visitor: ExpressionVisitor<R>): R {
  switch (node.kind) {
    case 'and':
      return visitor.and(node);
    case 'or':
      return visitor.or(node);
    case 'not':
      return visitor.not(node);
    case 'compare':
      return visitor.compare(node);
    case 'in':
      return visitor.in(node);
    case 'exists':
      return visitor.exists(node);
    case 'did':
      return visitor.did(node);
    case 'in_segment':
      return visitor.inSegment(node);
  }
}

/** Direct sub-expressions, left to right. A `did`'s `where` clause is its only child. */
export function childExpressions(node: Expression): readonly Expression[] {
  switch (node.kind) {
    case 'and':
    case 'or':
      return node.operands;
    case 'not':
      return [node.operand];
    case 'did':
      return node.where === null ? [] : [node.where];
    case 'compare':
    case 'in':
    case 'exists':
    case 'in_segment':
      return [];
  }
}

/**
 * Whether the canonical text wraps `child` in parentheses under `parent`. `not` binds tighter than
 * `and`, which binds tighter than `or`; a same-kind child keeps its parentheses so that grouping
 * survives a round trip. (`where (…)` always has parentheses; they belong to the `did` syntax.)
 */
export function needsParentheses(parent: Expression, child: Expression): boolean {
  switch (parent.kind) {
    case 'not':
    case 'and':
      return child.kind === 'and' || child.kind === 'or';
    case 'or':
      return child.kind === 'or';
    case 'compare':
    case 'in':
    case 'exists':
    case 'did':
    case 'in_segment':
      return false;
  }
}

/**
 * How much deeper `child` sits than `parent` in the canonical text, counting each `(`, `not` and
 * `where (` as one level: the same measure the parser bounds, so a tree that validates prints to
 * text that parses.
 */
export function nestingIncrement(parent: Expression, child: Expression): number {
  const parentheses = needsParentheses(parent, child) ? 1 : 0;
  return parentheses + (parent.kind === 'not' || parent.kind === 'did' ? 1 : 0);
}

export interface WalkStep {
  readonly node: Expression;
  readonly parent: Expression | null;
  /** Nesting level of `node` in canonical text; the root is 0. */
  readonly nesting: number;
  /** The `did` whose `where` clause contains `node`, if any. */
  readonly enclosingDid: DidNode | null;
}

/** Return `'skip'` from the callback to leave out the node's children. */
export type WalkCallback = (step: WalkStep) => void | 'skip';

/**
 * Pre-order, left-to-right walk with an explicit stack: hand-built trees can be arbitrarily deep,
 * and the validator must be able to measure them without overflowing the call stack.
 */
export function forEachExpression(root: Expression, callback: WalkCallback): void {
  const stack: WalkStep[] = [{ node: root, parent: null, nesting: 0, enclosingDid: null }];
  for (let step = stack.pop(); step !== undefined; step = stack.pop()) {
    if (callback(step) === 'skip') continue;
    const { node } = step;
    const children = childExpressions(node);
    const enclosingDid = node.kind === 'did' ? node : step.enclosingDid;
    for (let i = children.length - 1; i >= 0; i--) {
      const child = children[i] as Expression;
      const nesting = step.nesting + nestingIncrement(node, child);
      stack.push({ node: child, parent: node, nesting, enclosingDid });
    }
  }
}

/** The deepest nesting level anywhere in the tree (0 for a single condition). */
export function measureNesting(root: Expression): number {
  let deepest = 0;
  forEachExpression(root, ({ nesting }) => {
    deepest = Math.max(deepest, nesting);
  });
  return deepest;
}
