// Public surface of the segment language front end. Everything else in this folder is internal.

export {
  COMPARE_OPERATORS,
  createAnd,
  createCompare,
  createDid,
  createExists,
  createIn,
  createInSegment,
  createNot,
  createOr,
  isAnd,
  isCompare,
  isDid,
  isExists,
  isExpression,
  isIn,
  isInSegment,
  isNot,
  isOr,
  type AndNode,
  type CompareNode,
  type CompareOperator,
  type DidNode,
  type DidOptions,
  type ExistsNode,
  type Expression,
  type ExpressionKind,
  type InNode,
  type InSegmentNode,
  type NotNode,
  type Operands,
  type OrNode,
} from './ast.ts';
export {
  createCount,
  createDefaultCount,
  isCount,
  isDefaultCount,
  type CountNode,
  type CountOperator,
} from './count.ts';
export {
  createBooleanLiteral,
  createDateLiteral,
  createNullLiteral,
  createNumberLiteral,
  createStringLiteral,
  isBooleanLiteral,
  isDateLiteral,
  isLiteral,
  isNullLiteral,
  isNumberLiteral,
  isStringLiteral,
  type BooleanLiteral,
  type DateLiteral,
  type Literal,
  type LiteralKind,
  type NullLiteral,
  type NumberLiteral,
  type StringLiteral,
} from './literal.ts';
export { BARE_KEY_PATTERN, createPath, isPath, type PathNode } from './path.ts';
export { rootsOf, type PathScope, type RootRule } from './path-roots.ts';
export {
  createAllTimeWindow,
  createBetweenWindow,
  createLastWindow,
  createSinceWindow,
  isAllTimeWindow,
  isBetweenWindow,
  isLastWindow,
  isSinceWindow,
  isTimeWindow,
  resolveWindow,
  WINDOW_UNIT_MS,
  type AllTimeWindow,
  type BetweenWindow,
  type LastWindow,
  type ResolvedWindow,
  type SinceWindow,
  type TimeWindow,
  type WindowUnit,
} from './time-window.ts';
export {
  childExpressions,
  forEachExpression,
  measureNesting,
  needsParentheses,
  visitExpression,
  type ExpressionVisitor,
  type WalkCallback,
  type WalkStep,
} from './walk.ts';

export { parseEventFilter, parseSegmentDefinition, type ParseOptions, type ParseResult } from './parser.ts';
export type { ParseError } from './parse-error.ts';
export type { SourcePosition, SourceSpan, SpanTable } from './source-span.ts';
export { printCount, printDefinition, printLiteral, printPath, printWindow } from './printer.ts';

export {
  validateDefinition,
  validateEventFilter,
  type ExpressionMode,
  type ValidationContext,
} from './validator.ts';
export type { ComputedValueType } from './computed-value-types.ts';
export { hasErrors, type ProblemSeverity, type ValidationProblem } from './validation-problem.ts';
export {
  collectDependencies,
  collectFilteredEvents,
  collectSegmentRefs,
  type SegmentDependencies,
} from './dependencies.ts';
export { findSegmentCycle } from './segment-cycles.ts';
export {
  analyzeEventFilter,
  analyzeSegmentDefinition,
  type AnalysisFailure,
  type AnalyzeOptions,
  type Diagnostic,
  type EventFilterAnalysis,
  type SegmentAnalysis,
} from './analyze.ts';

export { SEGMENT_ERROR_CATALOGUE, type SegmentErrorCode } from './error-codes.ts';
export { DEFAULT_SEGMENT_LIMITS, type SegmentLimits } from './limits.ts';
