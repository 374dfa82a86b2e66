import type { Kysely } from 'kysely';
import type { SqlDialectName } from '../sql-dialect.ts';

export async function up(db: Kysely<unknown>, dialect: SqlDialectName): Promise<void> {
  const bigint = 'bigint';
  await db.schema
    .createTable('workspaces')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('slug', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_ms', bigint, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('sources')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('write_key_hash', 'text', (c) => c.notNull().unique())
    .addColumn('write_key_prefix', 'text', (c) => c.notNull())
    .addColumn('settings', 'text', (c) => c.notNull())
    .addColumn('created_ms', bigint, (c) => c.notNull())
    .addColumn('key_rotated_ms', bigint)
    .addColumn('disabled_ms', bigint)
    .execute();
  await db.schema.createIndex('sources_workspace').on('sources').columns(['workspace_id', 'id']).execute();

  await db.schema
    .createTable('api_tokens')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('workspace_id', 'text', (c) => c.references('workspaces.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('token_prefix', 'text', (c) => c.notNull())
    .addColumn('created_ms', bigint, (c) => c.notNull())
    .addColumn('revoked_ms', bigint)
    .execute();
  await db.schema
    .createIndex('api_tokens_workspace')
    .on('api_tokens')
    .columns(['workspace_id', 'id'])
    .execute();

  // AUTOINCREMENT / bigserial: sequence numbers are never reused, even after deletions,
  // because consumers keep cursors on them.
  await db.schema
    .createTable('events')
    .addColumn('seq', dialect === 'sqlite' ? 'integer' : 'bigserial', (c) =>
      dialect === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey(),
    )
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('source_id', 'text', (c) => c.notNull())
    .addColumn('message_id', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('event', 'text')
    .addColumn('user_id', 'text')
    .addColumn('anonymous_id', 'text')
    .addColumn('ts_ms', bigint, (c) => c.notNull())
    .addColumn('received_ms', bigint, (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('events_workspace_seq').on('events').columns(['workspace_id', 'seq']).execute();
  // Every index here is paid on the ack path. SQLite (one writer, the embedded default) keeps
  // only the per-workspace order; filters by type or name scan it, and the stages that need
  // per-event-name or per-person access build their own structures after the ack. Its dedup
  // lookup lives in memory (storage/sqlite/recent-message-index.ts). PostgreSQL, with many
  // writers and larger logs, indexes filters and dedup on disk.
  if (dialect === 'postgres') {
    await db.schema
      .createIndex('events_workspace_type_seq')
      .on('events')
      .columns(['workspace_id', 'type', 'seq'])
      .execute();
    await db.schema
      .createIndex('events_workspace_event_seq')
      .on('events')
      .columns(['workspace_id', 'event', 'seq'])
      .execute();
    await db.schema
      .createIndex('events_workspace_message')
      .on('events')
      .columns(['workspace_id', 'message_id', 'received_ms'])
      .execute();
  }

  await db.schema
    .createTable('workspace_counters')
    .addColumn('workspace_id', 'text', (c) => c.primaryKey())
    .addColumn('events', bigint, (c) => c.notNull().defaultTo(0))
    .execute();

  await db.schema
    .createTable('consumer_cursors')
    .addColumn('consumer_group', 'text', (c) => c.primaryKey())
    .addColumn('position', bigint, (c) => c.notNull())
    .addColumn('updated_ms', bigint, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('consumer_redeliveries')
    .addColumn('consumer_group', 'text', (c) => c.notNull())
    .addColumn('seq', bigint, (c) => c.notNull())
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('due_ms', bigint, (c) => c.notNull())
    .addPrimaryKeyConstraint('consumer_redeliveries_pk', ['consumer_group', 'seq'])
    .execute();
  await db.schema
    .createIndex('consumer_redeliveries_due')
    .on('consumer_redeliveries')
    .columns(['consumer_group', 'due_ms'])
    .execute();

  await db.schema
    .createTable('failed_events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('stage', 'text', (c) => c.notNull())
    .addColumn('seq', bigint, (c) => c.notNull())
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('error_code', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('failed_ms', bigint, (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('replayed_ms', bigint)
    .addUniqueConstraint('failed_events_stage_seq', ['stage', 'seq'])
    .execute();
  await db.schema
    .createIndex('failed_events_workspace')
    .on('failed_events')
    .columns(['workspace_id', 'failed_ms', 'id'])
    .execute();

  await db.schema
    .createTable('instance_state')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();
}
