import { parseDateText } from './dates.ts';
import { hasKind } from './node-kind.ts';

export interface StringLiteral {
  readonly kind: 'string';
  readonly value: string;
}

export interface NumberLiteral {
  readonly kind: 'number';
  readonly value: number;
}

export interface BooleanLiteral {
  readonly kind: 'boolean';
  readonly value: boolean;
}

export interface NullLiteral {
  readonly kind: 'null';
}

/**
 * A date keeps the text as written (so printing is exact) and the instant it denotes.
 * `dateOnly` dates mean midnight UTC; as the end of `between` they include that whole day.
 */
export interface DateLiteral {
  readonly kind: 'date';
  readonly text: string;
  readonly epochMs: number;
  readonly dateOnly: boolean;
}

export type Literal = StringLiteral | NumberLiteral | BooleanLiteral | NullLiteral | DateLiteral;
export type LiteralKind = Literal['kind'];

export function createStringLiteral(value: string): StringLiteral {
  return Object.freeze({ kind: 'string', value });
}

/** Throws RangeError for NaN and ±Infinity, which the language cannot write. -0 becomes 0. */
export function createNumberLiteral(value: number): NumberLiteral {
  if (!Number.isFinite(value)) throw new RangeError(`a number literal must be finite, got ${value}`);
  return Object.freeze({ kind: 'number', value: value === 0 ? 0 : value });
}

export function createBooleanLiteral(value: boolean): BooleanLiteral {
  return Object.freeze({ kind: 'boolean', value });
}

export function createNullLiteral(): NullLiteral {
  return Object.freeze({ kind: 'null' });
}

/** Throws RangeError for text that is not a valid date; the parser reports those as `segment.invalid_date`. */
export function createDateLiteral(text: string): DateLiteral {
  const parsed = parseDateText(text);
  if (!parsed.ok) throw new RangeError(parsed.reason);
  return Object.freeze({ kind: 'date', text, epochMs: parsed.epochMs, dateOnly: parsed.dateOnly });
}

export function isStringLiteral(value: unknown): value is StringLiteral {
  return hasKind(value, 'string');
}

export function isNumberLiteral(value: unknown): value is NumberLiteral {
  return hasKind(value, 'number');
}

export function isBooleanLiteral(value: unknown): value is BooleanLiteral {
  return hasKind(value, 'boolean');
}

export function isNullLiteral(value: unknown): value is NullLiteral {
  return hasKind(value, 'null');
}

export function isDateLiteral(value: unknown): value is DateLiteral {
  return hasKind(value, 'date');
}

export function isLiteral(value: unknown): value is Literal {
  return (
    isStringLiteral(value) ||
    isNumberLiteral(value) ||
    isBooleanLiteral(value) ||
    isNullLiteral(value) ||
    isDateLiteral(value)
  );
}
