import type { Kysely } from 'kysely';
import type { SqlDialectName } from '../sql-dialect.ts';

/**
 * Segments and computed traits (issue 4): definitions, memberships with their history, computed
 * values and consent. Like profiles, memberships and values are derived state that can be rebuilt
 * from definitions, profiles and the event log. Depends only on 001 and 003.
 */
export async function up(db: Kysely<unknown>, dialect: SqlDialectName): Promise<void> {
  await createSegments(db);
  await createMemberships(db, dialect);
  await createComputedTraits(db);
  await db.schema
    .createTable('profile_consent')
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('profile_id', 'text', (c) => c.notNull())
    .addColumn('category', 'text', (c) => c.notNull())
    .addColumn('granted', 'integer', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('ts_ms', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('profile_consent_pk', ['workspace_id', 'profile_id', 'category'])
    .execute();
  // `did "E" …` counts one event name per profile: this index answers it without reading the
  // timeline rows (type and ts_ms filter, seq joins the log for `where` clauses).
  await db.schema
    .createIndex('profile_events_name')
    .on('profile_events')
    .columns(['workspace_id', 'event', 'type', 'profile_id', 'ts_ms', 'seq'])
    .execute();
}

async function createSegments(db: Kysely<unknown>): Promise<void> {
  // status: backfilling | ready | failed. version grows with each definition change, so a
  // backfill of an older definition can tell it was overtaken.
  await db.schema
    .createTable('segments')
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('slug', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('definition', 'text', (c) => c.notNull())
    .addColumn('dependencies', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('created_ms', 'bigint', (c) => c.notNull())
    .addColumn('updated_ms', 'bigint', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('backfill_total', 'bigint', (c) => c.notNull())
    .addColumn('backfill_done', 'bigint', (c) => c.notNull())
    .addColumn('backfill_started_ms', 'bigint')
    .addColumn('backfill_finished_ms', 'bigint')
    .addColumn('backfill_error', 'text')
    .addPrimaryKeyConstraint('segments_pk', ['workspace_id', 'id'])
    .addUniqueConstraint('segments_slug', ['workspace_id', 'slug'])
    .execute();
}

async function createMemberships(db: Kysely<unknown>, dialect: SqlDialectName): Promise<void> {
  await db.schema
    .createTable('segment_memberships')
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('segment_id', 'text', (c) => c.notNull())
    .addColumn('profile_id', 'text', (c) => c.notNull())
    .addColumn('entered_ms', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('segment_memberships_pk', ['workspace_id', 'segment_id', 'profile_id'])
    .execute();
  await db.schema
    .createIndex('segment_memberships_profile')
    .on('segment_memberships')
    .columns(['workspace_id', 'profile_id'])
    .execute();

  // change: entered | exited. seq orders changes made in the same millisecond.
  await db.schema
    .createTable('segment_membership_history')
    .addColumn('seq', dialect === 'sqlite' ? 'integer' : 'bigserial', (c) =>
      dialect === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey(),
    )
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('segment_id', 'text', (c) => c.notNull())
    .addColumn('profile_id', 'text', (c) => c.notNull())
    .addColumn('change', 'text', (c) => c.notNull())
    .addColumn('at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('segment_membership_history_profile')
    .on('segment_membership_history')
    .columns(['workspace_id', 'profile_id', 'seq'])
    .execute();
  await db.schema
    .createIndex('segment_membership_history_segment')
    .on('segment_membership_history')
    .columns(['workspace_id', 'segment_id', 'seq'])
    .execute();
}

async function createComputedTraits(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('computed_traits')
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('definition', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('created_ms', 'bigint', (c) => c.notNull())
    .addColumn('updated_ms', 'bigint', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('backfill_total', 'bigint', (c) => c.notNull())
    .addColumn('backfill_done', 'bigint', (c) => c.notNull())
    .addColumn('backfill_started_ms', 'bigint')
    .addColumn('backfill_finished_ms', 'bigint')
    .addColumn('backfill_error', 'text')
    .addPrimaryKeyConstraint('computed_traits_pk', ['workspace_id', 'id'])
    .addUniqueConstraint('computed_traits_name', ['workspace_id', 'name'])
    .execute();

  // value: JSON text. next_change_ms: when a window expiry changes the value without any event
  // (null: never), for the scheduler.
  await db.schema
    .createTable('computed_trait_values')
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('profile_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('updated_ms', 'bigint', (c) => c.notNull())
    .addColumn('next_change_ms', 'bigint')
    .addPrimaryKeyConstraint('computed_trait_values_pk', ['workspace_id', 'profile_id', 'name'])
    .execute();
  await db.schema
    .createIndex('computed_trait_values_name')
    .on('computed_trait_values')
    .columns(['workspace_id', 'name', 'profile_id'])
    .execute();
  await db.schema
    .createIndex('computed_trait_values_due')
    .on('computed_trait_values')
    .columns(['workspace_id', 'next_change_ms'])
    .execute();
}
