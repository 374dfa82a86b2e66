import { sql } from 'kysely';

/**
 * `type = 'track'` as a literal in the SQL text, not a bound parameter: the timeline's name
 * index is partial (track events only, migration 015). SQLite would re-plan with the bound
 * value, but a generic PostgreSQL plan (a named prepared statement after its fifth run) cannot
 * prove a parameter equal to the index's constant and would not use it.
 */
export const TRACK = sql.lit('track');
