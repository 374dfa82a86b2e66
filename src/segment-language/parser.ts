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
import { tokenize } from './lexer.ts';
import { resolveLimits, utf8ByteLength, type SegmentLimits } from './limits.ts';
import { parseCount, parseList, parseValue, parseWindow, type ClauseReader } from './parse-clauses.ts';
import { createParseError, describeFound, type ParseError } from './parse-error.ts';
import { createPath, type PathNode } from './path.ts';
import type { SourcePosition, SourceSpan, SpanTable } from './source-span.ts';
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
  const bytes = text.length > limits.maxSourceBytes ? undefined : utf8ByteLength(text);
  if (bytes === undefined || bytes > limits.maxSourceBytes) {
    const size = bytes === undefined ? `at least ${text.length}` : String(bytes);
    const detail = `the definition is ${size} bytes; the limit is ${limits.maxSourceBytes}`;
    return { ok: false, error: createParseError('segment.too_large', START, detail) };
  }
  return new Parser(tokenize(text, limits), limits, grammar).parse();
}

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
  readonly #reader: ClauseReader;

  constructor(tokens: readonly Token[], limits: SegmentLimits, grammar: Grammar) {
    this.#cursor = new TokenCursor(tokens);
    this.#limits = limits;
    this.#grammar = grammar;
    this.#reader = {
      cursor: this.#cursor,
      limits,
      spanned: (node, start) => this.#spanned(node, start),
      fail: (error) => this.#fail(error),
    };
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
      const values = parseList(this.#reader);
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
    const value = parseValue(this.#reader);
    return value && this.#spanned(createCompare(path, op, value), start);
  }

  #parsePath(): PathNode | undefined {
    const root = this.#cursor.accept('word', 'a path');
    if (root === undefined) return this.#fail(this.#cursor.unexpected());
    const keys: string[] = [];
    // A path is one piece of text: `traits. plan` and `traits .plan` are not paths.
    while (this.#adjacent() && this.#cursor.acceptPunctuation('.')) {
      if (!this.#adjacent()) {
        const detail = 'expected a key right after "." but found a space; a path has no spaces';
        const at = this.#cursor.previousEnd();
        return this.#fail(createParseError('segment.parse_error', at, detail, ['a key']));
      }
      const word = this.#cursor.accept('word', 'a key');
      const key = word?.text ?? this.#cursor.accept('string', 'a key')?.value;
      if (key === undefined) return this.#fail(this.#cursor.unexpected());
      keys.push(key);
    }
    return this.#spanned(createPath(root.text, keys), root.start);
  }

  #parseDid(start: SourcePosition): Expression | undefined {
    const event = this.#cursor.accept('string', 'a string');
    if (event === undefined) {
      return this.#fail(this.#cursor.unexpected('event names are quoted, as in did "Order Completed"'));
    }
    const where = this.#cursor.acceptKeyword('where') ? this.#parseWhere() : null;
    if (where === undefined) return undefined;
    const count = parseCount(this.#reader);
    if (this.#error !== undefined) return undefined;
    const window = parseWindow(this.#reader);
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

  #parseInSegment(start: SourcePosition): Expression | undefined {
    if (!this.#cursor.acceptKeyword('segment')) return this.#fail(this.#cursor.unexpected());
    const slug = this.#cursor.accept('string', 'a string');
    if (slug === undefined)
      return this.#fail(this.#cursor.unexpected('segment slugs are quoted, as in "vip"'));
    return this.#spanned(createInSegment(slug.value), start);
  }

  #adjacent(): boolean {
    return this.#cursor.peek().start.offset === this.#cursor.previousEnd().offset;
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
