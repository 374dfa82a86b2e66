import type { RawBuilder } from 'kysely';
import type { SqlDialectName } from '../sql-dialect.ts';
import { postgresJsonFragments } from './postgres-json-fragments.ts';
import { sqliteJsonFragments } from './sqlite-json-fragments.ts';

/** A SQL expression of unknown result type, always built from fixed text and bound values. */
export type Sql = RawBuilder<unknown>;

/**
 * A JSON value inside a document: `doc` is a document expression made by `document`,
 * `lateralDocument`, `booleanDocument` or `nullDocument`, `keys` the object keys below its root.
 * Keys are bound parameters on both dialects; they never become SQL text.
 */
export interface JsonRef {
  readonly doc: Sql;
  readonly keys: readonly string[];
}

/**
 * What the segment compiler needs from a dialect to read JSON kept as TEXT. Every predicate is
 * TRUE or FALSE/NULL (callers wrap leaves in `truthy`); every value accessor is NULL unless the
 * JSON value has that type, so no comparison ever coerces a value of another type.
 */
export interface JsonFragments {
  readonly dialect: SqlDialectName;
  /** A TEXT column of JSON as a document, parsed where it is read. */
  document(text: Sql): Sql;
  /**
   * A join that parses a TEXT column of JSON once per row, for documents many conditions read
   * (`alias.doc` is the document); null when the dialect reads text directly.
   */
  lateralDocument(text: Sql, alias: Sql): Sql | null;
  /** A missing document (roots of other scopes). */
  readonly nullDocument: Sql;
  /** A consent row's 0/1 column as the document `true`, `false`, or missing without a row. */
  booleanDocument(column: Sql): Sql;
  /** Missing, or JSON null. */
  isAbsent(ref: JsonRef): Sql;
  /** The number, or NULL when the value is not a JSON number. */
  numberOf(ref: JsonRef): Sql;
  /** The string, or NULL when the value is not a JSON string. */
  stringOf(ref: JsonRef): Sql;
  /** The value is the JSON boolean `value`. */
  isBoolean(ref: JsonRef, value: boolean): Sql;
  /** The value is an array with a top-level string element equal to `text`. */
  arrayHasString(ref: JsonRef, text: string): Sql;
  /** `text` occurs in the string expression (case-sensitive; the empty string always does). */
  contains(stringExpr: Sql, text: string): Sql;
  startsWith(stringExpr: Sql, text: string): Sql;
  /** A bound number compared as a double. */
  number(value: number): Sql;
  /** A bound whole number compared with BIGINT columns and counts. */
  integer(value: number): Sql;
  /** An integer cast of a string of digits (for the ISO date arithmetic). */
  toInteger(expr: Sql): Sql;
  /** Whether a string has the shape of an ISO instant (iso-instant.ts); NULL input gives NULL. */
  isoShape(stringExpr: Sql): Sql;
  /** Digits after the `.` of an ISO instant of the right shape ('' when none). */
  isoFraction(stringExpr: Sql): Sql;
  /** The zone of an ISO instant of the right shape: '', 'Z' or '±hh:mm'. */
  isoZone(stringExpr: Sql): Sql;
}

export function jsonFragments(dialect: SqlDialectName): JsonFragments {
  return dialect === 'sqlite' ? sqliteJsonFragments : postgresJsonFragments;
}
