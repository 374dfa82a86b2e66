import { parseDateText } from './dates.ts';
import type { SegmentErrorCode } from './error-codes.ts';
import type { SegmentLimits } from './limits.ts';
import { createParseError } from './parse-error.ts';
import type { SourcePosition } from './source-span.ts';
import { decodeEscape } from './string-syntax.ts';
import type { ErrorToken, OperatorSymbol, Punctuation, Token } from './tokens.ts';

const WORD = /[A-Za-z_][A-Za-z0-9_]*/y;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const DATE = /[0-9]{4}-[0-9]{2}-[0-9]{2}(?:T[0-9:.]*(?:Z|[+-][0-9]{2}:[0-9]{2})?)?/y;
/** Characters that may not touch the end of a number or date: `30days`, `1.`, `007`. */
const NUMBER_TAIL = /[A-Za-z0-9_.]*/y;
const OPERATORS: readonly OperatorSymbol[] = ['!=', '>=', '<=', '=', '>', '<'];
const PUNCTUATION = new Set<string>(['(', ')', ',', '.']);

/**
 * Splits a definition into tokens. The result always ends with an `end` token, or with an `error`
 * token at the first character that cannot start a token; the parser reports that error only if
 * it reaches it, so the first problem in reading order is the one reported.
 */
export function tokenize(text: string, limits: SegmentLimits): readonly Token[] {
  return new Lexer(text, limits).run();
}

class Lexer {
  readonly #text: string;
  readonly #limits: SegmentLimits;
  readonly #tokens: Token[] = [];
  #offset = 0;
  #line = 1;
  #column = 1;

  constructor(text: string, limits: SegmentLimits) {
    this.#text = text;
    this.#limits = limits;
  }

  run(): readonly Token[] {
    for (;;) {
      this.#skipWhitespace();
      const start = this.#position();
      if (this.#offset >= this.#text.length) {
        this.#tokens.push({ type: 'end', start, end: start, text: '' });
        return this.#tokens;
      }
      const token = this.#next(start);
      this.#tokens.push(token);
      if (token.type === 'error') return this.#tokens;
    }
  }

  #next(start: SourcePosition): Token {
    const char = this.#text[this.#offset] as string;
    if (char === '"') return this.#string(start);
    const word = this.#match(WORD);
    if (word !== undefined) {
      return { type: 'word', text: word, lower: word.toLowerCase(), start, end: this.#advance(word) };
    }
    const date = this.#match(DATE);
    if (date !== undefined) return this.#date(start, date);
    const number = this.#match(NUMBER);
    if (number !== undefined) return this.#number(start, number);
    if (PUNCTUATION.has(char)) {
      return { type: 'punctuation', text: char as Punctuation, start, end: this.#advance(char) };
    }
    const operator = OPERATORS.find((symbol) => this.#text.startsWith(symbol, this.#offset));
    if (operator !== undefined) {
      return { type: 'operator', text: operator, start, end: this.#advance(operator) };
    }
    return this.#unexpectedCharacter(start);
  }

  #string(start: SourcePosition): Token {
    let value = '';
    let index = this.#offset + 1;
    for (;;) {
      if (value.length > this.#limits.maxStringLength) {
        const detail = `string is longer than ${this.#limits.maxStringLength} characters`;
        return this.#error('segment.string_too_long', start, detail);
      }
      const code = this.#text.charCodeAt(index);
      if (Number.isNaN(code) || code === 0x0a || code === 0x0d) {
        const detail = 'unterminated string: close it with " on the same line (write a line break as \\n)';
        return this.#error('segment.parse_error', start, detail, ['"']);
      }
      if (code === 0x22) break;
      if (code === 0x5c) {
        const escape = decodeEscape(this.#text, index);
        if (!escape.ok) return this.#error('segment.parse_error', this.#shifted(start, index), escape.reason);
        value += escape.value;
        index += escape.length;
      } else if (code < 0x20) {
        const detail = `control character ${codePointName(code)} in a string; write it as an escape such as \\t`;
        return this.#error('segment.parse_error', this.#shifted(start, index), detail);
      } else {
        value += this.#text[index] as string;
        index += 1;
      }
    }
    const text = this.#text.slice(this.#offset, index + 1);
    return { type: 'string', text, value, start, end: this.#advance(text) };
  }

  #number(start: SourcePosition, text: string): Token {
    const malformed = this.#malformedTail(start, text);
    if (malformed !== undefined) return malformed;
    const value = Number(text);
    if (!Number.isFinite(value)) {
      return this.#error('segment.invalid_number', start, `number ${text} is out of range`);
    }
    return { type: 'number', text, value: value === 0 ? 0 : value, start, end: this.#advance(text) };
  }

  #date(start: SourcePosition, text: string): Token {
    const malformed = this.#malformedTail(start, text);
    if (malformed !== undefined) return malformed;
    const parsed = parseDateText(text);
    if (!parsed.ok) return this.#error('segment.invalid_date', start, parsed.reason);
    return { type: 'date', text, start, end: this.#advance(text) };
  }

  #malformedTail(start: SourcePosition, text: string): ErrorToken | undefined {
    NUMBER_TAIL.lastIndex = this.#offset + text.length;
    const tail = NUMBER_TAIL.exec(this.#text)?.[0] ?? '';
    if (tail === '') return undefined;
    const detail = `malformed number or date "${text}${tail}"`;
    return this.#error('segment.parse_error', start, detail);
  }

  #unexpectedCharacter(start: SourcePosition): ErrorToken {
    const codePoint = this.#text.codePointAt(this.#offset) as number;
    const shown = codePoint >= 0x20 && codePoint !== 0x7f ? `"${String.fromCodePoint(codePoint)}"` : '';
    let detail = `unexpected character ${shown || codePointName(codePoint)}`;
    const previous = this.#tokens[this.#tokens.length - 1];
    const next = this.#text.slice(this.#offset, this.#offset + 2);
    if (codePoint === 0x27) detail += '; strings use double quotes';
    else if (next === '&&') detail += '; write `and`';
    else if (next === '||') detail += '; write `or`';
    else if (codePoint === 0x7e) detail += '; for text matching use contains, starts_with or ends_with';
    else if (previous?.type === 'punctuation' && previous.text === '.') {
      detail += '; quote keys that are not plain names, as in traits."first name"';
    }
    return this.#error('segment.parse_error', start, detail);
  }

  #skipWhitespace(): void {
    for (;;) {
      const char = this.#text[this.#offset];
      if (char === ' ' || char === '\t') {
        this.#offset += 1;
        this.#column += 1;
      } else if (char === '\n' || char === '\r') {
        // \r\n counts as one line break.
        const width = char === '\r' && this.#text[this.#offset + 1] === '\n' ? 2 : 1;
        this.#offset += width;
        this.#line += 1;
        this.#column = 1;
      } else {
        return;
      }
    }
  }

  #match(pattern: RegExp): string | undefined {
    pattern.lastIndex = this.#offset;
    return pattern.exec(this.#text)?.[0];
  }

  /** Moves past `text`, which never contains a line break, and returns the position after it. */
  #advance(text: string): SourcePosition {
    this.#offset += text.length;
    this.#column += text.length;
    return this.#position();
  }

  #position(): SourcePosition {
    return { offset: this.#offset, line: this.#line, column: this.#column };
  }

  #shifted(start: SourcePosition, offset: number): SourcePosition {
    return { offset, line: start.line, column: start.column + (offset - start.offset) };
  }

  #error(
    code: SegmentErrorCode,
    at: SourcePosition,
    detail: string,
    expected: readonly string[] = [],
  ): ErrorToken {
    const error = createParseError(code, at, detail, expected);
    return { type: 'error', error, start: at, end: at, text: this.#text.slice(at.offset, at.offset + 1) };
  }
}

function codePointName(code: number): string {
  return `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
}
