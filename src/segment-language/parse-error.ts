import type { SegmentErrorCode } from './error-codes.ts';
import { formatPosition, type SourcePosition } from './source-span.ts';

/**
 * Why a text is not a definition, and where. `expected` lists what would have been accepted at
 * that position: keywords and symbols as written (`and`, `)`), categories as phrases (`a value`).
 */
export interface ParseError {
  readonly code: SegmentErrorCode;
  readonly message: string;
  readonly line: number;
  readonly column: number;
  readonly offset: number;
  readonly expected: readonly string[];
}

/** Categories of tokens the parser can expect, with the longer wording used in messages. */
const CATEGORY_DESCRIPTIONS: ReadonlyMap<string, string> = new Map([
  ['a value', 'a value (string, number, date, true, false or null)'],
  ['a path', 'a path (such as traits.plan)'],
  ['a key', 'a key (a name or a "quoted string")'],
  ['a string', 'a string in double quotes'],
  ['a number', 'a number'],
  ['a date', 'a date (2026-01-01 or 2026-01-01T10:00:00Z)'],
  ['a time unit', 'a time unit (minutes, hours, days, weeks or months)'],
  ['end of input', 'end of input'],
]);

export function createParseError(
  code: SegmentErrorCode,
  at: SourcePosition,
  detail: string,
  expected: readonly string[] = [],
): ParseError {
  return Object.freeze({
    code,
    message: `${formatPosition(at)}: ${detail}`,
    line: at.line,
    column: at.column,
    offset: at.offset,
    expected: Object.freeze([...expected]),
  });
}

/** `"and", "or" or end of input` */
export function describeExpected(expected: readonly string[]): string {
  const phrases = expected.map((item) => CATEGORY_DESCRIPTIONS.get(item) ?? `"${item}"`);
  if (phrases.length <= 1) return phrases[0] ?? 'nothing';
  return `${phrases.slice(0, -1).join(', ')} or ${phrases[phrases.length - 1]}`;
}

const MAX_QUOTED = 40;

/** How the offending token is named in a message: `"and"`, `the string "pro"`, `end of input`. */
export function describeFound(token: { readonly type: string; readonly text: string }): string {
  const text = token.text.length > MAX_QUOTED ? `${token.text.slice(0, MAX_QUOTED)}…` : token.text;
  switch (token.type) {
    case 'end':
      return 'end of input';
    case 'string':
      return `the string ${text}`;
    case 'number':
      return `the number ${text}`;
    case 'date':
      return `the date ${text}`;
    default:
      return `"${text}"`;
  }
}
