/**
 * Wakes at the exact instant some profile's membership or computed value can change by the
 * clock alone (the earliest `due` in `profile_schedule`), re-evaluates the due profiles, and
 * sleeps until the next one. It never rescans everyone on a timer; the longest sleep only
 * bounds how late it notices instants scheduled by another process.
 */
import type { AudienceStateRepository } from './audience-state.port.ts';
import type { RealtimeAudiences } from './realtime-audiences.ts';

export interface AudienceSchedulerDeps {
  readonly state: AudienceStateRepository;
  readonly audiences: RealtimeAudiences;
  readonly now: () => number;
  readonly onError: (error: unknown) => void;
  /** Audience events a stopped process owed were appended now (an operator wants to know). */
  readonly onRecovered?: (events: number) => void;
  readonly maxSleepMs?: number;
}

const DUE_BATCH = 200;

export class AudienceScheduler {
  readonly #deps: AudienceSchedulerDeps;
  #running = false;
  #timer: NodeJS.Timeout | undefined;
  #wake: (() => void) | undefined;
  #sleepingUntil = Infinity;
  #loop: Promise<void> | undefined;

  constructor(deps: AudienceSchedulerDeps) {
    this.#deps = deps;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#wake?.();
    await this.#loop;
  }

  /** A profile got a due instant: wake earlier if the scheduler sleeps past it. */
  poke(dueMs: number): void {
    if (dueMs < this.#sleepingUntil) this.#wake?.();
  }

  /** Evaluates everything due now; returns how many profiles were evaluated. */
  async runDue(): Promise<number> {
    let total = 0;
    for (;;) {
      const now = this.#deps.now();
      const due = await this.#deps.state.due(now, DUE_BATCH);
      const byWorkspace = new Map<string, string[]>();
      for (const { workspaceId, profileId } of due) {
        const list = byWorkspace.get(workspaceId) ?? [];
        list.push(profileId);
        byWorkspace.set(workspaceId, list);
      }
      for (const [workspaceId, ids] of byWorkspace)
        await this.#deps.audiences.evaluateDue(workspaceId, ids, now);
      total += due.length;
      if (due.length < DUE_BATCH) return total;
    }
  }

  async #run(): Promise<void> {
    while (this.#running) {
      try {
        // Events a stopped process owed before it could append them (usually none).
        const recovered = await this.#deps.audiences.publishPending();
        if (recovered > 0) this.#deps.onRecovered?.(recovered);
        await this.runDue();
        const next = await this.#deps.state.nextDue();
        const now = this.#deps.now();
        const maxSleep = this.#deps.maxSleepMs ?? 30_000;
        const sleep = next === null ? maxSleep : Math.min(maxSleep, Math.max(0, next - now));
        await this.#sleep(sleep, now + sleep);
      } catch (error) {
        this.#deps.onError(error);
        await this.#sleep(1_000, this.#deps.now() + 1_000);
      }
    }
  }

  #sleep(ms: number, until: number): Promise<void> {
    if (!this.#running) return Promise.resolve();
    this.#sleepingUntil = until;
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(this.#timer);
        this.#wake = undefined;
        this.#sleepingUntil = Infinity;
        resolve();
      };
      this.#wake = done;
      this.#timer = setTimeout(done, ms);
      this.#timer.unref();
    });
  }
}
