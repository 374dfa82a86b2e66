import type { Database as SqliteDatabase } from 'better-sqlite3';
import type { Kysely } from 'kysely';
import type { AcceptedEvent } from '../../ingestion/message-types.ts';
import type { Database } from '../database-schema.ts';
import type { EventAppender } from '../kysely/event-log.repository.ts';

type AppendAll = (events: readonly AcceptedEvent[], cutoff: number) => (number | null)[];

/**
 * The hot path on SQLite: prepared statements in one IMMEDIATE transaction. It runs while
 * holding Kysely's connection, so no other statement can slip into the transaction.
 */
export function createSqliteAppender(db: Kysely<Database>, sqlite: SqliteDatabase): EventAppender {
  // Prepared on first use: the tables exist only after migrations ran.
  let append: AppendAll | undefined;
  return (events, cutoff) =>
    db.connection().execute(async () => {
      append ??= prepareAppend(sqlite);
      return { seqs: append(events, cutoff) };
    });
}

function prepareAppend(sqlite: SqliteDatabase): AppendAll {
  const seen = sqlite.prepare(
    'SELECT 1 FROM events WHERE workspace_id = ? AND message_id = ? AND received_ms >= ? LIMIT 1',
  );
  const insert = sqlite.prepare(
    `INSERT INTO events (workspace_id, source_id, message_id, type, event, user_id, anonymous_id, ts_ms, received_ms, payload)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const count = sqlite.prepare(
    `INSERT INTO workspace_counters (workspace_id, events) VALUES (?, ?)
     ON CONFLICT (workspace_id) DO UPDATE SET events = workspace_counters.events + excluded.events`,
  );
  const appendAll = sqlite.transaction((events: readonly AcceptedEvent[], cutoff: number) => {
    const seqs: (number | null)[] = [];
    const perWorkspace = new Map<string, number>();
    for (const e of events) {
      if (seen.get(e.workspaceId, e.messageId, cutoff) !== undefined) {
        seqs.push(null);
        continue;
      }
      const info = insert.run(
        e.workspaceId,
        e.sourceId,
        e.messageId,
        e.type,
        e.event,
        e.userId,
        e.anonymousId,
        e.timestampMs,
        e.receivedMs,
        e.payload,
      );
      seqs.push(Number(info.lastInsertRowid));
      perWorkspace.set(e.workspaceId, (perWorkspace.get(e.workspaceId) ?? 0) + 1);
    }
    for (const [workspaceId, n] of perWorkspace) count.run(workspaceId, n);
    return seqs;
  });
  return (events, cutoff) => appendAll.immediate(events, cutoff);
}
