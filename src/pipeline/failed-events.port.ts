export interface FailedEvent {
  readonly id: string;
  readonly stage: string;
  readonly seq: number;
  readonly workspaceId: string;
  readonly errorCode: string;
  readonly reason: string;
  readonly attempts: number;
  readonly failedMs: number;
  readonly status: 'failed' | 'replayed';
  readonly replayedMs: number | null;
}

export interface FailedEventListOptions {
  readonly status?: FailedEvent['status'] | undefined;
  readonly stage?: string | undefined;
  /** Paging newest first: only records strictly before this (failedMs, id). */
  readonly before?: { readonly failedMs: number; readonly id: string } | undefined;
  readonly limit: number;
}

export interface FailedEventRepository {
  /** Idempotent per (stage, seq): a redelivered failure updates the same record. */
  record(failure: Omit<FailedEvent, 'id' | 'status' | 'replayedMs'> & { id: string }): Promise<void>;
  list(workspaceId: string, options: FailedEventListOptions): Promise<FailedEvent[]>;
  find(workspaceId: string, id: string): Promise<FailedEvent | undefined>;
  markReplayed(ids: readonly string[], replayedMs: number): Promise<void>;
  countFailed(workspaceId?: string): Promise<number>;
  countFailedByStage(): Promise<{ stage: string; count: number }[]>;
}
