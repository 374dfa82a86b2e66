/**
 * Token buckets per key (an API token, a console user, a write key): `ratePerSecond` sustained,
 * `burst` at once. In-process: with several API processes each holds its own buckets, so the
 * instance-wide limit is the per-process one times the number of processes (documented).
 */
export interface RateLimit {
  /** Requests per second, sustained; 0 turns the limit off. */
  readonly ratePerSecond: number;
  /** Requests allowed at once after a quiet period. */
  readonly burst: number;
}

export type RateDecision = { readonly ok: true } | { readonly ok: false; readonly retryAfterMs: number };

interface Bucket {
  tokens: number;
  atMs: number;
}

/** Keys idle long enough to have refilled are forgotten beyond this many (memory stays bounded). */
const MAX_KEYS = 100_000;

export class RateLimiter {
  readonly #limit: RateLimit;
  readonly #buckets = new Map<string, Bucket>();

  constructor(limit: RateLimit) {
    this.#limit = limit;
  }

  get enabled(): boolean {
    return this.#limit.ratePerSecond > 0;
  }

  take(key: string, nowMs: number): RateDecision {
    const { ratePerSecond, burst } = this.#limit;
    if (ratePerSecond <= 0) return { ok: true };
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      if (this.#buckets.size >= MAX_KEYS) this.#forgetFull(nowMs);
      bucket = { tokens: burst, atMs: nowMs };
      this.#buckets.set(key, bucket);
    } else {
      bucket.tokens = Math.min(burst, bucket.tokens + ((nowMs - bucket.atMs) / 1000) * ratePerSecond);
      bucket.atMs = nowMs;
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterMs: Math.ceil(((1 - bucket.tokens) / ratePerSecond) * 1000) };
  }

  #forgetFull(nowMs: number): void {
    const { ratePerSecond, burst } = this.#limit;
    for (const [key, bucket] of this.#buckets)
      if (bucket.tokens + ((nowMs - bucket.atMs) / 1000) * ratePerSecond >= burst) this.#buckets.delete(key);
    // Everyone is active: drop the oldest entries rather than grow without bound.
    for (const key of this.#buckets.keys()) {
      if (this.#buckets.size < MAX_KEYS) break;
      this.#buckets.delete(key);
    }
  }
}
