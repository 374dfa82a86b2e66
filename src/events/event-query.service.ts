import type { EventLogRepository, EventQuery, EventQueryResult } from '../ingestion/event-log.port.ts';
import type { StoredEvent } from '../ingestion/message-types.ts';
import type { FailedEventRepository } from '../pipeline/failed-events.port.ts';
import type { SourceRepository } from '../workspaces/workspaces.port.ts';
import type { Clock } from '../shared/clock.ts';
import type { AppendNotifier } from './append-notifier.ts';
import { processingBacklog } from './processing-backlog.ts';

export interface WorkspaceStats {
  readonly events: number;
  readonly profiles: number;
  readonly sources: number;
  readonly failedEvents: number;
  /** Events of suppressed people dropped at ingestion so far. */
  readonly suppressedEvents: number;
  /** Acknowledged events not yet processed into profiles (at most 10,000 counted). */
  readonly unprocessedEvents: number;
  /** How long the oldest unprocessed event has waited, in ms (0: none waits). */
  readonly processingDelayMs: number;
}

/** Read side of the event log for the admin API: listing, live tail, counts. */
export class EventQueryService {
  readonly #log: EventLogRepository;
  readonly #failed: FailedEventRepository;
  readonly #sources: SourceRepository;
  readonly #notifier: AppendNotifier;
  readonly #countProfiles: (workspaceId: string) => Promise<number>;
  readonly #countSuppressed: (workspaceId: string) => number;
  readonly #processedThrough: () => Promise<number>;
  readonly #clock: Clock;

  constructor(deps: {
    events: EventLogRepository;
    failedEvents: FailedEventRepository;
    sources: SourceRepository;
    notifier: AppendNotifier;
    countProfiles: (workspaceId: string) => Promise<number>;
    countSuppressed?: (workspaceId: string) => number;
    /** The log position every pipeline stage has passed (their committed cursors). */
    processedThrough: () => Promise<number>;
    clock: Clock;
  }) {
    this.#processedThrough = deps.processedThrough;
    this.#clock = deps.clock;
    this.#countSuppressed = deps.countSuppressed ?? (() => 0);
    this.#countProfiles = deps.countProfiles;
    this.#log = deps.events;
    this.#failed = deps.failedEvents;
    this.#sources = deps.sources;
    this.#notifier = deps.notifier;
  }

  /** A page of stored events, newest first (see `EventQuery.scanWithin` for filtered pages). */
  list(query: EventQuery): Promise<EventQueryResult> {
    return this.#log.query(query);
  }

  headSeq(): Promise<number> {
    return this.#log.headSeq();
  }

  /**
   * Yields the workspace's new events as they are stored, until the signal aborts. Waits on
   * in-process appends and polls once a second for appends made by other processes.
   */
  async *follow(workspaceId: string, afterSeq: number, signal: AbortSignal): AsyncGenerator<StoredEvent[]> {
    let cursor = afterSeq;
    while (!signal.aborted) {
      const batch = await this.#log.tail(workspaceId, cursor, 500);
      const last = batch.at(-1);
      if (last) {
        cursor = last.seq;
        yield batch;
        continue;
      }
      await this.#notifier.waitForAppend(1000, signal);
    }
  }

  async stats(workspaceId: string): Promise<WorkspaceStats> {
    const [events, failedEvents, sources, profiles, backlog] = await Promise.all([
      this.#log.countByWorkspace(workspaceId),
      this.#failed.countFailed(workspaceId),
      this.#sources.list(workspaceId, { limit: 10_000 }),
      this.#countProfiles(workspaceId),
      this.#processedThrough().then((through) =>
        processingBacklog(this.#log, workspaceId, through, this.#clock.now()),
      ),
    ]);
    return {
      events,
      profiles,
      sources: sources.length,
      failedEvents,
      suppressedEvents: this.#countSuppressed(workspaceId),
      unprocessedEvents: backlog.events,
      processingDelayMs: backlog.delayMs,
    };
  }
}
