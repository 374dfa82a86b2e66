import type { StoredEvent } from '../ingestion/message-types.ts';
import type { Clock } from '../shared/clock.ts';

/**
 * A processing stage: normalization, identity, profiles, segments, destinations… each consumes
 * the log after the ack. Handlers must be idempotent: an entry can arrive more than once after
 * a crash or a replay, and processing it twice must leave the same state as once.
 */
export interface Stage {
  readonly name: string;
  readonly maxBatch?: number;
  /** Bytes of stored payload a batch may hold; DEFAULT_MAX_BATCH_BYTES when unset. */
  readonly maxBatchBytes?: number;
  handle(event: StoredEvent, context: StageContext): Promise<void>;
  /**
   * Optional: the whole batch at once (one transaction instead of one per entry). If it throws,
   * the runtime falls back to `handle` entry by entry, so a poison entry is still isolated.
   */
  handleBatch?(events: readonly StoredEvent[], context: StageContext): Promise<void>;
}

/**
 * A batch's payload bound when a stage sets none: 5,000 entries of the largest allowed event
 * (32 KB) would hold 160 MB of JSON, several times that once parsed; typical events (0.5–2 KB)
 * fill thousands of entries before reaching it.
 */
export const DEFAULT_MAX_BATCH_BYTES = 16 * 1024 * 1024;

export interface StageContext {
  readonly clock: Clock;
  readonly attempt: number;
}

export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  maxAttempts: 5,
  baseDelayMs: 500,
  maxDelayMs: 60_000,
});

export function retryDelay(policy: RetryPolicy, attempt: number): number {
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
}
