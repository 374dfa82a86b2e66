import type { CompareOperator, Literal } from '../segment-language/index.ts';
import { parseIsoInstant } from './iso-instant.ts';

/**
 * The type-aware meaning of one comparison, shared by every in-memory condition (profile traits,
 * computed traits, account traits, event properties, consent). `value` is what the path holds:
 * `undefined` when missing. See README.md "Values and types" for the table; the SQL compilers
 * implement exactly this.
 *
 * - Missing or null: every comparison is false, except `= null` (true) — `!= null` is `exists`.
 * - No coercion: a number literal compares with JSON numbers only, a string with JSON strings,
 *   `true`/`false` with JSON booleans; `"42"` is not 42 and `1` is not `true`.
 * - A date literal compares, by instant, with strings in an ISO 8601 shape (iso-instant.ts).
 * - `contains`: substring of a string, or an element of an array equal to the string.
 * - `starts_with`: prefix of a string (false on arrays).
 * - Arrays and objects equal nothing; they only `exist` (and arrays `contain`).
 * - An operator the validator would refuse for the literal (`"a" > "b"`) is false.
 */
export function compareValue(value: unknown, op: CompareOperator, literal: Literal): boolean {
  if (literal.kind === 'null') {
    const absent = value === undefined || value === null;
    if (op === '=') return absent;
    if (op === '!=') return !absent;
    return false;
  }
  if (value === undefined || value === null) return false;
  switch (literal.kind) {
    case 'number':
      return typeof value === 'number' && ordered(value, op, literal.value);
    case 'date': {
      const instant = typeof value === 'string' ? parseIsoInstant(value) : undefined;
      return instant !== undefined && ordered(instant, op, literal.epochMs);
    }
    case 'boolean':
      return typeof value === 'boolean' && equality(value === literal.value, op);
    case 'string':
      return compareString(value, op, literal.value);
  }
}

/** `in (…)`: equal (`=`) to any of the values; a `null` in the list matches missing and null. */
export function inValues(value: unknown, values: readonly Literal[]): boolean {
  return values.some((literal) => compareValue(value, '=', literal));
}

export function existsValue(value: unknown): boolean {
  return value !== undefined && value !== null;
}

function compareString(value: unknown, op: CompareOperator, literal: string): boolean {
  switch (op) {
    case '=':
    case '!=':
      return typeof value === 'string' && equality(value === literal, op);
    case 'contains':
      if (typeof value === 'string') return value.includes(literal);
      return Array.isArray(value) && value.some((element) => element === literal);
    case 'starts_with':
      return typeof value === 'string' && value.startsWith(literal);
    case '>':
    case '>=':
    case '<':
    case '<=':
      return false;
  }
}

function equality(equal: boolean, op: CompareOperator): boolean {
  if (op === '=') return equal;
  if (op === '!=') return !equal;
  return false;
}

function ordered(value: number, op: CompareOperator, literal: number): boolean {
  switch (op) {
    case '=':
      return value === literal;
    case '!=':
      return value !== literal;
    case '>':
      return value > literal;
    case '>=':
      return value >= literal;
    case '<':
      return value < literal;
    case '<=':
      return value <= literal;
    case 'contains':
    case 'starts_with':
      return false;
  }
}
