import { sql, type Kysely } from 'kysely';
import type { SqlDialectName } from '../sql-dialect.ts';

/**
 * The timeline's name index holds track events only. Everything that reads it asks for track
 * events by name (`did "E"`, a computed trait's events, the real-time audiences' snapshot);
 * pages, screens and identifies are three fifths of a shop's timeline, and each of their rows
 * cost an index entry at a random place (keyed by profile) on insert and again on every merge
 * that moved it: ~10 % of the pipeline's time. Readers name the type as the literal `'track'`,
 * which is what lets both planners use a partial index.
 */
export async function up(db: Kysely<unknown>, _dialect: SqlDialectName): Promise<void> {
  await db.schema.dropIndex('profile_events_name').execute();
  await db.schema
    .createIndex('profile_events_track')
    .on('profile_events')
    .columns(['workspace_id', 'event', 'profile_id', 'ts_ms', 'seq'])
    .where(sql.ref('type'), '=', 'track')
    .execute();
}
