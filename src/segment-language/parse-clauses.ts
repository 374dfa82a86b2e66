import { createCount, type CountNode } from './count.ts';
import type { SegmentLimits } from './limits.ts';
import {
  createBooleanLiteral,
  createDateLiteral,
  createNullLiteral,
  createNumberLiteral,
  createStringLiteral,
  type DateLiteral,
  type Literal,
} from './literal.ts';
import { createParseError, type ParseError } from './parse-error.ts';
import type { SourcePosition } from './source-span.ts';
import {
  createBetweenWindow,
  createLastWindow,
  createSinceWindow,
  type TimeWindow,
  type WindowUnit,
} from './time-window.ts';
import type { TokenCursor } from './token-cursor.ts';
import type { Token } from './tokens.ts';

/**
 * The parser's clauses that never contain an expression (values, lists, counts, windows), kept
 * apart from the recursive expression grammar in parser.ts. Each returns its node, or undefined
 * when absent or after reporting an error through `reader.fail`.
 */
export interface ClauseReader {
  readonly cursor: TokenCursor;
  readonly limits: SegmentLimits;
  /** Records the node's span, from `start` to the end of the last token read, and returns it. */
  spanned<T extends object>(node: T, start: SourcePosition): T;
  fail(error: ParseError): undefined;
}

const UNITS: ReadonlyMap<string, WindowUnit> = new Map([
  ['minute', 'minute'],
  ['minutes', 'minute'],
  ['hour', 'hour'],
  ['hours', 'hour'],
  ['day', 'day'],
  ['days', 'day'],
  ['week', 'week'],
  ['weeks', 'week'],
  ['month', 'month'],
  ['months', 'month'],
]);
const UNIT_WORDS = [...UNITS.keys()];

export function parseValue(reader: ClauseReader): Literal | undefined {
  const token = reader.cursor.peek();
  const literal = literalOf(token);
  if (literal === undefined) {
    reader.cursor.note('a value');
    const bareWord = token.type === 'word' && !['and', 'or', 'not'].includes(token.lower);
    // `==` reads as `=` followed by a second `=` where the value should be.
    const doubled = token.type === 'operator' && token.text === '=';
    const hint = bareWord
      ? 'text is written in double quotes'
      : doubled
        ? 'equality is a single `=`'
        : undefined;
    return reader.fail(reader.cursor.unexpected(hint));
  }
  reader.cursor.skip();
  return reader.spanned(literal, token.start);
}

export function parseList(reader: ClauseReader): readonly [Literal, ...Literal[]] | undefined {
  if (!reader.cursor.acceptPunctuation('(')) return reader.fail(reader.cursor.unexpected());
  const values: Literal[] = [];
  do {
    if (values.length >= reader.limits.maxListLength) {
      const detail = `a list can hold at most ${reader.limits.maxListLength} values`;
      return reader.fail(createParseError('segment.list_too_long', reader.cursor.peek().start, detail));
    }
    const value = parseValue(reader);
    if (value === undefined) return undefined;
    values.push(value);
  } while (reader.cursor.acceptPunctuation(','));
  if (!reader.cursor.acceptPunctuation(')')) return reader.fail(reader.cursor.unexpected());
  return values as unknown as readonly [Literal, ...Literal[]];
}

export function parseCount(reader: ClauseReader): CountNode | undefined {
  const start = reader.cursor.peek().start;
  let op: CountNode['op'];
  if (reader.cursor.acceptKeyword('at', ['at least', 'at most'])) {
    const bound = reader.cursor.acceptOneOfKeywords(['least', 'most']);
    if (bound === undefined) return reader.fail(reader.cursor.unexpected());
    op = bound === 'least' ? 'at_least' : 'at_most';
  } else if (reader.cursor.acceptKeyword('exactly')) {
    op = 'exactly';
  } else {
    return undefined;
  }
  const n = reader.cursor.accept('number', 'a number');
  if (n === undefined) return reader.fail(reader.cursor.unexpected());
  if (reader.cursor.acceptOneOfKeywords(['times', 'time']) === undefined) {
    return reader.fail(reader.cursor.unexpected());
  }
  return reader.spanned(createCount(op, n.value), start);
}

export function parseWindow(reader: ClauseReader): TimeWindow | undefined {
  const start = reader.cursor.peek().start;
  if (reader.cursor.acceptKeyword('in', ['in last'])) {
    if (!reader.cursor.acceptKeyword('last')) return reader.fail(reader.cursor.unexpected());
    const amount = reader.cursor.accept('number', 'a number');
    if (amount === undefined) return reader.fail(reader.cursor.unexpected());
    const unit = reader.cursor.acceptOneOfKeywords(UNIT_WORDS, 'a time unit');
    if (unit === undefined) return reader.fail(reader.cursor.unexpected());
    return reader.spanned(createLastWindow(amount.value, UNITS.get(unit) as WindowUnit), start);
  }
  if (reader.cursor.acceptKeyword('since')) {
    const date = parseDate(reader);
    return date && reader.spanned(createSinceWindow(date), start);
  }
  if (reader.cursor.acceptKeyword('between')) {
    const from = parseDate(reader);
    if (from === undefined) return undefined;
    if (!reader.cursor.acceptKeyword('and')) return reader.fail(reader.cursor.unexpected());
    const to = parseDate(reader);
    return to && reader.spanned(createBetweenWindow(from, to), start);
  }
  return undefined;
}

export function parseDate(reader: ClauseReader): DateLiteral | undefined {
  const token = reader.cursor.accept('date', 'a date');
  if (token === undefined) {
    const quoted = reader.cursor.peek().type === 'string';
    return reader.fail(reader.cursor.unexpected(quoted ? 'dates are written without quotes' : undefined));
  }
  return reader.spanned(createDateLiteral(token.text), token.start);
}

function literalOf(token: Token): Literal | undefined {
  switch (token.type) {
    case 'string':
      return createStringLiteral(token.value);
    case 'number':
      return createNumberLiteral(token.value);
    case 'date':
      return createDateLiteral(token.text);
    case 'word':
      if (token.lower === 'true' || token.lower === 'false')
        return createBooleanLiteral(token.lower === 'true');
      return token.lower === 'null' ? createNullLiteral() : undefined;
    case 'punctuation':
    case 'operator':
    case 'end':
    case 'error':
      return undefined;
  }
}
