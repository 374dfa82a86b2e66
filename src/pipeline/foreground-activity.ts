/**
 * Work a client is waiting for (an ingestion request, until its acknowledgement) against
 * background work (the pipeline's stages) in one process. In the embedded default both share
 * the main thread and the single SQLite connection, so a pipeline batch that runs while
 * requests wait adds its whole duration to their latency and takes its CPU from the ack path.
 * The pipeline therefore waits for a quiet moment and, while requests keep coming, takes small
 * batches: acknowledging stays as fast as without the pipeline, and processing catches up when
 * the burst ends (its lag is on /metrics). A bound on the wait keeps it moving under sustained
 * load. Scale-out runs the stages in worker processes instead, where none of this applies.
 */

/** What a background consumer asks before each batch. */
export interface BackgroundGate {
  /** Waits for the moment to run the next batch; resolves to how many entries it may take. */
  admit(maxBatch: number): Promise<number>;
}

export interface GatePolicy {
  /** A batch starts once the ack path was quiet this long… */
  readonly quietMs: number;
  /** …or after this wait at the latest, so processing still moves under sustained load. */
  readonly maxWaitMs: number;
  /** While requests came within `busyWindowMs`, batches stay this small (they hold the connection). */
  readonly busyBatch: number;
  readonly busyWindowMs: number;
}

export const DEFAULT_GATE_POLICY: GatePolicy = {
  quietMs: 2,
  maxWaitMs: 500,
  busyBatch: 20,
  busyWindowMs: 50,
};

export class ForegroundActivity implements BackgroundGate {
  readonly #policy: GatePolicy;
  readonly #now: () => number;
  #inFlight = 0;
  #lastEndMs = -Infinity;
  readonly #wakers = new Set<() => void>();

  constructor(policy: GatePolicy = DEFAULT_GATE_POLICY, now: () => number = () => performance.now()) {
    this.#policy = policy;
    this.#now = now;
  }

  async admit(maxBatch: number): Promise<number> {
    const { quietMs, maxWaitMs, busyBatch, busyWindowMs } = this.#policy;
    await this.quiet(quietMs, maxWaitMs);
    return this.recentlyActive(busyWindowMs) ? Math.min(maxBatch, busyBatch) : maxBatch;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Counts `work` as foreground until it settles. */
  async track<T>(work: () => Promise<T>): Promise<T> {
    this.#inFlight += 1;
    try {
      return await work();
    } finally {
      this.#inFlight -= 1;
      this.#lastEndMs = this.#now();
      if (this.#inFlight === 0) for (const wake of this.#wakers) wake();
    }
  }

  recentlyActive(windowMs: number): boolean {
    return this.#inFlight > 0 || this.#now() - this.#lastEndMs < windowMs;
  }

  async quiet(quietMs: number, maxWaitMs: number): Promise<void> {
    const deadline = this.#now() + maxWaitMs;
    for (;;) {
      const now = this.#now();
      if (now >= deadline) return;
      if (this.#inFlight === 0) {
        const quietFor = now - this.#lastEndMs;
        if (quietFor >= quietMs) return;
        await this.#sleep(Math.min(quietMs - quietFor, deadline - now));
      } else {
        await this.#sleep(deadline - now);
      }
    }
  }

  /** Sleeps up to `ms`, or until the last foreground work in flight ends. */
  #sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      this.#wakers.add(done);
    });
  }
}
