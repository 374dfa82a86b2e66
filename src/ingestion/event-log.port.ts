import { INGESTION_LIMITS } from './ingestion-limits.ts';
import type { AcceptedEvent, MessageType, StoredEvent } from './message-types.ts';

/**
 * An upper bound on one stored payload: an event is at most INGESTION_LIMITS.maxEventBytes as
 * sent, and what storing adds (enrichment, sealed personal data in base64) is far below as much
 * again. Lets a reader bound the bytes of a read from its count alone.
 */
export const MAX_STORED_EVENT_BYTES = 2 * INGESTION_LIMITS.maxEventBytes;

export interface AppendResult {
  /** Aligned with the input: the log sequence number given to each event, or null for a duplicate. */
  readonly seqs: readonly (number | null)[];
}

/** Events written to the log that are not yet known to survive a power loss. */
export interface WrittenEvents extends AppendResult {
  /** Settles once they would: nobody may be told they are stored before. */
  readonly durable: Promise<void>;
}

export interface EventQuery {
  readonly workspaceId: string;
  readonly type?: MessageType | undefined;
  readonly event?: string | undefined;
  readonly userId?: string | undefined;
  readonly anonymousId?: string | undefined;
  /** Only events with a smaller sequence number (paging newest first). */
  readonly beforeSeq?: number | undefined;
  readonly limit: number;
  /**
   * With a filter: look at no more than this many of the workspace's entries (newest first,
   * before `beforeSeq`). Neither store indexes every filter (SQLite keeps only the
   * per-workspace order on its log: every index is paid on the ack path), so a filter matching
   * nothing would otherwise read the workspace's whole history, on SQLite holding the one
   * connection, and the ack path behind it, for as long.
   */
  readonly scanWithin?: number | undefined;
}

export interface EventQueryResult {
  readonly events: StoredEvent[];
  /**
   * Set when the scan stopped at its bound with fewer than `limit` events found: the query
   * continues with `beforeSeq` equal to this.
   */
  readonly continueBefore?: number;
}

/** The durable, append-only event log: the source of truth every stage consumes. */
export interface EventLogRepository {
  /**
   * Appends in one durable transaction. A messageId already stored in the same workspace with
   * a receivedAt at or after `dedupCutoffMs` is not stored again (the log itself is the dedup
   * window, so it survives restarts with nothing to prune). Returns once the data is on disk.
   */
  append(events: readonly AcceptedEvent[], dedupCutoffMs: number): Promise<AppendResult>;
  /**
   * `append` in two steps, where the store can make a write durable off the event loop
   * (SQLite: the WAL's fsync on libuv's thread pool): resolves once the events are written,
   * with the promise of their durability. The group committer writes the next group while the
   * last one is being made durable. Absent where `append` is the only way (PostgreSQL).
   */
  write?(events: readonly AcceptedEvent[], dedupCutoffMs: number): Promise<WrittenEvents>;
  /**
   * Readies the append path before traffic (SQLite rebuilds its in-memory dedup index from
   * the log since the cutoff), so the first request after a restart does not wait for it.
   */
  prepare(dedupCutoffMs: number): Promise<void>;
  /**
   * Events after `afterSeq`, oldest first, across workspaces (for consumers of the log). With
   * `maxBytes`, the read stops before the event whose stored payload would take the total past
   * it (the first event always comes), so a batch of large events stays bounded in memory.
   */
  readAfter(afterSeq: number, limit: number, maxBytes?: number): Promise<StoredEvent[]>;
  readBySeqs(seqs: readonly number[]): Promise<StoredEvent[]>;
  /** Events of one workspace, newest first. */
  query(query: EventQuery): Promise<EventQueryResult>;
  /** Events of one workspace after `afterSeq`, oldest first (for the live stream). */
  tail(workspaceId: string, afterSeq: number, limit: number): Promise<StoredEvent[]>;
  headSeq(): Promise<number>;
  countByWorkspace(workspaceId: string): Promise<number>;
  /**
   * The workspace's entries after `afterSeq` (at most `limit` counted), and when the oldest of
   * them was received (null: none): what processing has still to take up.
   */
  backlog(
    workspaceId: string,
    afterSeq: number,
    limit: number,
  ): Promise<{ readonly events: number; readonly oldestReceivedMs: number | null }>;
}
