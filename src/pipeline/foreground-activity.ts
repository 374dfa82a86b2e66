/**
 * Work a client is waiting for (an ingestion request, until its acknowledgement) against
 * background work (the pipeline's stages) in one process. In the embedded default both share
 * the main thread. The ack path appends to the log's own file on its own connection, and a
 * batch's transaction gives the thread away between its statements every few milliseconds
 * (storage/sqlite/transaction-slices.ts), so a request arriving during a batch waits about one
 * slice, not the whole batch. What remains to share is the thread's time. Under moderate
 * traffic (the requests taking under 30 % of the thread) batches start at once, sized to a time
 * budget that grows with how far behind the pipeline is, so it keeps up. Near the ack path's
 * capacity, batches get a small budget and run in the gaps between requests or, when there are
 * none, within a fixed share of the time: acknowledging stays nearly as fast as without the
 * pipeline, processing still moves, and it catches up with full-size batches when the burst
 * ends (its lag is on /metrics). Scale-out runs the stages in worker processes, where none of
 * this applies.
 */

/** What a background consumer asks before each batch, and tells after it. */
export interface BackgroundGate {
  /** Waits for the moment to run the next batch; says how many entries it may take. */
  admit(maxBatch: number): Promise<Admission>;
}

export interface Admission {
  readonly maxBatch: number;
  /**
   * The batch is over, with `entries` handled: its duration sets the pause before the next one
   * under load, and how large the next busy batch may be. `behindMs`: when the batch was full
   * (more is waiting), how long ago its last entry was received; 0 when it caught up.
   */
  done(entries?: number, behindMs?: number): void;
}

export interface GatePolicy {
  /** Foreground work within this window makes the ack path "busy". */
  readonly busyWindowMs: number;
  /**
   * While busy, batches start this small (a batch holds the connection and the thread), then
   * grow or shrink so that one takes about the time budget: most of a batch's cost is per
   * batch, so a fixed tiny size would leave the pipeline far behind under steady traffic.
   */
  readonly busyBatch: number;
  /**
   * While busy, the thread time one batch may take (what a request arriving meanwhile may wait):
   * `busyBatchMs` while the pipeline keeps up; when it falls behind, `lagShare` of how far
   * behind it is, up to `maxBusyBatchMs`. Acknowledging stays fast while processing is
   * fresh, and a backlog is worked off in larger, cheaper batches rather than growing.
   * The maximum is `CDP_PIPELINE_MAX_BATCH_MS`.
   */
  readonly busyBatchMs: number;
  readonly maxBusyBatchMs: number;
  readonly lagShare: number;
  /**
   * The budget grows past `busyBatchMs` only while the foreground (the thread's busy time
   * outside background batches) took less than this share of the last `loadWindowMs`: under
   * moderate traffic larger batches let processing keep up at the cost of some ack latency;
   * near the ack path's capacity they could not catch up anyway (the backlog waits for the
   * burst to end) and would only slow every acknowledgement.
   */
  readonly growBelowLoad: number;
  /**
   * The budget while the foreground takes `growBelowLoad` or more of the thread: close to the
   * ack path's capacity the pipeline cannot keep up whatever its batches, so they only decide
   * how long a request may wait behind one. Smaller than `busyBatchMs`, which under moderate
   * traffic keeps processing fresh.
   */
  readonly saturatedBatchMs: number;
  readonly loadWindowMs: number;
  /** While busy, a batch waits up to this long for a gap between requests (none in flight). */
  readonly gapWaitMs: number;
  /**
   * With no gap (the ack path saturated), the share of the thread background batches may
   * take: after a batch of d ms of thread time, the next waits d × (1 − share) / share unless
   * a gap comes.
   * This bounds what acknowledging loses under sustained overload and still moves processing.
   */
  readonly busyShare: number;
}

export const DEFAULT_GATE_POLICY: GatePolicy = {
  busyWindowMs: 1_000,
  busyShare: 0.1,
  busyBatch: 5,
  busyBatchMs: 25,
  maxBusyBatchMs: 500,
  lagShare: 0.5,
  growBelowLoad: 0.3,
  saturatedBatchMs: 12,
  loadWindowMs: 1_000,
  gapWaitMs: 20,
};

/** The thread's busy time so far (ms): the event loop's, or a test's clock. */
export type BusyTime = () => number;

const eventLoopBusyMs: BusyTime = () => performance.eventLoopUtilization().active;

export class ForegroundActivity implements BackgroundGate {
  readonly #policy: GatePolicy;
  readonly #now: () => number;
  #inFlight = 0;
  #lastEndMs = -Infinity;
  /** When the last background batch ended, and the thread time it took. */
  #lastBatchEndMs = -Infinity;
  #lastBatchMs = 0;
  /** The size a busy batch may have now (learned from the last busy batches). */
  #busySize: number;
  /** How far behind the pipeline was after its last batch (0: caught up). */
  #behindMs = 0;
  readonly #wakers = new Set<() => void>();
  readonly #busyTime: BusyTime;
  /** Thread time of background batches so far (their yields not counted), and the current load window. */
  #backgroundMs = 0;
  /** Thread time the requests had inside background batches' yields, so far. */
  #yieldedMs = 0;
  #window: { startMs: number; busyMs: number; backgroundMs: number };
  /** The foreground's share of the thread over the last window: assumed full until measured. */
  #foregroundLoad = 1;

  constructor(
    policy: GatePolicy = DEFAULT_GATE_POLICY,
    now: () => number = () => performance.now(),
    busyTime: BusyTime = eventLoopBusyMs,
  ) {
    this.#policy = policy;
    this.#now = now;
    this.#busyTime = busyTime;
    this.#busySize = policy.busyBatch;
    this.#window = { startMs: now(), busyMs: busyTime(), backgroundMs: 0 };
  }

  async admit(maxBatch: number): Promise<Admission> {
    const { busyWindowMs, busyShare, gapWaitMs, growBelowLoad } = this.#policy;
    // A batch over the embedded store never yields to I/O (each query settles at once), so
    // requests that arrived meanwhile are not even read yet: let them in before deciding.
    await new Promise<void>((resolve) => setImmediate(resolve));
    let size = maxBatch;
    const busy = this.recentlyActive(busyWindowMs);
    if (busy) {
      size = Math.min(maxBatch, this.#busySize);
      // Under moderate traffic the batch starts at once: its transaction gives the thread to the
      // requests between its statements (SQLite: storage/sqlite/transaction-slices.ts; a
      // PostgreSQL batch awaits the network anyway), so waiting for a gap would only leave the
      // thread idle while requests wait on their fsync or decoder. Near the ack path's capacity
      // every slice the pipeline takes is one the requests lack: a gap between requests costs
      // them nothing, so take it; without one, the share of time bounds what batches take.
      if (this.#foregroundLoad >= growBelowLoad && !(await this.#gap(gapWaitMs))) {
        const until = this.#lastBatchEndMs + (this.#lastBatchMs * (1 - busyShare)) / busyShare;
        while (this.#now() < until && this.#inFlight > 0) await this.#sleep(until - this.#now());
      }
    }
    const startedBusyMs = this.#busyTime();
    const yieldedBefore = this.#yieldedMs;
    return {
      maxBatch: size,
      done: (entries, behindMs = 0) => {
        this.#lastBatchEndMs = this.#now();
        // What the batch held the thread for: its busy time, less the requests' turns in its
        // yields. Time spent waiting (a PostgreSQL round trip, an fsync) held nothing up.
        this.#lastBatchMs = Math.max(0, this.#busyTime() - startedBusyMs - (this.#yieldedMs - yieldedBefore));
        this.#backgroundMs += this.#lastBatchMs;
        this.#behindMs = behindMs;
        this.#measureLoad();
        if (busy && entries !== undefined) this.#learn(size, entries, this.#lastBatchMs, maxBatch);
      },
    };
  }

  /**
   * Gives the thread, from inside a background batch, to what waits (requests first): the time
   * until it comes back is foreground work, not the batch's.
   */
  async yieldToForeground(): Promise<void> {
    const started = this.#busyTime();
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.#yieldedMs += this.#busyTime() - started;
  }

  /** Busy batch sizing: halve-ish when over the budget, double when a full batch fit in it. */
  #learn(admitted: number, entries: number, ms: number, maxBatch: number): void {
    const { busyBatch } = this.#policy;
    const budget = this.budgetMs;
    if (ms > budget)
      this.#busySize = Math.max(busyBatch, Math.floor((Math.min(admitted, entries) * budget) / ms));
    else if (entries >= admitted && ms < budget / 2)
      this.#busySize = Math.min(Math.max(maxBatch, busyBatch), admitted * 2);
  }

  /**
   * Foreground share of the thread: its busy time minus the background batches', over the
   * window's wall time. Over wall time, not over what the batches left: squeezed by large
   * batches, the foreground still gets its work done, only later, so the share stays what the
   * traffic needs rather than swinging with the budget.
   */
  #measureLoad(): void {
    const nowMs = this.#now();
    const wallMs = nowMs - this.#window.startMs;
    if (wallMs < this.#policy.loadWindowMs) return;
    const busyMs = this.#busyTime();
    const foregroundMs = busyMs - this.#window.busyMs - (this.#backgroundMs - this.#window.backgroundMs);
    this.#foregroundLoad = Math.min(1, Math.max(0, foregroundMs / wallMs));
    this.#window = { startMs: nowMs, busyMs, backgroundMs: this.#backgroundMs };
  }

  /** The foreground's share of the thread over the last measured window. */
  get foregroundLoad(): number {
    return this.#foregroundLoad;
  }

  /** The time a busy batch may take now. */
  get budgetMs(): number {
    const { busyBatchMs, maxBusyBatchMs, lagShare, growBelowLoad, saturatedBatchMs } = this.#policy;
    if (this.#foregroundLoad >= growBelowLoad) return saturatedBatchMs;
    return Math.min(maxBusyBatchMs, Math.max(busyBatchMs, this.#behindMs * lagShare));
  }

  /** What a busy batch may take now (for tests and metrics). */
  get busyBatchSize(): number {
    return this.#busySize;
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

  /** Waits until no foreground work is in flight, for `maxWaitMs` at most: whether it came. */
  async #gap(maxWaitMs: number): Promise<boolean> {
    const deadline = this.#now() + maxWaitMs;
    while (this.#inFlight > 0 && this.#now() < deadline) await this.#sleep(deadline - this.#now());
    return this.#inFlight === 0;
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
