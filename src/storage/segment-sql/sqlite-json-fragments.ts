import { sql } from 'kysely';
import type { JsonFragments, JsonRef, Sql } from './json-fragments.ts';

/**
 * SQLite: json_type/json_extract with a JSON path bound as a parameter. Each key is written as a
 * quoted label (`$."first name"."a\"b"`), JSON-escaped, which SQLite (≥ 3.45) unescapes before
 * matching, so any key text reads the key it names and nothing else. A quoted label on an array
 * matches nothing (no indexing), as in the evaluator.
 */
const pathOf = (keys: readonly string[]): string =>
  `$${keys.map((key) => `.${JSON.stringify(key)}`).join('')}`;

const type = (ref: JsonRef): Sql => sql`json_type(${ref.doc}, ${pathOf(ref.keys)})`;
const extract = (ref: JsonRef): Sql => sql`json_extract(${ref.doc}, ${pathOf(ref.keys)})`;

const DIGITS = '0123456789';

export const sqliteJsonFragments: JsonFragments = {
  dialect: 'sqlite',
  // SQLite keeps the last few parsed documents of a statement, so text is read directly.
  document: (text) => text,
  lateralDocument: () => null,
  nullDocument: sql`NULL`,
  booleanDocument: (column) => sql`(CASE ${column} WHEN 1 THEN 'true' WHEN 0 THEN 'false' END)`,
  isAbsent: (ref) => sql`(${extract(ref)} IS NULL)`,
  numberOf: (ref) => sql`(CASE WHEN ${type(ref)} IN ('integer', 'real') THEN ${extract(ref)} END)`,
  stringOf: (ref) => sql`(CASE WHEN ${type(ref)} = 'text' THEN ${extract(ref)} END)`,
  isBoolean: (ref, value) => sql`(${type(ref)} = ${value ? 'true' : 'false'})`,
  arrayHasString: (ref, text) =>
    sql`(${type(ref)} = 'array' AND EXISTS (SELECT 1 FROM json_each(${ref.doc}, ${pathOf(ref.keys)}) AS el WHERE el.type = 'text' AND el.value = ${text}))`,
  contains: (expr, text) => sql`(instr(${expr}, ${text}) > 0)`,
  startsWith: (expr, text) => sql`(substr(${expr}, 1, length(${text})) = ${text})`,
  number: (value) => sql`${value}`,
  integer: (value) => sql`${value}`,
  toInteger: (expr) => sql`CAST(${expr} AS INTEGER)`,
  // Fixed positions checked with GLOB; the optional fraction and zone are checked by stripping
  // the digits after the '.' and looking at what remains.
  isoShape: (v) => {
    const zone = sqliteZone(v);
    return sql`(CASE
      WHEN length(${v}) = 10 THEN ${v} GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'
      WHEN substr(${v}, 1, 19) GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]'
        THEN (${zone} IN ('', 'Z') OR (length(${zone}) = 6 AND ${zone} GLOB '[+-][0-9][0-9]:[0-9][0-9]'))
          AND (substr(${v}, 20, 1) <> '.' OR length(${sqliteFraction(v)}) BETWEEN 1 AND 9)
      ELSE 0 END)`;
  },
  isoFraction: (v) => sqliteFraction(v),
  isoZone: (v) => sqliteZone(v),
};

/** The digits right after position 20 when it holds '.', else ''. */
function sqliteFraction(v: Sql): Sql {
  const afterDot = sql`substr(${v}, 21)`;
  return sql`(CASE WHEN substr(${v}, 20, 1) = '.' THEN substr(${afterDot}, 1, length(${afterDot}) - length(ltrim(${afterDot}, ${DIGITS}))) ELSE '' END)`;
}

/** What follows the seconds and the fraction: '', 'Z', '+02:00' or anything else (then invalid). */
function sqliteZone(v: Sql): Sql {
  return sql`(CASE WHEN substr(${v}, 20, 1) = '.' THEN ltrim(substr(${v}, 21), ${DIGITS}) ELSE substr(${v}, 20) END)`;
}
