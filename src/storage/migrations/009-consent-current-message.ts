import { sql, type Kysely } from 'kysely';
import type { SqlDialectName } from '../sql-dialect.ts';

/**
 * The current consent value keeps the message id of the value that won, the last tie-break of
 * `compareConsent`: a new value can then be compared with the current one alone, instead of
 * re-reading the profile's whole history (which grows with every event when an SDK attaches
 * consent to all of them). Existing rows get it from the history they were computed from.
 */
export async function up(db: Kysely<unknown>, _dialect: SqlDialectName): Promise<void> {
  await db.schema.alterTable('profile_consent').addColumn('message_id', 'text').execute();
  await sql`
    UPDATE profile_consent SET message_id = (
      SELECT min(coalesce(h.message_id, '')) FROM consent_history h
      WHERE h.workspace_id = profile_consent.workspace_id
        AND h.profile_id = profile_consent.profile_id
        AND h.category = profile_consent.category
        AND h.ts_ms = profile_consent.ts_ms
        AND h.granted = profile_consent.granted
        AND h.source = profile_consent.source
    )`.execute(db);
}
