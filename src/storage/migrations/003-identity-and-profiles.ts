import type { Kysely } from 'kysely';
import type { SqlDialectName } from '../sql-dialect.ts';

/**
 * Identity graph and profiles. Profiles are derived state: everything here can be rebuilt from
 * the event log, which stays the source of truth.
 */
export async function up(db: Kysely<unknown>, _dialect: SqlDialectName): Promise<void> {
  await db.schema
    .createTable('workspace_settings')
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('updated_ms', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('workspace_settings_pk', ['workspace_id', 'name'])
    .execute();

  // kind: person | account. merged_into: set when this id was merged (it resolves through it).
  await db.schema
    .createTable('profiles')
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('created_seq', 'bigint', (c) => c.notNull())
    .addColumn('created_ts_ms', 'bigint', (c) => c.notNull())
    .addColumn('created_message_id', 'text', (c) => c.notNull())
    .addColumn('created_content_key', 'text', (c) => c.notNull())
    .addColumn('first_seen_ms', 'bigint', (c) => c.notNull())
    .addColumn('last_seen_ms', 'bigint', (c) => c.notNull())
    .addColumn('updated_ms', 'bigint', (c) => c.notNull())
    .addColumn('event_count', 'bigint', (c) => c.notNull())
    .addColumn('traits', 'text', (c) => c.notNull())
    .addColumn('trait_meta', 'text', (c) => c.notNull())
    .addColumn('merged_into', 'text')
    .addPrimaryKeyConstraint('profiles_pk', ['workspace_id', 'id'])
    .execute();
  await db.schema
    .createIndex('profiles_live')
    .on('profiles')
    .columns(['workspace_id', 'kind', 'merged_into', 'id'])
    .execute();

  // One row per identifier ever seen: profile_id is null while it never linked (only demoted).
  // component_id groups identifiers that co-occurred in an event, linked or not: the unit that
  // is re-resolved when a late event arrives.
  await db.schema
    .createTable('profile_identifiers')
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('id_key', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('profile_id', 'text')
    .addColumn('component_id', 'text', (c) => c.notNull())
    .addColumn('linked_seq', 'bigint')
    .addColumn('linked_message_id', 'text')
    .addColumn('linked_ts_ms', 'bigint')
    .addPrimaryKeyConstraint('profile_identifiers_pk', ['workspace_id', 'id_key'])
    .execute();
  await db.schema
    .createIndex('profile_identifiers_profile')
    .on('profile_identifiers')
    .columns(['workspace_id', 'profile_id'])
    .execute();
  await db.schema
    .createIndex('profile_identifiers_component')
    .on('profile_identifiers')
    .columns(['workspace_id', 'component_id'])
    .execute();

  // The canonical position of the latest event applied to a component: an event before it is late.
  await db.schema
    .createTable('identity_components')
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('last_ts_ms', 'bigint', (c) => c.notNull())
    .addColumn('last_message_id', 'text', (c) => c.notNull())
    .addColumn('last_content_key', 'text', (c) => c.notNull())
    // Events applied to the component, and how many of them had an identifier demoted: order
    // matters only where a limit was reached, so only such components are ever re-resolved.
    .addColumn('events', 'bigint', (c) => c.notNull())
    .addColumn('demotions', 'bigint', (c) => c.notNull())
    // 1 while a late event was linked in arrival order because the component was too large to
    // re-resolve at once: the stage re-resolves it shortly after (eventual exactness).
    .addColumn('stale', 'integer', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('identity_components_pk', ['workspace_id', 'id'])
    .execute();

  await db.schema
    .createIndex('identity_components_stale')
    .on('identity_components')
    .columns(['workspace_id', 'stale'])
    .execute();

  // Which profile each event belongs to (always the surviving id): the timeline.
  await db.schema
    .createTable('profile_events')
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('profile_id', 'text', (c) => c.notNull())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('ts_ms', 'bigint', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('event', 'text')
    .addPrimaryKeyConstraint('profile_events_pk', ['workspace_id', 'profile_id', 'seq'])
    .execute();
  await db.schema
    .createIndex('profile_events_seq')
    .on('profile_events')
    .columns(['workspace_id', 'seq'])
    .unique()
    .execute();

  await db.schema
    .createTable('identity_merges')
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('merged_id', 'text', (c) => c.notNull())
    .addColumn('survivor_id', 'text', (c) => c.notNull())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('message_id', 'text', (c) => c.notNull())
    .addColumn('ts_ms', 'bigint', (c) => c.notNull())
    .addColumn('at_ms', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('identity_merges_pk', ['workspace_id', 'merged_id', 'seq'])
    .execute();
  await db.schema
    .createIndex('identity_merges_survivor')
    .on('identity_merges')
    .columns(['workspace_id', 'survivor_id'])
    .execute();

  // Rejected and demoted identifiers, with the event and the reason (data quality, audit of merges).
  await db.schema
    .createTable('identity_decisions')
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('limit_type', 'text')
    .addColumn('profile_id', 'text')
    .addColumn('at_ms', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('identity_decisions_pk', ['workspace_id', 'seq', 'position'])
    .execute();

  // Identifiers an admin unlinked (unmerge): never used for linking again in the workspace.
  await db.schema
    .createTable('identity_unlinked')
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('id_key', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('profile_id', 'text', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('at_ms', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('identity_unlinked_pk', ['workspace_id', 'id_key'])
    .execute();

  await db.schema
    .createTable('trait_history')
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('profile_id', 'text', (c) => c.notNull())
    .addColumn('trait', 'text', (c) => c.notNull())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('ts_ms', 'bigint', (c) => c.notNull())
    .addColumn('source_id', 'text', (c) => c.notNull())
    .addColumn('message_id', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('at_ms', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('trait_history_pk', ['workspace_id', 'seq', 'trait'])
    .execute();
  await db.schema
    .createIndex('trait_history_profile')
    .on('trait_history')
    .columns(['workspace_id', 'profile_id', 'trait', 'ts_ms'])
    .execute();

  // Person ↔ account membership from group calls.
  await db.schema
    .createTable('profile_groups')
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('profile_id', 'text', (c) => c.notNull())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('ts_ms', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('profile_groups_pk', ['workspace_id', 'profile_id', 'account_id'])
    .execute();
  await db.schema
    .createIndex('profile_groups_account')
    .on('profile_groups')
    .columns(['workspace_id', 'account_id'])
    .execute();
}
