import { sql } from 'kysely';
import type { JsonFragments, JsonRef, Sql } from './json-fragments.ts';

/**
 * PostgreSQL: TEXT columns are parsed to jsonb (once per row for the documents conditions share,
 * through a LATERAL subquery that OFFSET 0 keeps from being inlined back into every use) and
 * walked with `->` and text keys bound as parameters (a text key never indexes an array, as in
 * the evaluator). `\u0000` escapes, which jsonb refuses, are read as U+FFFD so one odd value
 * cannot fail a whole query.
 */
const parse = (text: Sql): Sql => sql`(replace(${text}, '\\u0000', '\\ufffd')::jsonb)`;

function value(ref: JsonRef): Sql {
  let expr: Sql = ref.doc;
  for (const key of ref.keys) expr = sql`${expr} -> ${key}::text`;
  return sql`(${expr})`;
}

const ISO_SHAPE =
  '^[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})?)?$';

export const postgresJsonFragments: JsonFragments = {
  dialect: 'postgres',
  document: parse,
  lateralDocument: (text, alias) =>
    sql`CROSS JOIN LATERAL (SELECT ${parse(text)} AS doc OFFSET 0) AS ${alias}`,
  nullDocument: sql`NULL::jsonb`,
  booleanDocument: (column) => sql`(CASE ${column} WHEN 1 THEN 'true'::jsonb WHEN 0 THEN 'false'::jsonb END)`,
  isAbsent: (ref) => sql`(coalesce(jsonb_typeof(${value(ref)}), 'null') = 'null')`,
  numberOf: (ref) => {
    const v = value(ref);
    return sql`(CASE WHEN jsonb_typeof(${v}) = 'number' THEN (${v})::float8 END)`;
  },
  stringOf: (ref) => {
    const v = value(ref);
    return sql`(CASE WHEN jsonb_typeof(${v}) = 'string' THEN ${v} #>> '{}' END)`;
  },
  isBoolean: (ref, expected) => sql`(${value(ref)} = ${expected ? sql`'true'::jsonb` : sql`'false'::jsonb`})`,
  arrayHasString: (ref, text) => {
    const v = value(ref);
    return sql`(jsonb_typeof(${v}) = 'array' AND ${v} @> jsonb_build_array(${text}::text))`;
  },
  contains: (expr, text) => sql`(strpos(${expr}, ${text}::text) > 0)`,
  startsWith: (expr, text) => sql`starts_with(${expr}, ${text}::text)`,
  number: (n) => sql`${n}::float8`,
  integer: (n) => sql`${n}::bigint`,
  toInteger: (expr) => sql`(${expr})::bigint`,
  isoShape: (v) => sql`(${v} ~ ${sql.lit(ISO_SHAPE)})`,
  isoFraction: (v) => sql`coalesce(substring(${v} from '\\.([0-9]+)'), '')`,
  isoZone: (v) => sql`coalesce(substring(${v} from '(Z|[+-][0-9]{2}:[0-9]{2})$'), '')`,
};
