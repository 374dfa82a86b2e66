import type { Kysely } from 'kysely';
import type { SqlDialectName } from '../sql-dialect.ts';

/**
 * Profile changes made by an admin action (an unmerge) that consent, computed traits and
 * segments have yet to take. The row is written in the action's own transaction and deleted
 * once they have: a crash in between leaves it for the next start, so a split profile never
 * keeps the consent that came with the other person's events. Ids only, no personal data.
 */
export async function up(db: Kysely<unknown>, _dialect: SqlDialectName): Promise<void> {
  await db.schema
    .createTable('profile_change_outbox')
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('change', 'text', (c) => c.notNull())
    .addColumn('created_ms', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('profile_change_outbox_pk', ['workspace_id', 'id'])
    .execute();
}
