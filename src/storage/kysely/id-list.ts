import { sql, type RawBuilder } from 'kysely';
import type { SqlDialectName } from '../sql-dialect.ts';

/**
 * `column IN (<ids>)` with the whole list as one bound parameter, so its length is not bounded
 * by either engine's parameter limit: what a query uses for ids found by opening sealed values
 * in the process (they cannot be compared in SQL).
 */
export function inIdList(
  dialect: SqlDialectName,
  column: RawBuilder<unknown>,
  ids: readonly string[],
): RawBuilder<boolean> {
  if (ids.length === 0) return sql<boolean>`(1 = 0)`;
  if (dialect === 'postgres') return sql<boolean>`(${column} = ANY(${[...ids]}::text[]))`;
  return sql<boolean>`(${column} IN (SELECT value FROM json_each(${JSON.stringify(ids)})))`;
}
