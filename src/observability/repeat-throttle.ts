/**
 * Keeps a repeated failure from flooding the log: during a database outage every request and
 * every background loop fails the same way, thousands of times a minute, and the one line that
 * matters (when it started, when it ended) drowns. The first occurrence of a kind is logged,
 * then at most one per interval, carrying how many were left out since the last one.
 */
export interface ThrottleDecision {
  /** Log this occurrence. */
  readonly log: boolean;
  /** Occurrences of this kind not logged since the last logged one (when `log`). */
  readonly suppressed: number;
}

export class RepeatThrottle {
  readonly #intervalMs: number;
  readonly #now: () => number;
  readonly #kinds = new Map<string, { lastLoggedMs: number; suppressed: number }>();

  constructor(intervalMs: number, now: () => number = () => performance.now()) {
    this.#intervalMs = intervalMs;
    this.#now = now;
  }

  admit(kind: string): ThrottleDecision {
    const now = this.#now();
    const state = this.#kinds.get(kind);
    if (state === undefined || now - state.lastLoggedMs >= this.#intervalMs) {
      const suppressed = state?.suppressed ?? 0;
      this.#kinds.set(kind, { lastLoggedMs: now, suppressed: 0 });
      return { log: true, suppressed };
    }
    state.suppressed += 1;
    return { log: false, suppressed: state.suppressed };
  }
}
