import type { Kysely } from 'kysely';
import type {
  FailedEvent,
  FailedEventListOptions,
  FailedEventRepository,
} from '../../pipeline/failed-events.port.ts';
import type { Database } from '../database-schema.ts';
import type { ReadRouting } from './read-routing.ts';
import { toFailedEvent } from './row-mappers.ts';

export class KyselyFailedEventRepository implements FailedEventRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly reads: ReadRouting = () => db,
  ) {}

  async record(failure: Omit<FailedEvent, 'status' | 'replayedMs'>): Promise<void> {
    await this.db
      .insertInto('failed_events')
      .values({
        id: failure.id,
        stage: failure.stage,
        seq: failure.seq,
        workspace_id: failure.workspaceId,
        error_code: failure.errorCode,
        reason: failure.reason,
        attempts: failure.attempts,
        failed_ms: failure.failedMs,
        status: 'failed',
        replayed_ms: null,
      })
      .onConflict((oc) =>
        oc.columns(['stage', 'seq']).doUpdateSet((eb) => ({
          error_code: eb.ref('excluded.error_code'),
          reason: eb.ref('excluded.reason'),
          attempts: eb.ref('excluded.attempts'),
          failed_ms: eb.ref('excluded.failed_ms'),
          status: 'failed',
        })),
      )
      .execute();
  }

  async list(workspaceId: string, options: FailedEventListOptions): Promise<FailedEvent[]> {
    let query = this.db.selectFrom('failed_events').selectAll().where('workspace_id', '=', workspaceId);
    if (options.status !== undefined) query = query.where('status', '=', options.status);
    if (options.stage !== undefined) query = query.where('stage', '=', options.stage);
    const before = options.before;
    if (before !== undefined) {
      query = query.where((eb) =>
        eb.or([
          eb('failed_ms', '<', before.failedMs),
          eb.and([eb('failed_ms', '=', before.failedMs), eb('id', '<', before.id)]),
        ]),
      );
    }
    const rows = await query
      .orderBy('failed_ms', 'desc')
      .orderBy('id', 'desc')
      .limit(options.limit)
      .execute();
    return rows.map(toFailedEvent);
  }

  async find(workspaceId: string, id: string): Promise<FailedEvent | undefined> {
    const row = await this.db
      .selectFrom('failed_events')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? toFailedEvent(row) : undefined;
  }

  async markReplayed(ids: readonly string[], replayedMs: number): Promise<void> {
    if (ids.length === 0) return;
    await this.db
      .updateTable('failed_events')
      .set({ status: 'replayed', replayed_ms: replayedMs })
      .where('id', 'in', [...ids])
      .execute();
  }

  async countFailed(workspaceId?: string): Promise<number> {
    let query = this.reads()
      .selectFrom('failed_events')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('status', '=', 'failed');
    if (workspaceId !== undefined) query = query.where('workspace_id', '=', workspaceId);
    const row = await query.executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  async countFailedByStage(): Promise<{ stage: string; count: number }[]> {
    const rows = await this.db
      .selectFrom('failed_events')
      .select(['stage', (eb) => eb.fn.countAll().as('n')])
      .where('status', '=', 'failed')
      .groupBy('stage')
      .execute();
    return rows.map((row) => ({ stage: row.stage, count: Number(row.n) }));
  }
}
