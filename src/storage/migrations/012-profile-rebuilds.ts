import type { Kysely } from 'kysely';
import type { SqlDialectName } from '../sql-dialect.ts';

/**
 * Where each workspace's rebuild of its profiles from the log stands. Every step of a rebuild
 * (a chunk of the old state deleted, a page of the log applied) commits together with this
 * row, so a rebuild that a crash or a restart interrupted continues where it stopped instead of
 * leaving the profiles with half of their history; and while it runs the profiles stage leaves
 * the workspace's new events to it.
 */
export async function up(db: Kysely<unknown>, _dialect: SqlDialectName): Promise<void> {
  await db.schema
    .createTable('profile_rebuilds')
    .addColumn('workspace_id', 'text', (c) => c.primaryKey())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('after_seq', 'bigint', (c) => c.notNull())
    .addColumn('done', 'bigint', (c) => c.notNull())
    .addColumn('total', 'bigint', (c) => c.notNull())
    .addColumn('started_ms', 'bigint', (c) => c.notNull())
    .addColumn('finished_ms', 'bigint')
    // The last applied page's change (JSON) until the listeners (consent, computed traits,
    // segments) have taken it: after a crash in between they are told again.
    .addColumn('pending_change', 'text')
    .execute();
}
