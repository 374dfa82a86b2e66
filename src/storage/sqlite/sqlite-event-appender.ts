import type { Database as SqliteDatabase, Statement } from 'better-sqlite3';
import type { Kysely } from 'kysely';
import type { WrittenEvents } from '../../ingestion/event-log.port.ts';
import type { AcceptedEvent } from '../../ingestion/message-types.ts';
import type { Database } from '../database-schema.ts';
import type { EventAppender } from '../kysely/event-log.repository.ts';
import { whileBusy } from './lock-waiting-dialect.ts';
import { messageKeyHash, RecentMessageIndex } from './recent-message-index.ts';
import { WalFileSync } from './wal-file-sync.ts';

/** Receive times of consecutive entries can be slightly out of order across one group commit. */
const REBUILD_SLACK_MS = 10 * 60_000;

type AppendAll = (events: readonly AcceptedEvent[], cutoff: number) => (number | null)[];

interface LoggedKey {
  readonly workspace_id: string;
  readonly message_id: string;
  readonly received_ms: number;
}

/** How long an append waits for the log file's write lock before the group fails (busy). */
const APPEND_WAIT = { waitMs: 5_000, wholeTransaction: true } as const;

/**
 * The hot path on SQLite: prepared statements in one IMMEDIATE transaction. Dedup asks the
 * in-memory RecentMessageIndex for candidates and confirms each by reading the candidate entry.
 *
 * `logDb` is the connection to the log file (`ownConnection`): the main connection's
 * transactions never hold it up (log-file.ts). It never waits for the log's write lock on the
 * event loop: its busy timeout is 0 and a busy attempt is retried a few milliseconds later
 * (the lock's holder may be this very thread: the main connection deleting events, between
 * two slices of its transaction). Without a log file of its own (a throwaway in-memory store),
 * it shares the main connection and holds Kysely's connection so no other statement can slip
 * into the transaction.
 */
export function createSqliteAppender(
  db: Kysely<Database>,
  logDb: SqliteDatabase,
  ownConnection: boolean,
): EventAppender & { close(): void } {
  // Prepared on first use: the tables exist only after migrations ran.
  let append: AppendAll | undefined;
  const wal = logDb.memory ? undefined : new WalFileSync(`${logDb.name}-wal`);
  if (ownConnection) logDb.pragma('busy_timeout = 0');
  const commit = (events: readonly AcceptedEvent[], cutoff: number): (number | null)[] => {
    append ??= prepareAppend(logDb, events[0]?.receivedMs ?? Date.now(), cutoff);
    if (wal === undefined) return append(events, cutoff);
    // The commit writes the frames; the WAL's fsync, off the event loop, makes them durable.
    const restore = Number(logDb.pragma('synchronous', { simple: true }));
    logDb.pragma('synchronous = NORMAL');
    try {
      return append(events, cutoff);
    } finally {
      logDb.pragma(`synchronous = ${restore}`);
    }
  };
  const write = async (events: readonly AcceptedEvent[], cutoff: number): Promise<WrittenEvents> => {
    const seqs = ownConnection
      ? await whileBusy(() => commit(events, cutoff), APPEND_WAIT)
      : await db.connection().execute(async () => commit(events, cutoff));
    return { seqs, durable: wal === undefined ? Promise.resolve() : wal.sync() };
  };
  return {
    write,
    append: async (events, cutoff) => {
      const { seqs, durable } = await write(events, cutoff);
      await durable;
      return { seqs };
    },
    prepare: async (cutoff) => {
      const prepare = (): void => {
        append ??= prepareAppend(logDb, Date.now(), cutoff);
      };
      if (ownConnection) await whileBusy(prepare, APPEND_WAIT);
      else await db.connection().execute(async () => prepare());
    },
    close: () => wal?.close(),
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

  // Multi-row INSERTs: one statement per chunk of rows costs less than one per row (fewer
  // calls into SQLite, one AUTOINCREMENT bookkeeping update per statement). Rows of one INSERT
  // get consecutive sequence numbers ending at lastInsertRowid: the transaction is the only
  // writer and every row takes max(seq) + 1.
  const inserts = new Map<number, Statement<unknown[]>>();
  const insertOf = (rows: number): Statement<unknown[]> => {
    let statement = inserts.get(rows);
    if (!statement) {
      statement = sqlite.prepare<unknown[]>(
        `INSERT INTO events (workspace_id, source_id, message_id, type, event, user_id, anonymous_id, ts_ms, received_ms, payload)
         VALUES ${Array.from({ length: rows }, () => '(?, ?, ?, ?, ?, ?, ?, ?, ?, CAST(? AS TEXT))').join(', ')}`,
      );
      inserts.set(rows, statement);
    }
    return statement;
  };
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
    const fresh: number[] = [];
    const hashes: number[] = [];
    const perWorkspace = new Map<string, number>();
    // Rows are inserted after every check, so a key repeated within this call (the committer
    // passes none, but the port allows it) is caught here rather than in the log.
    const thisCall = new Map<number, number[]>();
    for (let i = 0; i < events.length; i++) {
      const e = events[i] as AcceptedEvent;
      const hash = messageKeyHash(e.workspaceId, e.messageId);
      hashes.push(hash);
      const earlier = thisCall.get(hash);
      const repeated = earlier?.some((j) => {
        const other = events[j] as AcceptedEvent;
        return other.workspaceId === e.workspaceId && other.messageId === e.messageId;
      });
      if (repeated || isDuplicate(e, hash, cutoff)) {
        seqs.push(null);
        continue;
      }
      if (earlier) earlier.push(i);
      else thisCall.set(hash, [i]);
      seqs.push(0);
      fresh.push(i);
      perWorkspace.set(e.workspaceId, (perWorkspace.get(e.workspaceId) ?? 0) + 1);
    }
    for (let done = 0; done < fresh.length;) {
      const rows = chunkRows(fresh.length - done);
      const values: unknown[] = [];
      for (let k = done; k < done + rows; k++) {
        const e = events[fresh[k] as number] as AcceptedEvent;
        values.push(
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
      }
      const info = insertOf(rows).run(values);
      const last = Number(info.lastInsertRowid);
      for (let k = 0; k < rows; k++) {
        const i = fresh[done + k] as number;
        const seq = last - rows + 1 + k;
        seqs[i] = seq;
        // Added before commit: should the transaction roll back, the entry check rejects it.
        index.add(hashes[i] as number, seq, (events[i] as AcceptedEvent).receivedMs);
      }
      done += rows;
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

/** Rows per INSERT: a few fixed statement sizes, so at most four statements are prepared. */
function chunkRows(remaining: number): number {
  for (const rows of [64, 16, 4]) if (remaining >= rows) return rows;
  return 1;
}
