import type { Expression } from './ast.ts';
import { collectDependencies, type SegmentDependencies } from './dependencies.ts';
import type { ParseError } from './parse-error.ts';
import { parseEventFilter, parseSegmentDefinition, type ParseOptions, type ParseResult } from './parser.ts';
import type { SpanTable } from './source-span.ts';
import type { ValidationProblem } from './validation-problem.ts';
import { validateDefinition, type ExpressionMode, type ValidationContext } from './validator.ts';

/** A parse error or validation problem in one shape, for API responses and editors. */
export interface Diagnostic extends ValidationProblem {
  /** What the parser would have accepted; empty for validation problems. */
  readonly expected: readonly string[];
}

export type AnalyzeOptions = ParseOptions & Omit<ValidationContext, 'mode' | 'spans'>;

export type AnalysisFailure = { readonly ok: false; readonly errors: readonly Diagnostic[] };

export type SegmentAnalysis =
  | {
      readonly ok: true;
      readonly ast: Expression;
      readonly spans: SpanTable;
      readonly dependencies: SegmentDependencies;
      readonly warnings: readonly ValidationProblem[];
    }
  | AnalysisFailure;

export type EventFilterAnalysis =
  | {
      readonly ok: true;
      readonly ast: Expression;
      readonly spans: SpanTable;
      readonly warnings: readonly ValidationProblem[];
    }
  | AnalysisFailure;

/** Parse, validate and extract dependencies in one step: what saving a segment needs. */
export function analyzeSegmentDefinition(text: string, options: AnalyzeOptions = {}): SegmentAnalysis {
  const checked = check(parseSegmentDefinition(text, options), 'segment', options);
  return checked.ok ? { ...checked, dependencies: collectDependencies(checked.ast) } : checked;
}

/** Parse and validate a destination's event filter. */
export function analyzeEventFilter(text: string, options: AnalyzeOptions = {}): EventFilterAnalysis {
  return check(parseEventFilter(text, options), 'event_filter', options);
}

function check(parsed: ParseResult, mode: ExpressionMode, options: AnalyzeOptions): EventFilterAnalysis {
  if (!parsed.ok) return { ok: false, errors: [fromParseError(parsed.error)] };
  const problems = validateDefinition(parsed.ast, { ...options, mode, spans: parsed.spans });
  const errors = problems.filter((problem) => problem.severity === 'error');
  if (errors.length > 0)
    return { ok: false, errors: errors.map((problem) => ({ ...problem, expected: [] })) };
  const warnings = problems.filter((problem) => problem.severity === 'warning');
  return { ok: true, ast: parsed.ast, spans: parsed.spans, warnings };
}

function fromParseError(error: ParseError): Diagnostic {
  const { code, message, line, column, expected } = error;
  return { code, severity: 'error', message, line, column, expected };
}
