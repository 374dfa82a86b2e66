import type pg from 'pg';
import { payloadText } from '../../ingestion/accepted-batch.ts';
import type { AppendResult } from '../../ingestion/event-log.port.ts';
import type { AcceptedEvent } from '../../ingestion/message-types.ts';
import type { EventAppender } from '../kysely/event-log.repository.ts';

/**
 * The hot path on PostgreSQL: the whole group in one statement (unnest of column arrays).
 * An advisory transaction lock orders appenders, so log order equals commit order (a consumer
 * reading `seq > cursor` never skips an entry committed late with a smaller seq), and the
 * NOT EXISTS dedup check cannot race with another appender. Callers pass a group without
 * repeated (workspace, messageId).
 */
const APPEND_LOCK = 7_270_001;

const APPEND_SQL = `
WITH input AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::bigint[], $10::text[])
    WITH ORDINALITY AS t(workspace_id, source_id, message_id, type, event, user_id, anonymous_id, ts_ms, received_ms, payload, ord)
)
INSERT INTO events (workspace_id, source_id, message_id, type, event, user_id, anonymous_id, ts_ms, received_ms, payload)
SELECT i.workspace_id, i.source_id, i.message_id, i.type, i.event, i.user_id, i.anonymous_id, i.ts_ms, i.received_ms, i.payload
FROM input i
WHERE NOT EXISTS (
  SELECT 1 FROM events e WHERE e.workspace_id = i.workspace_id AND e.message_id = i.message_id AND e.received_ms >= $11
)
ORDER BY i.ord
RETURNING seq, workspace_id, message_id`;

const COUNT_SQL = `
INSERT INTO workspace_counters (workspace_id, events)
SELECT * FROM unnest($1::text[], $2::bigint[])
ON CONFLICT (workspace_id) DO UPDATE SET events = workspace_counters.events + excluded.events`;

export function createPostgresAppender(pool: pg.Pool): EventAppender {
  return { append: (events, cutoff) => appendGroup(pool, events, cutoff), prepare: async () => undefined };
}

async function appendGroup(
  pool: pg.Pool,
  events: readonly AcceptedEvent[],
  cutoff: number,
): Promise<AppendResult> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SET LOCAL synchronous_commit = on');
    await client.query('SELECT pg_advisory_xact_lock($1)', [APPEND_LOCK]);
    const columns = [
      events.map((e) => e.workspaceId),
      events.map((e) => e.sourceId),
      events.map((e) => e.messageId),
      events.map((e) => e.type),
      events.map((e) => e.event),
      events.map((e) => e.userId),
      events.map((e) => e.anonymousId),
      events.map((e) => e.timestampMs),
      events.map((e) => e.receivedMs),
      events.map((e) => payloadText(e.payload)),
    ];
    const inserted = await client.query<{ seq: number; workspace_id: string; message_id: string }>(
      APPEND_SQL,
      [...columns, cutoff],
    );
    const seqByKey = new Map<string, number>();
    const perWorkspace = new Map<string, number>();
    for (const row of inserted.rows) {
      seqByKey.set(`${row.workspace_id}\u0000${row.message_id}`, Number(row.seq));
      perWorkspace.set(row.workspace_id, (perWorkspace.get(row.workspace_id) ?? 0) + 1);
    }
    if (perWorkspace.size > 0)
      await client.query(COUNT_SQL, [[...perWorkspace.keys()], [...perWorkspace.values()]]);
    await client.query('COMMIT');
    return { seqs: events.map((e) => seqByKey.get(`${e.workspaceId}\u0000${e.messageId}`) ?? null) };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
