import type { Kysely } from 'kysely';
import type { SqlDialectName } from '../sql-dialect.ts';

/**
 * Consent history and privacy requests (issue 5). `profile_consent` (005) keeps the current
 * state per category; `consent_history` every value with its source and time, from which the
 * current state is recomputed. Privacy requests, their export documents and the suppression
 * list (keyed hashes only, never identifiers in clear). Depends on 001, 003 and 005.
 */
export async function up(db: Kysely<unknown>, dialect: SqlDialectName): Promise<void> {
  const serial = dialect === 'sqlite' ? 'integer' : 'bigserial';
  // profile_id: null while the event that carried it belongs to no profile (after an unlink).
  // event_seq: the event that carried the value (null for the API); one value per event and
  // category, so a redelivered batch records nothing twice.
  await db.schema
    .createTable('consent_history')
    .addColumn('seq', serial, (c) => (dialect === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey()))
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('profile_id', 'text')
    .addColumn('category', 'text', (c) => c.notNull())
    .addColumn('granted', 'integer', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('ts_ms', 'bigint', (c) => c.notNull())
    .addColumn('event_seq', 'bigint')
    .addColumn('message_id', 'text')
    .addColumn('actor', 'text')
    .addColumn('at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('consent_history_event')
    .on('consent_history')
    .columns(['workspace_id', 'event_seq', 'category'])
    .unique()
    .execute();
  await db.schema
    .createIndex('consent_history_profile')
    .on('consent_history')
    .columns(['workspace_id', 'profile_id', 'seq'])
    .execute();

  // status: pending | running | completed | failed. identifier_value is cleared when the
  // request finishes: only its keyed hash stays, to find a person's past requests on erasure.
  await db.schema
    .createTable('privacy_requests')
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('identifier_type', 'text', (c) => c.notNull())
    .addColumn('identifier_value', 'text')
    .addColumn('identifier_hash', 'text', (c) => c.notNull())
    .addColumn('requested_by', 'text', (c) => c.notNull())
    .addColumn('created_ms', 'bigint', (c) => c.notNull())
    .addColumn('started_ms', 'bigint')
    .addColumn('finished_ms', 'bigint')
    .addColumn('lease_until_ms', 'bigint')
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('result', 'text')
    .addColumn('error_code', 'text')
    .addColumn('error_message', 'text')
    .addPrimaryKeyConstraint('privacy_requests_pk', ['workspace_id', 'id'])
    .execute();
  await db.schema
    .createIndex('privacy_requests_status')
    .on('privacy_requests')
    .columns(['status', 'created_ms'])
    .execute();
  await db.schema
    .createIndex('privacy_requests_subject')
    .on('privacy_requests')
    .columns(['workspace_id', 'identifier_hash'])
    .execute();

  await db.schema
    .createTable('privacy_exports')
    .addColumn('request_id', 'text', (c) => c.primaryKey())
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('document', 'text', (c) => c.notNull())
    .addColumn('created_ms', 'bigint', (c) => c.notNull())
    .addColumn('expires_ms', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('privacy_suppressions')
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('id_hash', 'text', (c) => c.notNull())
    .addColumn('request_id', 'text', (c) => c.notNull())
    .addColumn('created_ms', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('privacy_suppressions_pk', ['workspace_id', 'id_hash'])
    .execute();
  await db.schema
    .createIndex('privacy_suppressions_request')
    .on('privacy_suppressions')
    .columns(['workspace_id', 'request_id'])
    .execute();
  // version grows with every change of the workspace's list: processes poll it to reload.
  await db.schema
    .createTable('privacy_suppression_state')
    .addColumn('workspace_id', 'text', (c) => c.primaryKey())
    .addColumn('version', 'bigint', (c) => c.notNull())
    .addColumn('dropped_events', 'bigint', (c) => c.notNull())
    .addColumn('updated_ms', 'bigint', (c) => c.notNull())
    .execute();
}
