import type { StoredEvent } from '../ingestion/message-types.ts';

/**
 * The bus carries log entries to processing stages. The in-process adapter reads the log with
 * stored cursors; a JetStream adapter maps the same calls onto streams, durable consumers and
 * ack/nak/term. Domain code sees only this port.
 */
export interface BusDelivery {
  readonly entry: StoredEvent;
  /** 1 on first delivery; grows with every redelivery. */
  readonly attempt: number;
}

export type DeliveryOutcome =
  | { readonly kind: 'ack' }
  /** Deliver again after the delay (JetStream: nak with delay). */
  | { readonly kind: 'retry'; readonly delayMs: number }
  /** Never deliver again (JetStream: term); the caller has recorded why. */
  | { readonly kind: 'drop' };

export interface ConsumerSpec {
  /** Consumer group: processes that consume with the same group share the work, each entry once. */
  readonly group: string;
  readonly maxBatch: number;
  /**
   * Most bytes of stored payload one batch may hold (JetStream: a pull's `max_bytes`); the first
   * entry always comes. Undefined: only `maxBatch` bounds a batch.
   */
  readonly maxBatchBytes?: number;
  /**
   * Returns one outcome per delivery, in order. Entries sharing a partition key arrive in log
   * order. Throwing settles nothing (the store could not be reached, say): the consumer backs
   * off, longer after each consecutive failure, and delivers the same entries again, without
   * counting an attempt against them.
   */
  handle(deliveries: readonly BusDelivery[]): Promise<readonly DeliveryOutcome[]>;
}

export interface ConsumerHandle {
  /** Entries in the log that this group has not settled yet. */
  lag(): Promise<number>;
  stop(): Promise<void>;
}

export interface AnnouncedEntry {
  readonly seq: number;
  readonly workspaceId: string;
  readonly partitionKey: string;
}

export interface EventBus {
  /** Called after entries are durably in the log, so consumers need not wait for a poll. */
  announce(entries: readonly AnnouncedEntry[]): void;
  consume(spec: ConsumerSpec): ConsumerHandle;
  /** Schedules entries for one more delivery to a group (replay of failed events). */
  redeliver(group: string, seqs: readonly number[]): Promise<void>;
  close(): Promise<void>;
}

/** Entries of one person keep their order: the key is the workspace plus the best id at hand. */
export function partitionKeyOf(event: Pick<StoredEvent, 'workspaceId' | 'userId' | 'anonymousId'>): string {
  return `${event.workspaceId}:${event.userId ?? event.anonymousId ?? ''}`;
}
