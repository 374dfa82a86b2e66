import type { Kysely } from 'kysely';
import type { SqlDialectName } from '../sql-dialect.ts';

/**
 * Audience Entered/Exited events owed to the log. A membership change and its row are written
 * in one transaction; the row goes once the event is appended. Rows hold ids and the segment's
 * name, no copy of the person's data (the event's ids are read when it is sent), and erasure
 * deletes them with the profile.
 */
export async function up(db: Kysely<unknown>, _dialect: SqlDialectName): Promise<void> {
  await db.schema
    .createTable('audience_event_outbox')
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('message_id', 'text', (c) => c.notNull())
    .addColumn('profile_id', 'text', (c) => c.notNull())
    .addColumn('segment_id', 'text', (c) => c.notNull())
    .addColumn('segment_slug', 'text', (c) => c.notNull())
    .addColumn('segment_name', 'text', (c) => c.notNull())
    .addColumn('member', 'integer', (c) => c.notNull())
    .addColumn('at_ms', 'bigint', (c) => c.notNull())
    .addColumn('decided_ms', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('audience_event_outbox_pk', ['workspace_id', 'message_id'])
    .execute();
  await db.schema
    .createIndex('audience_event_outbox_decided')
    .on('audience_event_outbox')
    .columns(['decided_ms'])
    .execute();
  await db.schema
    .createIndex('audience_event_outbox_profile')
    .on('audience_event_outbox')
    .columns(['workspace_id', 'profile_id'])
    .execute();
}
