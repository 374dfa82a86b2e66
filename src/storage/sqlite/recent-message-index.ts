/**
 * Which log entries might hold a given (workspace, messageId): the SQLite store's dedup index,
 * kept in memory instead of a B-tree. A random-key index on disk dirties one page per event
 * and cost two thirds of the append time; this structure costs a Map insert. It is only a
 * candidate filter: the appender confirms a candidate by reading the entry itself, so hash
 * collisions and stale entries never drop an event. It is rebuilt from the log at start, so it
 * needs no persistence of its own. Memory: about 50 bytes per event in the dedup window.
 */
export class RecentMessageIndex {
  /** Time buckets of the window, each a map from key hash to one or more log positions. */
  readonly #buckets = new Map<number, Map<number, number | number[]>>();
  readonly #bucketMs: number;

  constructor(bucketMs: number) {
    this.#bucketMs = Math.max(60_000, bucketMs);
  }

  add(hash: number, seq: number, receivedMs: number): void {
    const bucketId = Math.floor(receivedMs / this.#bucketMs);
    let bucket = this.#buckets.get(bucketId);
    if (!bucket) {
      bucket = new Map();
      this.#buckets.set(bucketId, bucket);
    }
    const existing = bucket.get(hash);
    if (existing === undefined) bucket.set(hash, seq);
    else if (typeof existing === 'number') bucket.set(hash, [existing, seq]);
    else existing.push(seq);
  }

  /** Positions whose entry may carry this key, newest buckets first. */
  candidates(hash: number): number[] {
    const found: number[] = [];
    for (const bucket of this.#buckets.values()) {
      const hit = bucket.get(hash);
      if (hit === undefined) continue;
      if (typeof hit === 'number') found.push(hit);
      else found.push(...hit);
    }
    return found;
  }

  /** Drops whole buckets that ended before the cutoff. */
  prune(cutoffMs: number): void {
    for (const bucketId of this.#buckets.keys()) {
      if ((bucketId + 1) * this.#bucketMs <= cutoffMs) this.#buckets.delete(bucketId);
    }
  }

  get size(): number {
    let total = 0;
    for (const bucket of this.#buckets.values()) total += bucket.size;
    return total;
  }
}

/**
 * FNV-1a over the workspace id and the messageId, folded to 30 bits so keys stay small
 * integers (cheap Map keys); collisions are resolved by the caller's exact check.
 */
export function messageKeyHash(workspaceId: string, messageId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < workspaceId.length; i++) {
    hash ^= workspaceId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= 0;
  hash = Math.imul(hash, 0x01000193);
  for (let i = 0; i < messageId.length; i++) {
    hash ^= messageId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash ^ (hash >>> 30)) & 0x3fffffff;
}
