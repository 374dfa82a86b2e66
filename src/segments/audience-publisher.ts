/**
 * Appends the `Audience Entered` / `Audience Exited` events an evaluation decided, behind it
 * rather than inside it. The decisions are already durable (written with the memberships, in
 * the audience event outbox), so the pipeline's next batch need not wait for this append's
 * group commit and the outbox's clean-up: on the pipeline's own thread that wait was most of
 * the thread's idle time. Events go out in the order they were decided (one publish at a
 * time, a failure retried in place), so an entry is never appended after the exit that
 * followed it. Whatever a stopped process left queued stays in the outbox, which the
 * scheduler's `publishPending` sends at the next start.
 */
import type { AudienceTransition } from './audience-state.port.ts';

export interface AudiencePublisherDeps {
  /** Appends the events of these transitions, then deletes them from the outbox. */
  readonly publish: (workspaceId: string, transitions: readonly AudienceTransition[]) => Promise<void>;
  /** A publish failed; it is retried after a pause. */
  readonly onError: (error: unknown) => void;
  /** Above this many queued transitions, `room()` waits (memory stays bounded). */
  readonly maxQueued?: number;
  /** Transitions of one workspace sent together, at most (one append, one outbox delete). */
  readonly maxGroup?: number;
}

interface Queued {
  readonly workspaceId: string;
  readonly transitions: readonly AudienceTransition[];
}

/** What is still owed, and how many enqueues there have been (drained checks compare it). */
export interface PublisherState {
  readonly pending: number;
  readonly generation: number;
}

const DEFAULT_MAX_QUEUED = 20_000;
const DEFAULT_MAX_GROUP = 2_000;
const FIRST_RETRY_MS = 100;
const LAST_RETRY_MS = 5_000;

export class AudiencePublisher {
  readonly #deps: AudiencePublisherDeps;
  readonly #queue: Queued[] = [];
  #pending = 0;
  #generation = 0;
  #draining: Promise<void> | undefined;
  #stopped = false;
  #wakeRetry: (() => void) | undefined;
  readonly #roomWaiters: (() => void)[] = [];
  readonly #settledWaiters: (() => void)[] = [];

  constructor(deps: AudiencePublisherDeps) {
    this.#deps = deps;
  }

  enqueue(workspaceId: string, transitions: readonly AudienceTransition[]): void {
    if (transitions.length === 0 || this.#stopped) return;
    this.#queue.push({ workspaceId, transitions });
    this.#pending += transitions.length;
    this.#generation += 1;
    this.#draining ??= this.#drain();
  }

  state(): PublisherState {
    return { pending: this.#pending, generation: this.#generation };
  }

  /** Resolves once the queue is short enough to take more. */
  room(): Promise<void> {
    if (this.#pending <= (this.#deps.maxQueued ?? DEFAULT_MAX_QUEUED)) return Promise.resolve();
    return new Promise((resolve) => this.#roomWaiters.push(resolve));
  }

  /** Resolves once everything enqueued so far is appended (or the publisher stopped). */
  settled(): Promise<void> {
    if (this.#pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.#settledWaiters.push(resolve));
  }

  /**
   * Finishes the publish in flight, sends the rest of the queue unless a publish fails, and
   * leaves what it could not send to the outbox.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wakeRetry?.();
    await this.#draining;
  }

  async #drain(): Promise<void> {
    for (let attempt = 0; this.#queue.length > 0;) {
      const group = this.#takeGroup();
      try {
        await this.#deps.publish(group.workspaceId, group.transitions);
        attempt = 0;
      } catch (error) {
        this.#deps.onError(error);
        if (this.#stopped) break;
        attempt += 1;
        await this.#pause(Math.min(LAST_RETRY_MS, FIRST_RETRY_MS * 2 ** (attempt - 1)));
        if (this.#stopped) break;
        continue;
      }
      this.#forget(group.count);
    }
    if (this.#stopped) this.#forget(this.#queue.length);
    this.#draining = undefined;
    if (this.#queue.length > 0) this.#draining = this.#drain();
  }

  /** The transitions at the head of the queue, of one workspace, without taking them off. */
  #takeGroup(): { workspaceId: string; transitions: AudienceTransition[]; count: number } {
    const head = this.#queue[0] as Queued;
    const transitions: AudienceTransition[] = [];
    const max = this.#deps.maxGroup ?? DEFAULT_MAX_GROUP;
    let count = 0;
    for (const item of this.#queue) {
      if (item.workspaceId !== head.workspaceId) break;
      if (count > 0 && transitions.length + item.transitions.length > max) break;
      transitions.push(...item.transitions);
      count += 1;
    }
    return { workspaceId: head.workspaceId, transitions, count };
  }

  /** Drops the first `items` queue entries and wakes whoever waits. */
  #forget(items: number): void {
    const removed = this.#queue.splice(0, items);
    for (const item of removed) this.#pending -= item.transitions.length;
    if (this.#pending <= (this.#deps.maxQueued ?? DEFAULT_MAX_QUEUED))
      for (const wake of this.#roomWaiters.splice(0)) wake();
    if (this.#pending === 0) for (const wake of this.#settledWaiters.splice(0)) wake();
  }

  #pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#wakeRetry = done;
    });
  }
}
