/**
 * Which log entries might hold a given (workspace, messageId): the SQLite store's dedup index,
 * kept in memory instead of a B-tree. A random-key index on disk dirties one page per event
 * and cost two thirds of the append time; this structure costs a hash-table insert. It is only a
 * candidate filter: the appender confirms a candidate by reading the entry itself, so hash
 * collisions and stale entries never drop an event. It is rebuilt from the log at start, so it
 * needs no persistence of its own.
 *
 * Each time bucket is an open-addressing table over typed arrays rather than a `Map`: a `Map`
 * holds at most 2^24 entries (a bucket of 6 h would overflow past ~780 events/s, and the append
 * would fail), and costs about twice the memory. Here: 12 bytes per slot, at most 3/4 full,
 * so 16–32 bytes per event in the dedup window.
 */
export class RecentMessageIndex {
  /** Time buckets of the window, oldest first. */
  readonly #buckets = new Map<number, HashBucket>();
  readonly #bucketMs: number;

  constructor(bucketMs: number) {
    this.#bucketMs = Math.max(60_000, bucketMs);
  }

  add(hash: number, seq: number, receivedMs: number): void {
    const bucketId = Math.floor(receivedMs / this.#bucketMs);
    let bucket = this.#buckets.get(bucketId);
    if (!bucket) {
      bucket = new HashBucket();
      this.#buckets.set(bucketId, bucket);
    }
    bucket.add(hash, seq);
  }

  /** Positions whose entry may carry this key. */
  candidates(hash: number): number[] {
    const found: number[] = [];
    for (const bucket of this.#buckets.values()) bucket.collect(hash, found);
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

const INITIAL_BITS = 12;
/** Fibonacci hashing: the top bits of the product spread any key pattern over the table. */
const slotOf = (key: number, bits: number): number => Math.imul(key, 0x9e3779b1) >>> (32 - bits);

/**
 * Linear probing over `keys` (the 30-bit hash plus one, so 0 marks an empty slot) and `seqs`.
 * A key may occupy several slots (a repeated messageId, or a hash collision): lookups collect
 * every slot with the key until the first empty one. Nothing is ever removed from a bucket (whole
 * buckets are dropped), so probe chains never break.
 */
class HashBucket {
  #bits = INITIAL_BITS;
  #keys = new Int32Array(1 << INITIAL_BITS);
  #seqs = new Float64Array(1 << INITIAL_BITS);
  #size = 0;

  get size(): number {
    return this.#size;
  }

  add(hash: number, seq: number): void {
    if ((this.#size + 1) * 4 > this.#keys.length * 3) this.#grow();
    this.#place(hash + 1, seq);
    this.#size++;
  }

  collect(hash: number, out: number[]): void {
    const keys = this.#keys;
    const mask = keys.length - 1;
    const key = hash + 1;
    for (let slot = slotOf(key, this.#bits); keys[slot] !== 0; slot = (slot + 1) & mask)
      if (keys[slot] === key) out.push(this.#seqs[slot] as number);
  }

  #place(key: number, seq: number): void {
    const keys = this.#keys;
    const mask = keys.length - 1;
    let slot = slotOf(key, this.#bits);
    while (keys[slot] !== 0) slot = (slot + 1) & mask;
    keys[slot] = key;
    this.#seqs[slot] = seq;
  }

  #grow(): void {
    const keys = this.#keys;
    const seqs = this.#seqs;
    this.#bits++;
    this.#keys = new Int32Array(keys.length * 2);
    this.#seqs = new Float64Array(keys.length * 2);
    for (let slot = 0; slot < keys.length; slot++) {
      const key = keys[slot] as number;
      if (key !== 0) this.#place(key, seqs[slot] as number);
    }
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
