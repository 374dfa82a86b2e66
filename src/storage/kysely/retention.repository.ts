import type { Kysely } from 'kysely';
import type { RetentionRepository } from '../../privacy/privacy.port.ts';
import type { Database } from '../database-schema.ts';
import type { SqlDialectName } from '../sql-dialect.ts';
import { LOCK_CLASS, workspaceWrite } from './workspace-write.ts';

/**
 * Deletes old events in short transactions under the workspace's profile-state lock (timeline
 * rows are profile state). Receive time grows with the log position, so the oldest events are
 * the first positions of the workspace: each batch reads at most `limit` rows, and a workspace
 * with nothing to delete costs one short index read.
 */
export class KyselyRetentionRepository implements RetentionRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: SqlDialectName,
  ) {}

  async deleteEventsBefore(workspaceId: string, cutoffMs: number, limit: number): Promise<number> {
    return workspaceWrite(
      this.db,
      this.dialect,
      LOCK_CLASS.profileState,
      workspaceId,
      async (trx) => {
        const first = await trx
          .selectFrom('events')
          .select(['seq', 'received_ms'])
          .where('workspace_id', '=', workspaceId)
          .orderBy('seq')
          .limit(limit)
          .execute();
        const seqs = first.filter((row) => Number(row.received_ms) < cutoffMs).map((row) => Number(row.seq));
        if (seqs.length === 0) return 0;
        const deleted = await trx
          .deleteFrom('events')
          .where('workspace_id', '=', workspaceId)
          .where('seq', 'in', seqs)
          .executeTakeFirst();
        for (const table of ['profile_events', 'identity_decisions', 'failed_events'] as const)
          await trx
            .deleteFrom(table)
            .where('workspace_id', '=', workspaceId)
            .where('seq', 'in', seqs)
            .execute();
        await trx.deleteFrom('consumer_redeliveries').where('seq', 'in', seqs).execute();
        // Their deliveries too: the record of what went where follows the events' retention.
        await trx
          .deleteFrom('destination_deliveries')
          .where('workspace_id', '=', workspaceId)
          .where('event_seq', 'in', seqs)
          .execute();
        const n = Number(deleted.numDeletedRows);
        await trx
          .updateTable('workspace_counters')
          .set((eb) => ({ events: eb('events', '-', n) }))
          .where('workspace_id', '=', workspaceId)
          .execute();
        return n;
      },
      { writesLog: true },
    );
  }
}
