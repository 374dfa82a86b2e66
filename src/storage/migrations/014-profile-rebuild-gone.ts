import type { Kysely } from 'kysely';
import type { SqlDialectName } from '../sql-dialect.ts';

/**
 * Profiles a rebuild deleted with the old state. The ones the replay does not bring back (the
 * identity settings changed: the person's events now belong to another profile) are passed to
 * consent, computed traits and segments as deleted at the end, so no segment keeps counting a
 * profile that no longer exists. Ids only.
 */
export async function up(db: Kysely<unknown>, _dialect: SqlDialectName): Promise<void> {
  await db.schema
    .createTable('profile_rebuild_gone')
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('profile_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('profile_rebuild_gone_pk', ['workspace_id', 'profile_id'])
    .execute();
}
