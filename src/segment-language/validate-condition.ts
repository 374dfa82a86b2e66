import type { CompareNode, ExistsNode, InNode } from './ast.ts';
import { computedCompareProblem, computedInProblem, type ComputedValueType } from './computed-value-types.ts';
import type { SegmentLimits } from './limits.ts';
import type { Literal, LiteralKind } from './literal.ts';
import { printPath } from './printer.ts';
import type { PathNode } from './path.ts';
import { findRoot, maxKeysOf, rootsOf, scopesWithRoot, suggestRoot, type PathScope } from './path-roots.ts';
import type { ProblemCollector } from './validation-problem.ts';

/** What condition checks need from the validator: the limits, known names and where to report. */
export interface ConditionCheckEnv {
  readonly limits: SegmentLimits;
  readonly problems: ProblemCollector;
  readonly knownComputed: ReadonlySet<string> | undefined;
  /** The type of each computed trait's value, where its definition tells. */
  readonly computedTypes: ReadonlyMap<string, ComputedValueType> | undefined;
  readonly knownConsentCategories: ReadonlySet<string> | undefined;
}

const SCOPE_NAMES: Readonly<Record<PathScope, string>> = {
  segment: 'a segment definition',
  event_filter: 'an event filter',
  did_where: 'a did … where (…) clause',
};

/** The literal types each operator accepts; `=` and `!=` accept any. */
const OPERAND_KINDS: ReadonlyMap<string, readonly LiteralKind[]> = new Map([
  ['>', ['number', 'date']],
  ['>=', ['number', 'date']],
  ['<', ['number', 'date']],
  ['<=', ['number', 'date']],
  ['contains', ['string']],
  ['starts_with', ['string']],
]);

export function checkCondition(
  node: CompareNode | InNode | ExistsNode,
  scope: PathScope,
  env: ConditionCheckEnv,
): void {
  const rootKnown = checkPath(node.path, scope, env);
  switch (node.kind) {
    case 'compare':
      checkCompare(node, rootKnown, env);
      return;
    case 'in':
      checkIn(node, rootKnown, env);
      return;
    case 'exists':
      return;
  }
}

/** Returns whether the root is known here, so value checks tied to a root can be skipped otherwise. */
function checkPath(path: PathNode, scope: PathScope, env: ConditionCheckEnv): boolean {
  const rule = findRoot(scope, path.root);
  if (rule === undefined) {
    env.problems.error('segment.unknown_root', [path], unknownRootMessage(path.root, scope));
    return false;
  }
  const maxKeys = maxKeysOf(rule, env.limits);
  if (path.keys.length < rule.minKeys || path.keys.length > maxKeys) {
    env.problems.error(
      'segment.invalid_path',
      [path],
      keyCountMessage(path, rule.minKeys, maxKeys, rule.example),
    );
  }
  for (const key of path.keys) {
    if (key === '') env.problems.error('segment.invalid_path', [path], `${printPath(path)} has an empty key`);
    checkStringLength(key, [path], env);
  }
  const name = path.keys[0];
  if (name !== undefined && path.root === 'computed' && env.knownComputed?.has(name) === false) {
    env.problems.error('segment.unknown_computed', [path], `there is no computed trait named "${name}"`);
  }
  if (name !== undefined && path.root === 'consent' && env.knownConsentCategories?.has(name) === false) {
    env.problems.error('segment.unknown_consent_category', [path], `there is no consent category "${name}"`);
  }
  return true;
}

function unknownRootMessage(root: string, scope: PathScope): string {
  const allowed = rootsOf(scope)
    .map((rule) => rule.name)
    .join(', ');
  let message = `unknown root "${root}": ${SCOPE_NAMES[scope]} reads ${allowed}`;
  const suggestion = suggestRoot(scope, root);
  const elsewhere = scopesWithRoot(root);
  if (suggestion !== undefined) message += `; did you mean ${suggestion}?`;
  else if (elsewhere.length > 0)
    message += `; ${root} is available in ${SCOPE_NAMES[elsewhere[0] as PathScope]}`;
  return message;
}

function keyCountMessage(path: PathNode, min: number, max: number, example: string): string {
  const printed = printPath(path);
  if (max === 0) return `${path.root} takes no keys: write ${example}, not ${printed}`;
  if (min === max) return `${path.root} takes exactly ${min} key, as in ${example}`;
  if (path.keys.length < min) return `${path.root} needs a key, as in ${example}`;
  return `${printed} has more than ${max} keys`;
}

function checkCompare(node: CompareNode, rootKnown: boolean, env: ConditionCheckEnv): void {
  const allowed = OPERAND_KINDS.get(node.op);
  if (allowed !== undefined && !allowed.includes(node.value.kind)) {
    const wanted = allowed.map((kind) => `${kind}s`).join(' or ');
    const detail = `"${node.op}" compares ${wanted}, not ${describeLiteral(node.value)}`;
    env.problems.error('segment.type_mismatch', [node.value, node], detail);
  } else if (rootKnown && node.path.root === 'consent' && !isConsentComparison(node)) {
    const detail = `a consent category is true or false: write ${printPath(node.path)} = true`;
    env.problems.error('segment.type_mismatch', [node.value, node], detail);
  } else {
    const type = rootKnown ? computedTypeOf(node.path, env) : undefined;
    const detail = type === undefined ? undefined : computedCompareProblem(node, type, describeLiteral);
    if (detail !== undefined) env.problems.error('segment.type_mismatch', [node.value, node], detail);
  }
  checkLiteral(node.value, env);
}

function isConsentComparison(node: CompareNode): boolean {
  return (node.op === '=' || node.op === '!=') && node.value.kind === 'boolean';
}

function checkIn(node: InNode, rootKnown: boolean, env: ConditionCheckEnv): void {
  if (node.values.length > env.limits.maxListLength) {
    const detail = `a list can hold at most ${env.limits.maxListLength} values`;
    env.problems.error('segment.list_too_long', [node], detail);
  }
  const kinds = [...new Set(node.values.map((value) => value.kind).filter((kind) => kind !== 'null'))];
  if (kinds.length > 1) {
    const detail = `a list must hold values of one type, but this one mixes ${kinds.join(' and ')}`;
    env.problems.error('segment.type_mismatch', [node], detail);
  } else if (rootKnown && node.path.root === 'consent' && kinds.some((kind) => kind !== 'boolean')) {
    const detail = `a consent category is true or false: write ${printPath(node.path)} = true`;
    env.problems.error('segment.type_mismatch', [node], detail);
  } else {
    const type = rootKnown ? computedTypeOf(node.path, env) : undefined;
    const detail = type === undefined ? undefined : computedInProblem(node, type);
    if (detail !== undefined) env.problems.error('segment.type_mismatch', [node], detail);
  }
  for (const value of node.values) checkLiteral(value, env);
}

/** A computed trait's value type; undefined for other paths and for keys into the value. */
function computedTypeOf(path: PathNode, env: ConditionCheckEnv): ComputedValueType | undefined {
  if (path.root !== 'computed' || path.keys.length !== 1) return undefined;
  return env.computedTypes?.get(path.keys[0] as string);
}

function checkLiteral(literal: Literal, env: ConditionCheckEnv): void {
  if (literal.kind === 'string') checkStringLength(literal.value, [literal], env);
}

/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Every string of a definition (values, keys, event names, slugs): bounded, and well-formed
 * UTF-16. A lone surrogate (`"\ud83d"`) is no character: the evaluator compares it as a code
 * unit (it starts "😀"), the databases receive it as U+FFFD (it starts nothing), so the same
 * definition would give different members on each path.
 */
export function checkStringLength(value: string, nodes: readonly object[], env: ConditionCheckEnv): void {
  if (value.length > env.limits.maxStringLength) {
    const detail = `a string can be at most ${env.limits.maxStringLength} characters long`;
    env.problems.error('segment.string_too_long', nodes, detail);
  }
  const lone = LONE_SURROGATE.exec(value);
  if (lone !== null) {
    const unit = lone[0].charCodeAt(0).toString(16);
    const detail = `a string holds the lone surrogate \\u${unit}, which is not a character (write a character such as \\ud83d\\ude00 as its full pair)`;
    env.problems.error('segment.invalid_string', nodes, detail);
  }
}

function describeLiteral(literal: Literal): string {
  switch (literal.kind) {
    case 'string':
      return `the string ${literal.value.length > 20 ? `"${literal.value.slice(0, 20)}…"` : `"${literal.value}"`}`;
    case 'number':
      return `the number ${literal.value}`;
    case 'boolean':
      return String(literal.value);
    case 'null':
      return 'null';
    case 'date':
      return `the date ${literal.text}`;
  }
}
