import { sql } from 'kysely';
import type { JsonFragments, Sql } from './json-fragments.ts';

/**
 * The epoch milliseconds of a string in an ISO instant shape, or NULL: the SQL twin of
 * segments/iso-instant.ts, written with integer arithmetic only (days from civil with the year
 * shifted by 400, so every division is of non-negative numbers) so SQLite, PostgreSQL and
 * JavaScript agree to the millisecond without any date function or session time zone. Impossible
 * dates and times (2026-02-30, 24:00:00, +24:00) give NULL. Nested CASEs make sure the integer
 * casts only ever see digits.
 *
 * `v` is evaluated once, through a scalar subquery over a one-row derived table.
 */
export function isoInstantOf(f: JsonFragments, stringExpr: Sql): Sql {
  const v = sql`iso.v`;
  const num = (from: number, length: number): Sql =>
    f.toInteger(sql`substr(${v}, ${sql.lit(from)}, ${sql.lit(length)})`);
  const year = num(1, 4);
  const month = num(6, 2);
  const day = num(9, 2);
  const timed = sql`(length(${v}) > 10)`;
  const hour = sql`(CASE WHEN ${timed} THEN ${num(12, 2)} ELSE 0 END)`;
  const minute = sql`(CASE WHEN ${timed} THEN ${num(15, 2)} ELSE 0 END)`;
  const second = sql`(CASE WHEN ${timed} THEN ${num(18, 2)} ELSE 0 END)`;
  const fraction = f.isoFraction(v);
  const millis = f.toInteger(sql`substr(${fraction} || '000', 1, 3)`);
  const zone = f.isoZone(v);
  const zoneHours = sql`(CASE WHEN length(${zone}) = 6 THEN ${f.toInteger(sql`substr(${zone}, 2, 2)`)} ELSE 0 END)`;
  const zoneMinutes = sql`(CASE WHEN length(${zone}) = 6 THEN ${f.toInteger(sql`substr(${zone}, 5, 2)`)} ELSE 0 END)`;
  const zoneSign = sql`(CASE WHEN substr(${zone}, 1, 1) = '-' THEN -1 ELSE 1 END)`;

  const leap = sql`((${year} % 4 = 0 AND ${year} % 100 <> 0) OR ${year} % 400 = 0)`;
  const monthDays = sql`(CASE WHEN ${month} = 2 THEN (CASE WHEN ${leap} THEN 29 ELSE 28 END) WHEN ${month} IN (4, 6, 9, 11) THEN 30 ELSE 31 END)`;
  const valid = sql`(${month} BETWEEN 1 AND 12 AND ${day} BETWEEN 1 AND ${monthDays} AND ${hour} <= 23 AND ${minute} <= 59 AND ${second} <= 59 AND ${zoneHours} <= 23 AND ${zoneMinutes} <= 59)`;

  const shiftedYear = sql`(${year} - (CASE WHEN ${month} <= 2 THEN 1 ELSE 0 END) + 400)`;
  const dayOfYear = sql`((153 * ((${month} + 9) % 12) + 2) / 5 + ${day} - 1)`;
  const days = sql`(365 * ${shiftedYear} + ${shiftedYear} / 4 - ${shiftedYear} / 100 + ${shiftedYear} / 400 + ${dayOfYear} - 865565)`;
  const seconds = sql`(((${days} * 24 + ${hour}) * 60 + ${minute}) * 60 + ${second})`;
  const ms = sql`(${seconds} * 1000 + ${millis} - ${zoneSign} * (${zoneHours} * 60 + ${zoneMinutes}) * 60000)`;

  return sql`(SELECT CASE WHEN ${f.isoShape(v)} THEN (CASE WHEN ${valid} THEN ${ms} END) END FROM (SELECT ${stringExpr} AS v) AS iso)`;
}
