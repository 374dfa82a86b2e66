/**
 * Where a log-reading bus keeps each consumer group's progress: the cursor (last settled log
 * position) and entries scheduled for redelivery. Stored with the log, so progress survives a
 * restart and is committed together with the outcome of each batch.
 */
export interface ScheduledRedelivery {
  readonly seq: number;
  /** Attempts already made; the next delivery is attempt + 1. */
  readonly attempt: number;
  readonly dueMs: number;
}

export interface ConsumerProgress {
  /** New cursor, when fresh entries were settled. */
  readonly cursor?: number | undefined;
  readonly schedule: readonly ScheduledRedelivery[];
  /** Redeliveries that are done (acked or dropped). */
  readonly settled: readonly number[];
}

export interface ConsumerStateRepository {
  getCursor(group: string): Promise<number>;
  commit(group: string, progress: ConsumerProgress, nowMs: number): Promise<void>;
  dueRedeliveries(group: string, nowMs: number, limit: number): Promise<{ seq: number; attempt: number }[]>;
  nextDueMs(group: string): Promise<number | undefined>;
  /** Adds entries for another delivery, due now; keeps an existing schedule's attempt count. */
  scheduleNow(group: string, seqs: readonly number[], nowMs: number): Promise<void>;
}
