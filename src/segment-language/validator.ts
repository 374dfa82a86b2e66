import type { DidNode, Expression, InSegmentNode } from './ast.ts';
import type { ComputedValueType } from './computed-value-types.ts';
import { resolveLimits, type SegmentLimits } from './limits.ts';
import type { PathScope } from './path-roots.ts';
import type { SpanTable } from './source-span.ts';
import { resolveWindow, WINDOW_UNIT_MS, type TimeWindow } from './time-window.ts';
import { checkCondition, checkStringLength, type ConditionCheckEnv } from './validate-condition.ts';
import { ProblemCollector, type ValidationProblem } from './validation-problem.ts';
import { forEachExpression, measureNesting, type WalkStep } from './walk.ts';

export type ExpressionMode = 'segment' | 'event_filter';

/** What the validator may know about the workspace; each set is checked only when given. */
export interface ValidationContext {
  /** Defaults to `segment`. */
  readonly mode?: ExpressionMode;
  /** The spans from parsing, so that problems carry a line and column. */
  readonly spans?: SpanTable;
  readonly limits?: Partial<SegmentLimits>;
  readonly knownSegments?: ReadonlySet<string>;
  readonly knownComputed?: ReadonlySet<string>;
  /** What each computed trait's value is, so a comparison that can never match is refused. */
  readonly computedTypes?: ReadonlyMap<string, ComputedValueType>;
  readonly knownConsentCategories?: ReadonlySet<string>;
  /** The slug of the segment being defined: referring to itself is a cycle. */
  readonly selfSlug?: string;
}

interface CheckEnv extends ConditionCheckEnv {
  readonly context: ValidationContext;
}

const DAY_MS = WINDOW_UNIT_MS.day;

/**
 * Static checks that the grammar cannot express: roots, operand types, counts, windows, limits and
 * references. Returns every problem found, in source order; an empty list means valid. Works on
 * hand-built trees too, so it re-checks the bounds the parser already enforces.
 */
export function validateDefinition(
  ast: Expression,
  context: ValidationContext = {},
): readonly ValidationProblem[] {
  const limits = resolveLimits(context.limits);
  const problems = new ProblemCollector(context.spans);
  const nesting = measureNesting(ast);
  if (nesting > limits.maxNesting) {
    // Later checks and the recursive printer assume bounded depth, so stop here.
    problems.error(
      'segment.too_deep',
      [ast],
      `nesting is ${nesting} levels deep; the limit is ${limits.maxNesting}`,
    );
    return problems.list();
  }
  const env: CheckEnv = {
    limits,
    problems,
    context,
    knownComputed: context.knownComputed,
    computedTypes: context.computedTypes,
    knownConsentCategories: context.knownConsentCategories,
  };
  forEachExpression(ast, (step) => checkNode(step, context.mode ?? 'segment', env));
  checkReads(ast, env);
  return problems.list();
}

/** Counts what the compiled query joins, keyed the way the compiler shares its joins. */
function checkReads(ast: Expression, env: CheckEnv): void {
  const reads = new Set<string>();
  forEachExpression(ast, ({ node, enclosingDid }) => {
    if (enclosingDid !== null) return 'skip';
    if (node.kind === 'did') {
      reads.add(`did:${JSON.stringify(node)}`);
      return 'skip';
    }
    if (node.kind === 'in_segment') reads.add(`segment:${node.slug}`);
    else if (node.kind === 'compare' || node.kind === 'in' || node.kind === 'exists') {
      const [first] = node.path.keys;
      if ((node.path.root === 'computed' || node.path.root === 'consent') && first !== undefined)
        reads.add(`${node.path.root}:${first}`);
    }
    return undefined;
  });
  if (reads.size > env.limits.maxReads)
    env.problems.error(
      'segment.too_many_reads',
      [ast],
      `the definition reads ${reads.size} distinct events, computed traits, consent categories and segments; the limit is ${env.limits.maxReads} (split it into segments and combine them with "in segment")`,
    );
}

export function validateEventFilter(
  ast: Expression,
  context: ValidationContext = {},
): readonly ValidationProblem[] {
  return validateDefinition(ast, { ...context, mode: 'event_filter' });
}

function checkNode(step: WalkStep, mode: ExpressionMode, env: CheckEnv): void | 'skip' {
  const { node } = step;
  const scope: PathScope = step.enclosingDid === null ? mode : 'did_where';
  switch (node.kind) {
    case 'and':
    case 'or':
    case 'not':
      return;
    case 'compare':
    case 'in':
    case 'exists':
      checkCondition(node, scope, env);
      return;
    case 'did':
    case 'in_segment':
      if (scope !== 'segment') {
        const form = node.kind === 'did' ? '"did"' : '"in segment"';
        const where = scope === 'did_where' ? 'inside a did … where (…) clause' : 'in an event filter';
        env.problems.error('segment.not_allowed', [node], `${form} is not allowed ${where}`);
        return 'skip';
      }
      if (node.kind === 'did') checkDid(node, env);
      else checkInSegment(node, env);
      return;
  }
}

function checkDid(node: DidNode, env: CheckEnv): void {
  if (node.event === '') env.problems.error('segment.empty_name', [node], 'the event name is empty');
  checkStringLength(node.event, [node], env);
  const { n, op } = node.count;
  if (!Number.isInteger(n) || n < 0 || n > env.limits.maxCount) {
    const detail = `a count is a whole number from 0 to ${env.limits.maxCount}, not ${n}`;
    env.problems.error('segment.invalid_count', [node.count, node], detail);
  } else if (op === 'at_least' && n === 0) {
    const detail = 'at least 0 times is always true; leave out the did condition or use at least 1 time';
    env.problems.warning('segment.trivial_count', [node.count, node], detail);
  }
  checkWindow(node.window, node, env);
}

function checkWindow(window: TimeWindow, did: DidNode, env: CheckEnv): void {
  const at = [window, did];
  switch (window.kind) {
    case 'all_time':
    case 'since':
      return;
    case 'last': {
      if (!Number.isInteger(window.amount) || window.amount < 1) {
        const detail = `"in last" needs a whole number of at least 1, not ${window.amount}`;
        env.problems.error('segment.invalid_window', at, detail);
        return;
      }
      const days = (window.amount * WINDOW_UNIT_MS[window.unit]) / DAY_MS;
      if (days > env.limits.maxWindowDays) {
        const detail = `a window can reach back at most ${env.limits.maxWindowDays} days, but this one is ${days} days (a month counts as 30 days)`;
        env.problems.error('segment.invalid_window', at, detail);
      }
      return;
    }
    case 'between': {
      const { fromMs, toMs } = resolveWindow(window, 0);
      if (fromMs !== null && toMs !== null && fromMs >= toMs) {
        const detail = `between ${window.from.text} and ${window.to.text} is empty: the start is not before the end`;
        env.problems.error('segment.invalid_window', at, detail);
      }
      return;
    }
  }
}

function checkInSegment(node: InSegmentNode, env: CheckEnv): void {
  const { knownSegments, selfSlug } = env.context;
  if (node.slug === '') {
    env.problems.error('segment.empty_name', [node], 'the segment slug is empty');
  } else if (node.slug === selfSlug) {
    env.problems.error('segment.cycle', [node], `segment "${node.slug}" cannot contain itself`);
  } else if (knownSegments !== undefined && !knownSegments.has(node.slug)) {
    env.problems.error('segment.unknown_segment', [node], `there is no segment "${node.slug}"`);
  }
  checkStringLength(node.slug, [node], env);
}
