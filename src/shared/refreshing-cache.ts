/**
 * A small keyed cache that answers from memory and refreshes behind the caller's back: a value
 * older than `freshMs` is still returned while one load (per key) fetches the new one, so a
 * caller on a latency-sensitive path (the ack path reading a write key or a PII policy) never
 * waits for the store once the key is known. On the embedded SQLite store a query waits for
 * whatever transaction holds the connection (a pipeline batch, up to its time budget), which
 * is what this keeps off that path.
 *
 * A value older than `maxStaleMs` (a key unused for a while) is loaded before answering, so a
 * change made elsewhere (a source disabled by another process) is not served from old memory.
 * A failed background load keeps the old value until the next attempt; a failed foreground
 * load rejects, as the store's error.
 */
export interface RefreshingCacheOptions {
  readonly freshMs: number;
  readonly maxStaleMs: number;
  /** Entries kept at most; beyond that the cache starts over (keys are cheap to load again). */
  readonly maxEntries: number;
  readonly now: () => number;
  /** Told when a background load fails (the stale value is kept). */
  readonly onRefreshError?: (error: unknown) => void;
}

interface Entry<V> {
  value: V;
  loadedMs: number;
}

export class RefreshingCache<V> {
  readonly #options: RefreshingCacheOptions;
  readonly #entries = new Map<string, Entry<V>>();
  readonly #loading = new Map<string, Promise<V>>();
  /** Bumped by clear()/delete(): a load begun before must not store what it read. */
  #generation = 0;

  constructor(options: RefreshingCacheOptions) {
    this.#options = options;
  }

  async get(key: string, load: () => Promise<V>): Promise<V> {
    const entry = this.#entries.get(key);
    const ageMs = entry === undefined ? Infinity : this.#options.now() - entry.loadedMs;
    if (entry !== undefined && ageMs < this.#options.freshMs) return entry.value;
    if (entry !== undefined && ageMs < this.#options.maxStaleMs) {
      this.#load(key, load).catch((error: unknown) => this.#options.onRefreshError?.(error));
      return entry.value;
    }
    return this.#load(key, load);
  }

  /** The value when it is fresh, without loading anything. */
  fresh(key: string): V | undefined {
    const entry = this.#entries.get(key);
    return entry !== undefined && this.#options.now() - entry.loadedMs < this.#options.freshMs
      ? entry.value
      : undefined;
  }

  /** Stores a value its caller loaded itself (inside a transaction, say). */
  set(key: string, value: V): void {
    if (this.#entries.size >= this.#options.maxEntries && !this.#entries.has(key)) this.#entries.clear();
    this.#entries.set(key, { value, loadedMs: this.#options.now() });
  }

  /** Forgets one key: the next get loads it. */
  delete(key: string): void {
    this.#generation += 1;
    this.#entries.delete(key);
    this.#loading.delete(key);
  }

  /** Forgets everything (a change that may touch any key, made by this process). */
  clear(): void {
    this.#generation += 1;
    this.#entries.clear();
    this.#loading.clear();
  }

  #load(key: string, load: () => Promise<V>): Promise<V> {
    const pending = this.#loading.get(key);
    if (pending !== undefined) return pending;
    const generation = this.#generation;
    const loading = load().then(
      (value) => {
        if (this.#loading.get(key) === loading) this.#loading.delete(key);
        if (generation === this.#generation) this.set(key, value);
        return value;
      },
      (error: unknown) => {
        if (this.#loading.get(key) === loading) this.#loading.delete(key);
        throw error;
      },
    );
    this.#loading.set(key, loading);
    return loading;
  }
}
