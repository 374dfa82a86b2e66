import type { Kysely } from 'kysely';
import type { SqlDialectName } from '../sql-dialect.ts';

/**
 * Destinations and their deliveries (issue 5: consent enforced at delivery, deletion calls).
 * `destination_deliveries` is the outbox: one row per destination and event (or per
 * destination and privacy request for a deletion call). An event row holds only the event's log
 * position, never a copy of its data, so erasing the event leaves nothing here to forget; a
 * deletion call's message is stored sealed and cleared once sent. Delivered rows stay as the
 * record of what went where (privacy exports list them; erasure deletes them).
 */
export async function up(db: Kysely<unknown>, dialect: SqlDialectName): Promise<void> {
  const serial = dialect === 'sqlite' ? 'integer' : 'bigserial';
  await db.schema
    .createTable('destinations')
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('secret', 'text', (c) => c.notNull())
    .addColumn('send_deletions', 'integer', (c) => c.notNull())
    .addColumn('filter', 'text')
    .addColumn('segments', 'text', (c) => c.notNull())
    .addColumn('consent_categories', 'text', (c) => c.notNull())
    .addColumn('enabled', 'integer', (c) => c.notNull())
    .addColumn('created_ms', 'bigint', (c) => c.notNull())
    .addColumn('updated_ms', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('destinations_pk', ['workspace_id', 'id'])
    .execute();

  await db.schema
    .createTable('destination_deliveries')
    .addColumn('id', serial, (c) => (dialect === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey()))
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('destination_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('event_seq', 'bigint')
    .addColumn('profile_id', 'text')
    .addColumn('request_id', 'text')
    .addColumn('payload', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('next_attempt_ms', 'bigint')
    .addColumn('first_attempt_ms', 'bigint')
    .addColumn('last_attempt_ms', 'bigint')
    .addColumn('last_status', 'integer')
    .addColumn('last_error', 'text')
    .addColumn('created_ms', 'bigint', (c) => c.notNull())
    .execute();
  // One delivery per destination and event, and per destination and privacy request: NULLs are
  // distinct in both dialects, so each index only constrains its own kind.
  await db.schema
    .createIndex('destination_deliveries_event')
    .on('destination_deliveries')
    .columns(['workspace_id', 'destination_id', 'event_seq'])
    .unique()
    .execute();
  await db.schema
    .createIndex('destination_deliveries_request')
    .on('destination_deliveries')
    .columns(['workspace_id', 'destination_id', 'request_id'])
    .unique()
    .execute();
  await db.schema
    .createIndex('destination_deliveries_due')
    .on('destination_deliveries')
    .columns(['status', 'next_attempt_ms'])
    .execute();
  await db.schema
    .createIndex('destination_deliveries_list')
    .on('destination_deliveries')
    .columns(['workspace_id', 'destination_id', 'status', 'id'])
    .execute();
  await db.schema
    .createIndex('destination_deliveries_profile')
    .on('destination_deliveries')
    .columns(['workspace_id', 'profile_id'])
    .execute();
  await db.schema
    .createIndex('destination_deliveries_seq')
    .on('destination_deliveries')
    .columns(['workspace_id', 'event_seq'])
    .execute();
}
