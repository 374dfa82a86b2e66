/**
 * Shares fsyncs between the writes that ask for one at about the same time: at most one runs,
 * and the callers arriving meanwhile share the single one that starts after it. An fsync covers
 * every write made to the file before it started, so one that was already running when a caller
 * wrote may miss that write: such callers wait for the next. Used where commits do not wait for
 * their fsync (audit entries of reads with `CDP_AUDIT_READS_WAIT_FOR_DISK=false`): without it each would start its own, and a burst of
 * reads would queue fsyncs on libuv's four threads ahead of the event log's, which the ack path
 * waits for.
 */
export class CoalescedSync {
  readonly #target: { sync(): Promise<void> };
  #running: Promise<void> | undefined;
  #next: Promise<void> | undefined;

  constructor(target: { sync(): Promise<void> }) {
    this.#target = target;
  }

  /** Resolves once an fsync that started after this call has returned. */
  sync(): Promise<void> {
    const running = this.#running;
    if (running === undefined) return this.#start();
    this.#next ??= running
      .catch(() => undefined)
      .then(() => {
        this.#next = undefined;
        return this.#start();
      });
    return this.#next;
  }

  #start(): Promise<void> {
    const run = this.#target.sync();
    this.#running = run;
    const done = (): void => {
      if (this.#running === run) this.#running = undefined;
    };
    run.then(done, done);
    return run;
  }
}
