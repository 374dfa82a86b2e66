import { AppError } from '../errors/app-error.ts';
import type { EventLogRepository, WrittenEvents } from './event-log.port.ts';
import type { AcceptedEvent } from './message-types.ts';

/**
 * Groups that may wait for their fsync while the next is written: the write of a group
 * overlaps the disk's flush of the last one, and fsyncs do not pile up behind each other.
 */
const MAX_SETTLING = 1;

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
  /** Groups written and waiting to be durable (the store's fsync runs off the event loop). */
  #settling = 0;
  /**
   * Settles when the last written group is acknowledged (true) or failed: groups settle in
   * order, and a group written after one whose fsync failed fails too (its frames follow
   * frames the disk may not hold, so a recovery would not reach them).
   */
  #lastSettled: Promise<boolean> = Promise.resolve(true);

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
    if (this.#isIdle()) return;
    await new Promise<void>((resolve) => this.#idle.push(resolve));
  }

  #isIdle(): boolean {
    return !this.#flushing && this.#settling === 0 && this.#queue.length === 0;
  }

  #next(): void {
    if (this.#queue.length > 0) this.#schedule();
    else if (this.#isIdle()) for (const resolve of this.#idle.splice(0)) resolve();
  }

  #schedule(): void {
    if (this.#scheduled || this.#flushing || this.#settling > MAX_SETTLING) return;
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
      this.#flushing = false;
      this.#next();
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
    const started = performance.now();
    const cutoff = this.#options.now() - this.#options.dedupWindowMs;
    const log = this.#options.log;
    let written: WrittenEvents;
    try {
      written = log.write
        ? await log.write(all, cutoff)
        : { ...(await log.append(all, cutoff)), durable: Promise.resolve() };
    } catch (error) {
      this.#fail(group, error);
      return;
    }
    // The next group may be written now; this one is acknowledged once durable, and after the
    // groups written before it (their announcements to the pipeline stay in log order).
    const previous = this.#lastSettled;
    // Observed now: should an earlier group fail first, this one is failed without awaiting it.
    written.durable.catch(() => undefined);
    this.#settling += 1;
    this.#lastSettled = (async () => {
      try {
        if (!(await previous))
          throw new AppError('storage.unavailable', 'an earlier write of the event log failed; retry', {
            retryAfterSeconds: 1,
          });
        await written.durable;
        const commitSeconds = (performance.now() - started) / 1000;
        this.#lastCommitMs = commitSeconds * 1000;
        this.#lastCommitEnd = performance.now();
        this.#acknowledge(group, all, written.seqs, inGroupDuplicate, commitSeconds);
        return true;
      } catch (error) {
        this.#fail(group, error);
        return false;
      } finally {
        this.#settling -= 1;
        this.#next();
      }
    })();
  }

  #fail(group: readonly PendingAppend[], error: unknown): void {
    const failure = AppError.is(error)
      ? error
      : new AppError(
          'storage.unavailable',
          'the event log could not be written; retry',
          { retryAfterSeconds: 1 },
          // The driver's text goes to the server log with the request, not to the client.
          { cause: error },
        );
    for (const pending of group) {
      this.#pendingEvents -= pending.events.length;
      pending.reject(failure);
    }
  }

  #acknowledge(
    group: readonly PendingAppend[],
    all: readonly AcceptedEvent[],
    seqs: readonly (number | null)[],
    inGroupDuplicate: readonly boolean[],
    commitSeconds: number,
  ): void {
    this.#options.onCommitted?.(all, seqs, commitSeconds);
    let flat = 0;
    let unique = 0;
    for (const pending of group) {
      const mine: (number | null)[] = [];
      for (let i = 0; i < pending.events.length; i++, flat++) {
        mine.push(inGroupDuplicate[flat] ? null : (seqs[unique++] ?? null));
      }
      const stored = mine.filter((seq) => seq !== null).length;
      this.#pendingEvents -= pending.events.length;
      pending.resolve({ stored, duplicates: mine.length - stored, seqs: mine });
    }
  }
}
