import { sql } from 'kysely';
import type { CompareOperator, Literal } from '../../segment-language/index.ts';
import { isoInstantOf } from './iso-instant-sql.ts';
import type { JsonFragments, JsonRef, Sql } from './json-fragments.ts';

const FALSE = sql`(1 = 0)`;
const TRUE = sql`(1 = 1)`;

/**
 * SQL for `compareValue(value, op, literal)` of segments/compare-values.ts, on the JSON value at
 * `ref`. The result may be NULL where the evaluator says false; callers wrap leaves in `truthy`.
 */
export function compileComparison(
  f: JsonFragments,
  ref: JsonRef,
  op: CompareOperator,
  literal: Literal,
): Sql {
  switch (literal.kind) {
    case 'null':
      if (op === '=') return f.isAbsent(ref);
      if (op === '!=') return sql`(NOT ${f.isAbsent(ref)})`;
      return FALSE;
    case 'number':
      return ordered(f.numberOf(ref), op, f.number(literal.value));
    case 'date':
      return ordered(isoInstantOf(f, f.stringOf(ref)), op, f.integer(literal.epochMs));
    case 'boolean':
      if (op === '=') return f.isBoolean(ref, literal.value);
      if (op === '!=') return f.isBoolean(ref, !literal.value);
      return FALSE;
    case 'string':
      return compileString(f, ref, op, literal.value);
  }
}

/** `in (…)`: the `=` of any value. */
export function compileIn(f: JsonFragments, ref: JsonRef, values: readonly Literal[]): Sql {
  const kinds = new Set(values.map((value) => value.kind));
  const parts: Sql[] = [];
  if (kinds.has('null')) parts.push(f.isAbsent(ref));
  // One IN list per type: the value is read once, with the same type test as `=`.
  const numbers = values.flatMap((value) => (value.kind === 'number' ? [f.number(value.value)] : []));
  if (numbers.length > 0) parts.push(sql`(${f.numberOf(ref)} IN (${sql.join(numbers)}))`);
  const strings = values.flatMap((value) => (value.kind === 'string' ? [value.value] : []));
  if (strings.length > 0) parts.push(sql`(${f.stringOf(ref)} IN (${sql.join(strings)}))`);
  const dates = values.flatMap((value) => (value.kind === 'date' ? [f.integer(value.epochMs)] : []));
  if (dates.length > 0) parts.push(sql`(${isoInstantOf(f, f.stringOf(ref))} IN (${sql.join(dates)}))`);
  for (const value of values) if (value.kind === 'boolean') parts.push(f.isBoolean(ref, value.value));
  return parts.length === 0 ? FALSE : sql`(${sql.join(parts, sql` OR `)})`;
}

export function compileExists(f: JsonFragments, ref: JsonRef): Sql {
  return sql`(NOT ${f.isAbsent(ref)})`;
}

function compileString(f: JsonFragments, ref: JsonRef, op: CompareOperator, text: string): Sql {
  switch (op) {
    case '=':
      return sql`(${f.stringOf(ref)} = ${text})`;
    case '!=':
      return sql`(${f.stringOf(ref)} <> ${text})`;
    case 'contains':
      return sql`(${f.contains(f.stringOf(ref), text)} OR ${f.arrayHasString(ref, text)})`;
    case 'starts_with':
      return f.startsWith(f.stringOf(ref), text);
    case '>':
    case '>=':
    case '<':
    case '<=':
      return FALSE;
  }
}

/** Numbers and instants; NULL on either side (a value of another type) compares to NULL. */
function ordered(value: Sql, op: CompareOperator, literal: Sql): Sql {
  switch (op) {
    case '=':
      return sql`(${value} = ${literal})`;
    case '!=':
      return sql`(${value} <> ${literal})`;
    case '>':
      return sql`(${value} > ${literal})`;
    case '>=':
      return sql`(${value} >= ${literal})`;
    case '<':
      return sql`(${value} < ${literal})`;
    case '<=':
      return sql`(${value} <= ${literal})`;
    case 'contains':
    case 'starts_with':
      return FALSE;
  }
}

/** A leaf made strictly boolean, so `not` of a NULL (a missing value) is TRUE as in the evaluator. */
export function truthy(expr: Sql): Sql {
  return sql`coalesce(${expr}, ${FALSE})`;
}

export { FALSE as SQL_FALSE, TRUE as SQL_TRUE };
