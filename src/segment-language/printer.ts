import type { Expression } from './ast.ts';
import { isDefaultCount, type CountNode } from './count.ts';
import type { Literal } from './literal.ts';
import { BARE_KEY_PATTERN, type PathNode } from './path.ts';
import { quoteString } from './string-syntax.ts';
import type { TimeWindow } from './time-window.ts';
import { needsParentheses } from './walk.ts';

/**
 * Canonical text of an expression: lower-case keywords, single spaces, parentheses only where the
 * grouping needs them, defaults (`at least 1 time`, all time) left out. For every tree the parser
 * can produce, parsing the printed text gives back a deep-equal tree.
 *
 * Recursive: meant for parsed or validated trees, whose nesting is bounded (see limits.ts).
 */
export function printDefinition(node: Expression): string {
  switch (node.kind) {
    case 'and':
    case 'or':
      return node.operands.map((operand) => printOperand(node, operand)).join(` ${node.kind} `);
    case 'not':
      return `not ${printOperand(node, node.operand)}`;
    case 'compare':
      return `${printPath(node.path)} ${node.op} ${printLiteral(node.value)}`;
    case 'in':
      return `${printPath(node.path)} in (${node.values.map(printLiteral).join(', ')})`;
    case 'exists':
      return `${printPath(node.path)} exists`;
    case 'did':
      return printDid(node.event, node.where, node.count, node.window);
    case 'in_segment':
      return `in segment ${quoteString(node.slug)}`;
  }
}

function printOperand(parent: Expression, child: Expression): string {
  const text = printDefinition(child);
  return needsParentheses(parent, child) ? `(${text})` : text;
}

function printDid(event: string, where: Expression | null, count: CountNode, window: TimeWindow): string {
  const parts = ['did', quoteString(event)];
  if (where !== null) parts.push(`where (${printDefinition(where)})`);
  if (!isDefaultCount(count)) parts.push(printCount(count));
  if (window.kind !== 'all_time') parts.push(printWindow(window));
  return parts.join(' ');
}

export function printCount(count: CountNode): string {
  const op = count.op === 'exactly' ? 'exactly' : count.op === 'at_least' ? 'at least' : 'at most';
  return `${op} ${printNumber(count.n)} ${count.n === 1 ? 'time' : 'times'}`;
}

/** `all_time` has no text of its own: it is the absence of a window. */
export function printWindow(window: TimeWindow): string {
  switch (window.kind) {
    case 'all_time':
      return '';
    case 'last':
      return `in last ${printNumber(window.amount)} ${window.unit}${window.amount === 1 ? '' : 's'}`;
    case 'since':
      return `since ${window.date.text}`;
    case 'between':
      return `between ${window.from.text} and ${window.to.text}`;
  }
}

export function printPath(path: PathNode): string {
  const keys = path.keys.map((key) => (BARE_KEY_PATTERN.test(key) ? `.${key}` : `.${quoteString(key)}`));
  return `${path.root}${keys.join('')}`;
}

export function printLiteral(literal: Literal): string {
  switch (literal.kind) {
    case 'string':
      return quoteString(literal.value);
    case 'number':
      return printNumber(literal.value);
    case 'boolean':
      return literal.value ? 'true' : 'false';
    case 'null':
      return 'null';
    case 'date':
      return literal.text;
  }
}

/** JavaScript's shortest round-trip form (`1e+21`, `1.5e-7`), which the lexer reads back exactly. */
function printNumber(value: number): string {
  return String(value);
}
