/** Where something is in the definition text. Lines and columns are 1-based; columns count UTF-16 code units. */
export interface SourcePosition {
  /** 0-based UTF-16 offset into the text. */
  readonly offset: number;
  readonly line: number;
  readonly column: number;
}

export interface SourceSpan {
  readonly start: SourcePosition;
  /** Position just after the last character. */
  readonly end: SourcePosition;
}

/**
 * Spans of parsed nodes, keyed by node identity. Positions live beside the AST rather than in it so
 * that a parsed tree and a hand-built or re-parsed tree are deep-equal.
 */
export type SpanTable = ReadonlyMap<object, SourceSpan>;

export function formatPosition(position: { readonly line: number; readonly column: number }): string {
  return `line ${position.line}, column ${position.column}`;
}
