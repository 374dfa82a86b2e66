import type { ParseError } from './parse-error.ts';
import type { SourcePosition } from './source-span.ts';

interface TokenBase {
  readonly start: SourcePosition;
  readonly end: SourcePosition;
  /** The source text of the token. */
  readonly text: string;
}

/** Identifiers and keywords alike: keywords are recognised by the parser, case-insensitively, by context. */
export interface WordToken extends TokenBase {
  readonly type: 'word';
  readonly lower: string;
}

export interface StringToken extends TokenBase {
  readonly type: 'string';
  readonly value: string;
}

export interface NumberToken extends TokenBase {
  readonly type: 'number';
  readonly value: number;
}

export interface DateToken extends TokenBase {
  readonly type: 'date';
}

export type Punctuation = '(' | ')' | ',' | '.';
export type OperatorSymbol = '=' | '!=' | '>' | '>=' | '<' | '<=';

export interface PunctuationToken extends TokenBase {
  readonly type: 'punctuation';
  readonly text: Punctuation;
}

export interface OperatorToken extends TokenBase {
  readonly type: 'operator';
  readonly text: OperatorSymbol;
}

export interface EndToken extends TokenBase {
  readonly type: 'end';
}

/** The lexer stops at the first bad character; the parser reports it when it gets there. */
export interface ErrorToken extends TokenBase {
  readonly type: 'error';
  readonly error: ParseError;
}

export type Token =
  | WordToken
  | StringToken
  | NumberToken
  | DateToken
  | PunctuationToken
  | OperatorToken
  | EndToken
  | ErrorToken;
