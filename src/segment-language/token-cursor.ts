import type { SegmentErrorCode } from './error-codes.ts';
import { createParseError, describeExpected, describeFound, type ParseError } from './parse-error.ts';
import type { SourcePosition } from './source-span.ts';
import type { OperatorToken, Token, WordToken } from './tokens.ts';

/**
 * Reads tokens for the parser and remembers every alternative tried at the current token, so a
 * syntax error can say exactly what would have been accepted there. The parser never backtracks,
 * so the alternatives recorded at the failing token are the complete list.
 */
export class TokenCursor {
  readonly #tokens: readonly Token[];
  #index = 0;
  #expectedAt = -1;
  #expected: string[] = [];

  constructor(tokens: readonly Token[]) {
    this.#tokens = tokens;
  }

  peek(): Token {
    // The token list always ends with an end or error token, and the cursor never moves past it.
    return this.#tokens[this.#index] as Token;
  }

  /** Where the previous token ended: the end of the node just parsed. */
  previousEnd(): SourcePosition {
    const previous = this.#tokens[this.#index - 1] ?? this.peek();
    return previous.end;
  }

  /** Consumes the current token if it is the keyword `keyword` (case-insensitive). */
  acceptKeyword(keyword: string, labels: readonly string[] = [keyword]): WordToken | undefined {
    const token = this.peek();
    if (token.type === 'word' && token.lower === keyword) return this.#take(token);
    this.#expect(...labels);
    return undefined;
  }

  /** Consumes the current token if it is one of `keywords`; returns its lower-case spelling. */
  acceptOneOfKeywords(keywords: readonly string[], label?: string): string | undefined {
    const token = this.peek();
    if (token.type === 'word' && keywords.includes(token.lower)) return this.#take(token).lower;
    if (label === undefined) this.#expect(...keywords);
    else this.#expect(label);
    return undefined;
  }

  acceptPunctuation(symbol: '(' | ')' | ',' | '.'): Token | undefined {
    const token = this.peek();
    if (token.type === 'punctuation' && token.text === symbol) return this.#take(token);
    this.#expect(symbol);
    return undefined;
  }

  acceptOperator(): OperatorToken | undefined {
    const token = this.peek();
    if (token.type === 'operator') return this.#take(token);
    this.#expect('=', '!=', '>', '>=', '<', '<=');
    return undefined;
  }

  /** Consumes the current token if it has `type`; `label` names the category in error messages. */
  accept<T extends Token['type']>(type: T, label: string): Extract<Token, { type: T }> | undefined {
    const token = this.peek();
    if (token.type === type) return this.#take(token as Extract<Token, { type: T }>);
    this.#expect(label);
    return undefined;
  }

  /** Consumes the current token, whatever it is; for callers that inspected it with `peek`. */
  skip(): Token {
    return this.#take(this.peek());
  }

  /** Records an alternative that the caller checked by itself with `peek`. */
  note(label: string): void {
    this.#expect(label);
  }

  atEnd(): boolean {
    if (this.peek().type === 'end') return true;
    this.#expect('end of input');
    return false;
  }

  /**
   * The error for the current token: the lexer's own error if the parser has reached a bad
   * character, otherwise "expected … but found …" listing every alternative tried here.
   */
  unexpected(hint?: string): ParseError {
    const found = describeFound(this.peek());
    const detail = `expected ${describeExpected(this.#expectedHere())} but found ${found}`;
    return this.errorHere('segment.parse_error', hint === undefined ? detail : `${detail}; ${hint}`);
  }

  /** An error at the current token with a custom code and wording, still listing what was expected. */
  errorHere(code: SegmentErrorCode, detail: string): ParseError {
    const token = this.peek();
    if (token.type === 'error') return token.error;
    return createParseError(code, token.start, detail, this.#expectedHere());
  }

  #expectedHere(): readonly string[] {
    return this.#expectedAt === this.#index ? this.#expected : [];
  }

  #take<T extends Token>(token: T): T {
    this.#index += 1;
    return token;
  }

  #expect(...labels: string[]): void {
    if (this.#expectedAt !== this.#index) {
      this.#expectedAt = this.#index;
      this.#expected = [];
    }
    for (const label of labels) {
      if (!this.#expected.includes(label)) this.#expected.push(label);
    }
  }
}
