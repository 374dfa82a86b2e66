import {
  createAnd,
  createCompare,
  createDid,
  createExists,
  createIn,
  createInSegment,
  createNot,
  createOr,
  type CompareOperator,
  type Expression,
  type Operands,
} from './ast.ts';
import { createCount, type CountNode } from './count.ts';
import { tokenize } from './lexer.ts';
import { resolveLimits, utf8ByteLength, type SegmentLimits } from './limits.ts';
import {
  createBooleanLiteral,
  createDateLiteral,
  createNullLiteral,
  createNumberLiteral,
  createStringLiteral,
  type DateLiteral,
  type Literal,
} from './literal.ts';
import { createParseError, describeFound, type ParseError } from './parse-error.ts';
import { createPath, type PathNode } from './path.ts';
import type { SourcePosition, SourceSpan, SpanTable } from './source-span.ts';
import {
  createBetweenWindow,
  createLastWindow,
  createSinceWindow,
  type TimeWindow,
  type WindowUnit,
} from './time-window.ts';
import { TokenCursor } from './token-cursor.ts';
import type { Token } from './tokens.ts';

export type ParseResult =
  | { readonly ok: true; readonly ast: Expression; readonly spans: SpanTable }
  | { readonly ok: false; readonly error: ParseError };

export interface ParseOptions {
  readonly limits?: Partial<SegmentLimits>;
}

/** A segment definition: conditions on a profile, including `did …` and `in segment …`. */
export function parseSegmentDefinition(text: string, options: ParseOptions = {}): ParseResult {
  return parseText(text, 'segment', options);
}

/** A destination's event filter: conditions on one event; `did` and `in segment` are not allowed. */
export function parseEventFilter(text: string, options: ParseOptions = {}): ParseResult {
  return parseText(text, 'event_filter', options);
}

/** Which forms the grammar allows where the parser is: `where (…)` reads one event, like a filter. */
type Grammar = 'segment' | 'event_filter' | 'where';

const START = Object.freeze({ offset: 0, line: 1, column: 1 });

function parseText(text: string, grammar: Grammar, options: ParseOptions): ParseResult {
  const limits = resolveLimits(options.limits);
  // Every UTF-16 unit is at least one UTF-8 byte, so a long text is refused without being scanned.
  const bytes = text.length > limits.maxSourceBytes ? text.length : utf8ByteLength(text);
  if (bytes > limits.maxSourceBytes) {
    const detail = `the definition is ${text.length > limits.maxSourceBytes ? 'more than ' : ''}${bytes} bytes; the limit is ${limits.maxSourceBytes}`;
    return { ok: false, error: createParseError('segment.too_large', START, detail) };
  }
  return new Parser(tokenize(text, limits), limits, grammar).parse();
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

/** Words that start a form of their own and so can never be the root of a path. */
const RESERVED_AT_START = new Set(['not', 'did', 'in']);

/**
 * Recursive descent over the grammar in README.md. Each method returns its node, or undefined
 * after recording the first error in #error; nesting is counted before each recursive step so
 * that hostile input fails with segment.too_deep long before the call stack is at risk.
 */
class Parser {
  readonly #cursor: TokenCursor;
  readonly #limits: SegmentLimits;
  readonly #spans = new Map<object, SourceSpan>();
  #grammar: Grammar;
  #nesting = 0;
  #error: ParseError | undefined;

  constructor(tokens: readonly Token[], limits: SegmentLimits, grammar: Grammar) {
    this.#cursor = new TokenCursor(tokens);
    this.#limits = limits;
    this.#grammar = grammar;
  }

  parse(): ParseResult {
    const ast = this.#parseOr();
    if (ast !== undefined && !this.#cursor.atEnd()) this.#fail(this.#cursor.unexpected());
    if (ast === undefined || this.#error !== undefined) {
      return { ok: false, error: this.#error ?? this.#cursor.unexpected() };
    }
    return { ok: true, ast, spans: this.#spans };
  }

  #parseOr(): Expression | undefined {
    return this.#parseChain('or', () => this.#parseAnd(), createOr);
  }

  #parseAnd(): Expression | undefined {
    return this.#parseChain('and', () => this.#parseUnary(), createAnd);
  }

  #parseChain(
    keyword: 'and' | 'or',
    parseOperand: () => Expression | undefined,
    create: (operands: Operands) => Expression,
  ): Expression | undefined {
    const start = this.#cursor.peek().start;
    const first = parseOperand();
    if (first === undefined) return undefined;
    const operands: Expression[] = [first];
    while (this.#cursor.acceptKeyword(keyword)) {
      const next = parseOperand();
      if (next === undefined) return undefined;
      operands.push(next);
    }
    if (operands.length === 1) return first;
    return this.#spanned(create(operands as unknown as Operands), start);
  }

  /** `not not … x` is read in a loop rather than by recursion; each `not` is one nesting level. */
  #parseUnary(): Expression | undefined {
    const nots: SourcePosition[] = [];
    for (let token = this.#cursor.acceptKeyword('not'); token; token = this.#cursor.acceptKeyword('not')) {
      if (!this.#enterNesting(token.start)) return undefined;
      nots.push(token.start);
    }
    let expression = this.#parsePrimary();
    this.#nesting -= nots.length;
    for (let i = nots.length - 1; i >= 0 && expression !== undefined; i--) {
      expression = this.#spanned(createNot(expression), nots[i] as SourcePosition);
    }
    return expression;
  }

  #parsePrimary(): Expression | undefined {
    const open = this.#cursor.acceptPunctuation('(');
    if (open !== undefined) return this.#parseGroup(open.start);
    if (this.#grammar === 'segment') {
      const did = this.#cursor.acceptKeyword('did');
      if (did !== undefined) return this.#parseDid(did.start);
      const inSegment = this.#cursor.acceptKeyword('in', ['in segment']);
      if (inSegment !== undefined) return this.#parseInSegment(inSegment.start);
    }
    const token = this.#cursor.peek();
    if (token.type === 'word' && !RESERVED_AT_START.has(token.lower)) return this.#parseCondition();
    this.#cursor.note('a path');
    if (token.type === 'word') {
      const form = token.lower === 'in' ? '"in segment"' : describeFound(token);
      const where = this.#grammar === 'where' ? 'inside a did … where (…) clause' : 'in an event filter';
      return this.#fail(this.#cursor.errorHere('segment.not_allowed', `${form} is not allowed ${where}`));
    }
    return this.#fail(this.#cursor.unexpected());
  }

  /** The body of `( … )` or `where ( … )`, after the opening parenthesis. */
  #parseGroup(openedAt: SourcePosition): Expression | undefined {
    if (!this.#enterNesting(openedAt)) return undefined;
    const inner = this.#parseOr();
    this.#nesting -= 1;
    if (inner === undefined) return undefined;
    if (!this.#cursor.acceptPunctuation(')')) return this.#fail(this.#cursor.unexpected());
    return inner;
  }

  #parseCondition(): Expression | undefined {
    const path = this.#parsePath();
    if (path === undefined) return undefined;
    const start = (this.#spans.get(path) as SourceSpan).start;
    const operator = this.#cursor.acceptOperator();
    if (operator !== undefined) return this.#parseComparison(path, operator.text, start);
    if (this.#cursor.acceptKeyword('in')) {
      const values = this.#parseList();
      return values && this.#spanned(createIn(path, values), start);
    }
    const wordOperator = this.#cursor.acceptOneOfKeywords(['contains', 'starts_with']);
    if (wordOperator !== undefined) {
      return this.#parseComparison(path, wordOperator as CompareOperator, start);
    }
    if (this.#cursor.acceptKeyword('exists')) return this.#spanned(createExists(path), start);
    const next = this.#cursor.peek();
    const misplacedNot = next.type === 'word' && next.lower === 'not';
    const hint = misplacedNot ? '"not" goes before the condition, as in not traits.email exists' : undefined;
    return this.#fail(this.#cursor.unexpected(hint));
  }

  #parseComparison(path: PathNode, op: CompareOperator, start: SourcePosition): Expression | undefined {
    const value = this.#parseValue();
    return value && this.#spanned(createCompare(path, op, value), start);
  }

  #parsePath(): PathNode | undefined {
    const root = this.#cursor.accept('word', 'a path');
    if (root === undefined) return this.#fail(this.#cursor.unexpected());
    const keys: string[] = [];
    while (this.#cursor.acceptPunctuation('.')) {
      const word = this.#cursor.accept('word', 'a key');
      const key = word?.text ?? this.#cursor.accept('string', 'a key')?.value;
      if (key === undefined) return this.#fail(this.#cursor.unexpected());
      keys.push(key);
    }
    return this.#spanned(createPath(root.text, keys), root.start);
  }

  #parseValue(): Literal | undefined {
    const token = this.#cursor.peek();
    const literal = literalOf(token);
    if (literal === undefined) {
      this.#cursor.note('a value');
      const bareWord = token.type === 'word' && !['and', 'or', 'not'].includes(token.lower);
      return this.#fail(this.#cursor.unexpected(bareWord ? 'text is written in double quotes' : undefined));
    }
    this.#cursor.skip();
    return this.#spanned(literal, token.start);
  }

  #parseList(): readonly [Literal, ...Literal[]] | undefined {
    if (!this.#cursor.acceptPunctuation('(')) return this.#fail(this.#cursor.unexpected());
    const values: Literal[] = [];
    do {
      if (values.length >= this.#limits.maxListLength) {
        const detail = `a list can hold at most ${this.#limits.maxListLength} values`;
        return this.#fail(createParseError('segment.list_too_long', this.#cursor.peek().start, detail));
      }
      const value = this.#parseValue();
      if (value === undefined) return undefined;
      values.push(value);
    } while (this.#cursor.acceptPunctuation(','));
    if (!this.#cursor.acceptPunctuation(')')) return this.#fail(this.#cursor.unexpected());
    return values as unknown as readonly [Literal, ...Literal[]];
  }

  #parseDid(start: SourcePosition): Expression | undefined {
    const event = this.#cursor.accept('string', 'a string');
    if (event === undefined) {
      return this.#fail(this.#cursor.unexpected('event names are quoted, as in did "Order Completed"'));
    }
    const where = this.#cursor.acceptKeyword('where') ? this.#parseWhere() : null;
    if (where === undefined) return undefined;
    const count = this.#parseCount();
    if (this.#error !== undefined) return undefined;
    const window = this.#parseWindow();
    if (this.#error !== undefined) return undefined;
    return this.#spanned(createDid(event.value, { where, count, window }), start);
  }

  /** `where ( … )`: the parentheses are required, so the clause never captures a following `and`. */
  #parseWhere(): Expression | undefined {
    const open = this.#cursor.acceptPunctuation('(');
    if (open === undefined) {
      return this.#fail(this.#cursor.unexpected('a where clause is parenthesized: where (properties.x = 1)'));
    }
    const outer = this.#grammar;
    this.#grammar = 'where';
    const inner = this.#parseGroup(open.start);
    this.#grammar = outer;
    return inner;
  }

  #parseCount(): CountNode | undefined {
    const start = this.#cursor.peek().start;
    let op: CountNode['op'];
    if (this.#cursor.acceptKeyword('at', ['at least', 'at most'])) {
      const bound = this.#cursor.acceptOneOfKeywords(['least', 'most']);
      if (bound === undefined) return this.#fail(this.#cursor.unexpected());
      op = bound === 'least' ? 'at_least' : 'at_most';
    } else if (this.#cursor.acceptKeyword('exactly')) {
      op = 'exactly';
    } else {
      return undefined;
    }
    const n = this.#cursor.accept('number', 'a number');
    if (n === undefined) return this.#fail(this.#cursor.unexpected());
    if (this.#cursor.acceptOneOfKeywords(['times', 'time']) === undefined) {
      return this.#fail(this.#cursor.unexpected());
    }
    return this.#spanned(createCount(op, n.value), start);
  }

  #parseWindow(): TimeWindow | undefined {
    const start = this.#cursor.peek().start;
    if (this.#cursor.acceptKeyword('in', ['in last'])) {
      if (!this.#cursor.acceptKeyword('last')) return this.#fail(this.#cursor.unexpected());
      const amount = this.#cursor.accept('number', 'a number');
      if (amount === undefined) return this.#fail(this.#cursor.unexpected());
      const unit = this.#cursor.acceptOneOfKeywords(UNIT_WORDS, 'a time unit');
      if (unit === undefined) return this.#fail(this.#cursor.unexpected());
      return this.#spanned(createLastWindow(amount.value, UNITS.get(unit) as WindowUnit), start);
    }
    if (this.#cursor.acceptKeyword('since')) {
      const date = this.#parseDate();
      return date && this.#spanned(createSinceWindow(date), start);
    }
    if (this.#cursor.acceptKeyword('between')) {
      const from = this.#parseDate();
      if (from === undefined) return undefined;
      if (!this.#cursor.acceptKeyword('and')) return this.#fail(this.#cursor.unexpected());
      const to = this.#parseDate();
      return to && this.#spanned(createBetweenWindow(from, to), start);
    }
    return undefined;
  }

  #parseDate(): DateLiteral | undefined {
    const token = this.#cursor.accept('date', 'a date');
    if (token === undefined) {
      const quoted = this.#cursor.peek().type === 'string';
      return this.#fail(this.#cursor.unexpected(quoted ? 'dates are written without quotes' : undefined));
    }
    return this.#spanned(createDateLiteral(token.text), token.start);
  }

  #parseInSegment(start: SourcePosition): Expression | undefined {
    if (!this.#cursor.acceptKeyword('segment')) return this.#fail(this.#cursor.unexpected());
    const slug = this.#cursor.accept('string', 'a string');
    if (slug === undefined)
      return this.#fail(this.#cursor.unexpected('segment slugs are quoted, as in "vip"'));
    return this.#spanned(createInSegment(slug.value), start);
  }

  #enterNesting(at: SourcePosition): boolean {
    if (this.#nesting >= this.#limits.maxNesting) {
      const detail = `nesting is deeper than ${this.#limits.maxNesting} levels of parentheses, not and where`;
      this.#fail(createParseError('segment.too_deep', at, detail));
      return false;
    }
    this.#nesting += 1;
    return true;
  }

  #spanned<T extends object>(node: T, start: SourcePosition): T {
    this.#spans.set(node, { start, end: this.#cursor.previousEnd() });
    return node;
  }

  #fail(error: ParseError): undefined {
    this.#error ??= error;
    return undefined;
  }
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
    default:
      return undefined;
  }
}
