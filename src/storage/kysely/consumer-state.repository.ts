import type { Kysely } from 'kysely';
import type { ConsumerProgress, ConsumerStateRepository } from '../../pipeline/consumer-state.port.ts';
import type { Database } from '../database-schema.ts';
import type { SqlDialectName } from '../sql-dialect.ts';
import type { ReadRouting } from './read-routing.ts';
import { writeTransaction } from './workspace-write.ts';

export class KyselyConsumerStateRepository implements ConsumerStateRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: SqlDialectName,
    /**
     * For `getCursor` (read-routing.ts): a stage's position is written only by its own consumer,
     * so what is committed is the answer, also for the API's lag and backlog while a batch of
     * another stage, or of this one, holds the main connection.
     */
    private readonly reads: ReadRouting = () => db,
  ) {}

  async getCursor(group: string): Promise<number> {
    const row = await this.reads()
      .selectFrom('consumer_cursors')
      .select('position')
      .where('consumer_group', '=', group)
      .executeTakeFirst();
    return Number(row?.position ?? 0);
  }

  async commit(group: string, progress: ConsumerProgress, nowMs: number): Promise<void> {
    // Losing a cursor move to a power cut only redelivers: handlers are idempotent.
    await writeTransaction(
      this.db,
      this.dialect,
      async (trx) => {
        if (progress.settled.length > 0) {
          await trx
            .deleteFrom('consumer_redeliveries')
            .where('consumer_group', '=', group)
            .where('seq', 'in', [...progress.settled])
            .execute();
        }
        if (progress.schedule.length > 0) {
          await trx
            .insertInto('consumer_redeliveries')
            .values(
              progress.schedule.map((s) => ({
                consumer_group: group,
                seq: s.seq,
                attempt: s.attempt,
                due_ms: s.dueMs,
              })),
            )
            .onConflict((oc) =>
              oc.columns(['consumer_group', 'seq']).doUpdateSet((eb) => ({
                attempt: eb.ref('excluded.attempt'),
                due_ms: eb.ref('excluded.due_ms'),
              })),
            )
            .execute();
        }
        if (progress.cursor !== undefined) {
          await trx
            .insertInto('consumer_cursors')
            .values({ consumer_group: group, position: progress.cursor, updated_ms: nowMs })
            .onConflict((oc) =>
              oc.column('consumer_group').doUpdateSet({ position: progress.cursor, updated_ms: nowMs }),
            )
            .execute();
        }
      },
      { replayable: true },
    );
  }

  async dueRedeliveries(
    group: string,
    nowMs: number,
    limit: number,
  ): Promise<{ seq: number; attempt: number }[]> {
    const rows = await this.db
      .selectFrom('consumer_redeliveries')
      .select(['seq', 'attempt'])
      .where('consumer_group', '=', group)
      .where('due_ms', '<=', nowMs)
      .orderBy('due_ms')
      .orderBy('seq')
      .limit(limit)
      .execute();
    return rows.map((row) => ({ seq: Number(row.seq), attempt: Number(row.attempt) }));
  }

  async nextDueMs(group: string): Promise<number | undefined> {
    const row = await this.db
      .selectFrom('consumer_redeliveries')
      .select((eb) => eb.fn.min('due_ms').as('due'))
      .where('consumer_group', '=', group)
      .executeTakeFirst();
    return row?.due === null || row?.due === undefined ? undefined : Number(row.due);
  }

  async scheduleNow(group: string, seqs: readonly number[], nowMs: number): Promise<void> {
    if (seqs.length === 0) return;
    await this.db
      .insertInto('consumer_redeliveries')
      .values(seqs.map((seq) => ({ consumer_group: group, seq, attempt: 0, due_ms: nowMs })))
      .onConflict((oc) => oc.columns(['consumer_group', 'seq']).doUpdateSet({ due_ms: nowMs }))
      .execute();
  }
}
