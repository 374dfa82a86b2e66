import type { Database as SqliteDatabase } from 'better-sqlite3';
import type { Kysely } from 'kysely';
import type { AcceptedEvent } from '../../ingestion/message-types.ts';
import type { Database } from '../database-schema.ts';
import type { EventAppender } from '../kysely/event-log.repository.ts';
import { messageKeyHash, RecentMessageIndex } from './recent-message-index.ts';

/** Receive times of consecutive entries can be slightly out of order across one group commit. */
const REBUILD_SLACK_MS = 10 * 60_000;

type AppendAll = (events: readonly AcceptedEvent[], cutoff: number) => (number | null)[];

interface LoggedKey {
  readonly workspace_id: string;
  readonly message_id: string;
  readonly received_ms: number;
}

/**
 * The hot path on SQLite: prepared statements in one IMMEDIATE transaction, holding Kysely's
 * connection so no other statement can slip into the transaction. Dedup asks the in-memory
 * RecentMessageIndex for candidates and confirms each by reading the candidate entry.
 */
export function createSqliteAppender(db: Kysely<Database>, sqlite: SqliteDatabase): EventAppender {
  // Prepared on first use: the tables exist only after migrations ran.
  let append: AppendAll | undefined;
  return {
    append: (events, cutoff) =>
      db.connection().execute(async () => {
        append ??= prepareAppend(sqlite, events[0]?.receivedMs ?? Date.now(), cutoff);
        return { seqs: append(events, cutoff) };
      }),
    prepare: (cutoff) =>
      db.connection().execute(async () => {
        append ??= prepareAppend(sqlite, Date.now(), cutoff);
      }),
  };
}

function prepareAppend(sqlite: SqliteDatabase, nowMs: number, firstCutoff: number): AppendAll {
  const windowMs = Math.max(60_000, nowMs - firstCutoff);
  const index = new RecentMessageIndex(Math.ceil(windowMs / 4));
  const entryAt = sqlite.prepare<[number], LoggedKey>(
    'SELECT workspace_id, message_id, received_ms FROM events WHERE seq = ?',
  );
  // The log since the cutoff is the whole dedup state: rebuild the index from it.
  const recent = sqlite.prepare<[number], LoggedKey & { seq: number }>(
    'SELECT seq, workspace_id, message_id, received_ms FROM events WHERE seq >= ?',
  );
  for (const row of recent.iterate(firstSeqReceivedSince(sqlite, firstCutoff - REBUILD_SLACK_MS))) {
    if (row.received_ms >= firstCutoff)
      index.add(messageKeyHash(row.workspace_id, row.message_id), row.seq, row.received_ms);
  }

  const insert = sqlite.prepare(
    `INSERT INTO events (workspace_id, source_id, message_id, type, event, user_id, anonymous_id, ts_ms, received_ms, payload)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const count = sqlite.prepare(
    `INSERT INTO workspace_counters (workspace_id, events) VALUES (?, ?)
     ON CONFLICT (workspace_id) DO UPDATE SET events = workspace_counters.events + excluded.events`,
  );
  const isDuplicate = (e: AcceptedEvent, hash: number, cutoff: number): boolean =>
    index.candidates(hash).some((seq) => {
      const entry = entryAt.get(seq);
      return (
        entry !== undefined &&
        entry.received_ms >= cutoff &&
        entry.workspace_id === e.workspaceId &&
        entry.message_id === e.messageId
      );
    });
  const appendAll = sqlite.transaction((events: readonly AcceptedEvent[], cutoff: number) => {
    const seqs: (number | null)[] = [];
    const perWorkspace = new Map<string, number>();
    for (const e of events) {
      const hash = messageKeyHash(e.workspaceId, e.messageId);
      if (isDuplicate(e, hash, cutoff)) {
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
      const seq = Number(info.lastInsertRowid);
      // Added before commit: should the transaction roll back, the entry check rejects it.
      index.add(hash, seq, e.receivedMs);
      seqs.push(seq);
      perWorkspace.set(e.workspaceId, (perWorkspace.get(e.workspaceId) ?? 0) + 1);
    }
    for (const [workspaceId, n] of perWorkspace) count.run(workspaceId, n);
    return seqs;
  });
  let lastPrune = nowMs;
  return (events, cutoff) => {
    const seqs = appendAll.immediate(events, cutoff);
    if (cutoff - lastPrune > windowMs / 8) {
      index.prune(cutoff);
      lastPrune = cutoff;
    }
    return seqs;
  };
}

/**
 * The first log position received at or after `sinceMs`, found by binary search over the
 * sequence (receive time grows with it), so no index on receive time is needed.
 */
function firstSeqReceivedSince(sqlite: SqliteDatabase, sinceMs: number): number {
  const bounds = sqlite.prepare('SELECT min(seq) AS lo, max(seq) AS hi FROM events').get() as {
    lo: number | null;
    hi: number | null;
  };
  if (bounds.lo === null || bounds.hi === null) return 0;
  const at = sqlite.prepare<[number], { seq: number; received_ms: number }>(
    'SELECT seq, received_ms FROM events WHERE seq >= ? ORDER BY seq LIMIT 1',
  );
  let lo = bounds.lo;
  let hi = bounds.hi + 1;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    const row = at.get(mid);
    if (row === undefined || row.received_ms >= sinceMs) hi = mid;
    else lo = row.seq + 1;
  }
  return lo;
}
