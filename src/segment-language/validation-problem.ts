import type { SegmentErrorCode } from './error-codes.ts';
import { formatPosition, type SpanTable } from './source-span.ts';

export type ProblemSeverity = 'error' | 'warning';

/** A statically detected problem. Positions are known when the validator was given parser spans. */
export interface ValidationProblem {
  readonly code: SegmentErrorCode;
  readonly severity: ProblemSeverity;
  readonly message: string;
  readonly line: number | null;
  readonly column: number | null;
}

export function hasErrors(problems: readonly ValidationProblem[]): boolean {
  return problems.some((problem) => problem.severity === 'error');
}

/** Collects problems in walk order, locating each at the first of the given nodes that has a span. */
export class ProblemCollector {
  readonly #spans: SpanTable | undefined;
  readonly #problems: ValidationProblem[] = [];

  constructor(spans: SpanTable | undefined) {
    this.#spans = spans;
  }

  error(code: SegmentErrorCode, nodes: readonly object[], detail: string): void {
    this.#add(code, 'error', nodes, detail);
  }

  warning(code: SegmentErrorCode, nodes: readonly object[], detail: string): void {
    this.#add(code, 'warning', nodes, detail);
  }

  list(): readonly ValidationProblem[] {
    return Object.freeze([...this.#problems]);
  }

  #add(code: SegmentErrorCode, severity: ProblemSeverity, nodes: readonly object[], detail: string): void {
    const span = nodes.map((node) => this.#spans?.get(node)).find((found) => found !== undefined);
    const at = span?.start;
    this.#problems.push(
      Object.freeze({
        code,
        severity,
        message: at === undefined ? detail : `${formatPosition(at)}: ${detail}`,
        line: at?.line ?? null,
        column: at?.column ?? null,
      }),
    );
  }
}
