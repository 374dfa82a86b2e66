import { sql, type Kysely } from 'kysely';
import {
  MAX_STORED_EVENT_BYTES,
  type AppendResult,
  type EventLogRepository,
  type EventQuery,
  type EventQueryResult,
  type WrittenEvents,
} from '../../ingestion/event-log.port.ts';
import type { AcceptedEvent, StoredEvent } from '../../ingestion/message-types.ts';
import type { Database } from '../database-schema.ts';
import type { PiiSealing } from './pii-sealing.ts';
import type { ReadRouting } from './read-routing.ts';
import { toStoredEvent } from './row-mappers.ts';
import type { Db } from './workspace-write.ts';

/** The durable append is dialect-specific (it is the hot path); everything else is shared SQL. */
export interface EventAppender {
  append(events: readonly AcceptedEvent[], dedupCutoffMs: number): Promise<AppendResult>;
  /** See EventLogRepository.write. */
  write?(events: readonly AcceptedEvent[], dedupCutoffMs: number): Promise<WrittenEvents>;
  prepare(dedupCutoffMs: number): Promise<void>;
}

/**
 * The workspace's events after `afterSeq`, in log order (also inside a transaction: `db`); with
 * `maxBytes`, bounded as EventLogRepository.readAfter is.
 */
export function logTail(
  db: Db,
  sealing: PiiSealing,
  workspaceId: string,
  afterSeq: number,
  limit: number,
  maxBytes?: number,
): Promise<StoredEvent[]> {
  return readLog(db, sealing, { workspaceId, afterSeq, limit, maxBytes });
}

interface LogRead {
  /** One workspace's events, or the whole log's. */
  readonly workspaceId?: string;
  readonly afterSeq: number;
  readonly limit: number;
  readonly maxBytes: number | undefined;
}

/** Events after `afterSeq` in log order, at most `limit`, within `maxBytes` of payload when given. */
async function readLog(db: Db, sealing: PiiSealing, read: LogRead): Promise<StoredEvent[]> {
  const through = await lastSeqWithin(db, read);
  if (through === read.afterSeq) return [];
  let query = db.selectFrom('events').selectAll().where('seq', '>', read.afterSeq);
  if (read.workspaceId !== undefined) query = query.where('workspace_id', '=', read.workspaceId);
  if (through !== undefined) query = query.where('seq', '<=', through);
  const rows = await query.orderBy('seq').limit(read.limit).execute();
  return rows.map((row) => toStoredEvent(row, sealing));
}

/**
 * The last seq of a read (of one workspace, or of the whole log) that fits `maxBytes` of
 * payload, or undefined when no bound is given. A pass over the same rows before the read
 * (`octet_length` takes the size from the row's header on both databases, without decoding the
 * text): on the identity benchmark it costs ~3 µs per entry, ~2 % of the profiles stage, the
 * price of a bounded batch. Small reads cannot exceed the bound: they skip it. When every row
 * it saw fits, the read still stops at the last of them: appends that commit between the two
 * passes were not measured (a batch of five 2 KB entries under a 7 KB bound, seen in CI).
 */
async function lastSeqWithin(db: Db, read: LogRead): Promise<number | undefined> {
  const { workspaceId, afterSeq, limit, maxBytes } = read;
  if (maxBytes === undefined || limit * MAX_STORED_EVENT_BYTES <= maxBytes) return undefined;
  let query = db
    .selectFrom('events')
    .select(['seq', sql<number>`octet_length(payload)`.as('bytes')])
    .where('seq', '>', afterSeq);
  if (workspaceId !== undefined) query = query.where('workspace_id', '=', workspaceId);
  const sizes = await query.orderBy('seq').limit(limit).execute();
  let total = 0;
  let previous: number | undefined;
  for (const row of sizes) {
    total += Number(row.bytes);
    if (total > maxBytes) return previous ?? Number(row.seq);
    previous = Number(row.seq);
  }
  return previous ?? afterSeq;
}

export class KyselyEventLogRepository implements EventLogRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly appender: EventAppender,
    private readonly sealing: PiiSealing,
    /** For the API's listings, live tail and counts (read-routing.ts); the pipeline's reads stay on `db`. */
    private readonly reads: ReadRouting = () => db,
  ) {}

  append(events: readonly AcceptedEvent[], dedupCutoffMs: number): Promise<AppendResult> {
    if (events.length === 0) return Promise.resolve({ seqs: [] });
    return this.appender.append(events, dedupCutoffMs);
  }

  get write(): EventLogRepository['write'] {
    const write = this.appender.write?.bind(this.appender);
    if (write === undefined) return undefined;
    return (events, dedupCutoffMs) =>
      events.length === 0
        ? Promise.resolve({ seqs: [], durable: Promise.resolve() })
        : write(events, dedupCutoffMs);
  }

  prepare(dedupCutoffMs: number): Promise<void> {
    return this.appender.prepare(dedupCutoffMs);
  }

  readAfter(afterSeq: number, limit: number, maxBytes?: number): Promise<StoredEvent[]> {
    return readLog(this.db, this.sealing, { afterSeq, limit, maxBytes });
  }

  async readBySeqs(seqs: readonly number[]): Promise<StoredEvent[]> {
    if (seqs.length === 0) return [];
    const rows = await this.db
      .selectFrom('events')
      .selectAll()
      .where('seq', 'in', [...seqs])
      .orderBy('seq')
      .execute();
    return rows.map((row) => toStoredEvent(row, this.sealing));
  }

  async query(query: EventQuery): Promise<EventQueryResult> {
    const filtered =
      query.type !== undefined ||
      query.event !== undefined ||
      query.userId !== undefined ||
      query.anonymousId !== undefined;
    const floor =
      filtered && query.scanWithin !== undefined ? await this.#scanFloor(query, query.scanWithin) : undefined;
    let builder = this.reads().selectFrom('events').selectAll().where('workspace_id', '=', query.workspaceId);
    if (query.type !== undefined) builder = builder.where('type', '=', query.type);
    if (query.event !== undefined) builder = builder.where('event', '=', query.event);
    if (query.userId !== undefined) builder = builder.where('user_id', '=', query.userId);
    if (query.anonymousId !== undefined) builder = builder.where('anonymous_id', '=', query.anonymousId);
    if (query.beforeSeq !== undefined) builder = builder.where('seq', '<', query.beforeSeq);
    if (floor !== undefined) builder = builder.where('seq', '>=', floor);
    const rows = await builder.orderBy('seq', 'desc').limit(query.limit).execute();
    const events = rows.map((row) => toStoredEvent(row, this.sealing));
    return floor !== undefined && events.length < query.limit
      ? { events, continueBefore: floor }
      : { events };
  }

  /**
   * The position of the `within`-th entry of the workspace before the query's cursor, read
   * from the (workspace, seq) index alone; undefined when there are not that many.
   */
  async #scanFloor(query: EventQuery, within: number): Promise<number | undefined> {
    let builder = this.reads()
      .selectFrom('events')
      .select('seq')
      .where('workspace_id', '=', query.workspaceId);
    if (query.beforeSeq !== undefined) builder = builder.where('seq', '<', query.beforeSeq);
    const row = await builder
      .orderBy('seq', 'desc')
      .limit(1)
      .offset(Math.max(0, within - 1))
      .executeTakeFirst();
    return row === undefined ? undefined : Number(row.seq);
  }

  tail(workspaceId: string, afterSeq: number, limit: number): Promise<StoredEvent[]> {
    return logTail(this.reads(), this.sealing, workspaceId, afterSeq, limit);
  }

  async headSeq(): Promise<number> {
    const row = await this.db
      .selectFrom('events')
      .select((eb) => eb.fn.max('seq').as('head'))
      .executeTakeFirst();
    return Number(row?.head ?? 0);
  }

  async backlog(
    workspaceId: string,
    afterSeq: number,
    limit: number,
  ): Promise<{ events: number; oldestReceivedMs: number | null }> {
    // A range of the (workspace, seq) index, cut at `limit` entries: the answer costs at most
    // that many index entries however far behind processing is.
    const row = await this.reads()
      .selectFrom((db) =>
        db
          .selectFrom('events')
          .select('received_ms')
          .where('workspace_id', '=', workspaceId)
          .where('seq', '>', afterSeq)
          .orderBy('seq')
          .limit(limit)
          .as('pending'),
      )
      .select((eb) => [eb.fn.countAll().as('events'), eb.fn.min('received_ms').as('oldest')])
      .executeTakeFirst();
    const oldest = row?.oldest;
    return {
      events: Number(row?.events ?? 0),
      oldestReceivedMs: oldest === null || oldest === undefined ? null : Number(oldest),
    };
  }

  async countByWorkspace(workspaceId: string): Promise<number> {
    const row = await this.reads()
      .selectFrom('workspace_counters')
      .select('events')
      .where('workspace_id', '=', workspaceId)
      .executeTakeFirst();
    return Number(row?.events ?? 0);
  }
}
