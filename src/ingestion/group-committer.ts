import { AppError } from '../errors/app-error.ts';
import type { EventLogRepository } from './event-log.port.ts';
import type { AcceptedEvent } from './message-types.ts';

export interface CommitOutcome {
  readonly stored: number;
  readonly duplicates: number;
  readonly seqs: readonly (number | null)[];
}

interface PendingAppend {
  readonly events: readonly AcceptedEvent[];
  readonly resolve: (outcome: CommitOutcome) => void;
  readonly reject: (error: unknown) => void;
}

export interface GroupCommitterOptions {
  readonly log: EventLogRepository;
  readonly dedupWindowMs: number;
  readonly now: () => number;
  /** Events waiting beyond which new appends are refused with `ingest.overloaded`. */
  readonly maxPendingEvents: number;
  /** Upper bound of one transaction, so a burst does not build one giant commit. */
  readonly maxGroupEvents?: number;
  /** Longest wait for more requests to join a commit under load (default 2 ms). */
  readonly maxGroupDelayMs?: number;
  readonly onCommitted?: (
    events: readonly AcceptedEvent[],
    seqs: readonly (number | null)[],
    seconds: number,
  ) => void;
}

/**
 * Group commit: appends from concurrent requests wait together and are written in one durable
 * transaction, so one fsync acknowledges many requests. Nothing is acknowledged before its
 * transaction commits; when the queue is full the caller is told to back off (429), never
 * silently dropped.
 */
export class GroupCommitter {
  readonly #options: GroupCommitterOptions;
  #queue: PendingAppend[] = [];
  #pendingEvents = 0;
  #flushing = false;
  #scheduled = false;
  #closed = false;
  #idle: (() => void)[] = [];
  #lastCommitMs = 0;
  #lastCommitEnd = -Infinity;

  constructor(options: GroupCommitterOptions) {
    this.#options = options;
  }

  get pendingEvents(): number {
    return this.#pendingEvents;
  }

  append(events: readonly AcceptedEvent[]): Promise<CommitOutcome> {
    if (this.#closed) return Promise.reject(new AppError('server.shutting_down'));
    if (events.length === 0) return Promise.resolve({ stored: 0, duplicates: 0, seqs: [] });
    // An idle committer takes any legal append, so no valid batch can be refused forever.
    if (this.#pendingEvents > 0 && this.#pendingEvents + events.length > this.#options.maxPendingEvents) {
      return Promise.reject(
        new AppError('ingest.overloaded', 'too many events are waiting to be written; retry shortly', {
          retryAfterSeconds: 1,
        }),
      );
    }
    return new Promise<CommitOutcome>((resolve, reject) => {
      this.#queue.push({ events, resolve, reject });
      this.#pendingEvents += events.length;
      this.#schedule();
    });
  }

  /** Refuses new appends and waits until everything queued is committed. */
  async close(): Promise<void> {
    this.#closed = true;
    if (!this.#flushing && this.#queue.length === 0) return;
    await new Promise<void>((resolve) => this.#idle.push(resolve));
  }

  #schedule(): void {
    if (this.#scheduled || this.#flushing) return;
    this.#scheduled = true;
    const run = (): void => {
      this.#scheduled = false;
      void this.#flush();
    };
    // Under load, waiting about as long as the last commit took lets the requests arriving
    // meanwhile share the next fsync (commit delay); a lone request on an idle server, or a
    // group already large, goes at once (setImmediate still gathers this loop turn).
    const delayMs = Math.min(this.#options.maxGroupDelayMs ?? 2, this.#lastCommitMs);
    const large = this.#pendingEvents >= (this.#options.maxGroupEvents ?? 20_000) / 4;
    if (delayMs >= 0.5 && !large && this.#recentlyBusy()) setTimeout(run, delayMs);
    else setImmediate(run);
  }

  /** Whether another commit finished moments ago: only then is more traffic likely to join. */
  #recentlyBusy(): boolean {
    return performance.now() - this.#lastCommitEnd < 10;
  }

  #takeGroup(): PendingAppend[] {
    const max = this.#options.maxGroupEvents ?? 20_000;
    const group: PendingAppend[] = [];
    let count = 0;
    while (this.#queue.length > 0) {
      const next = this.#queue[0] as PendingAppend;
      if (group.length > 0 && count + next.events.length > max) break;
      group.push(next);
      count += next.events.length;
      this.#queue.shift();
    }
    return group;
  }

  async #flush(): Promise<void> {
    this.#flushing = true;
    const group = this.#takeGroup();
    try {
      await this.#commit(group);
    } finally {
      for (const pending of group) this.#pendingEvents -= pending.events.length;
      this.#flushing = false;
      if (this.#queue.length > 0) this.#schedule();
      else for (const resolve of this.#idle.splice(0)) resolve();
    }
  }

  async #commit(group: readonly PendingAppend[]): Promise<void> {
    const all: AcceptedEvent[] = [];
    const seen = new Set<string>();
    // A messageId repeated inside the group is a duplicate of its first occurrence.
    const inGroupDuplicate: boolean[] = [];
    for (const pending of group) {
      for (const event of pending.events) {
        const key = `${event.workspaceId}\u0000${event.messageId}`;
        inGroupDuplicate.push(seen.has(key));
        if (!seen.has(key)) {
          seen.add(key);
          all.push(event);
        }
      }
    }
    let seqs: readonly (number | null)[];
    let commitSeconds = 0;
    try {
      const started = performance.now();
      const result = await this.#options.log.append(all, this.#options.now() - this.#options.dedupWindowMs);
      commitSeconds = (performance.now() - started) / 1000;
      this.#lastCommitMs = commitSeconds * 1000;
      this.#lastCommitEnd = performance.now();
      seqs = result.seqs;
    } catch (error) {
      const failure = AppError.is(error)
        ? error
        : new AppError('storage.unavailable', 'the event log could not be written; retry', {
            cause: String(error),
          });
      for (const pending of group) pending.reject(failure);
      return;
    }
    this.#options.onCommitted?.(all, seqs, commitSeconds);
    let flat = 0;
    let unique = 0;
    for (const pending of group) {
      const mine: (number | null)[] = [];
      for (let i = 0; i < pending.events.length; i++, flat++) {
        mine.push(inGroupDuplicate[flat] ? null : (seqs[unique++] ?? null));
      }
      const stored = mine.filter((seq) => seq !== null).length;
      pending.resolve({ stored, duplicates: mine.length - stored, seqs: mine });
    }
  }
}
