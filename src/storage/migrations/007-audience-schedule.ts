import type { Kysely } from 'kysely';
import type { SqlDialectName } from '../sql-dialect.ts';

/**
 * When each profile's memberships or computed values change next by the clock alone (a window
 * expiring): the real-time scheduler wakes exactly then, instead of rescanning everyone.
 */
export async function up(db: Kysely<unknown>, _dialect: SqlDialectName): Promise<void> {
  await db.schema
    .createTable('profile_schedule')
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('profile_id', 'text', (c) => c.notNull())
    .addColumn('due_ms', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('profile_schedule_pk', ['workspace_id', 'profile_id'])
    .execute();
  await db.schema.createIndex('profile_schedule_due').on('profile_schedule').columns(['due_ms']).execute();
}
