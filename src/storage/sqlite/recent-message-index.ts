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
/**
 * Slots of the previous table moved per add while a bucket grows. A table of L slots grows at
 * 3/4 L entries into one of 2L, which is full again 3/4 L adds later; moving more than
 * 4/3 slots per add finishes the move well before that.
 */
const MOVED_PER_ADD = 8;
/** Fibonacci hashing: the top bits of the product spread any key pattern over the table. */
const slotOf = (key: number, bits: number): number => Math.imul(key, 0x9e3779b1) >>> (32 - bits);

/** One open-addressing table: `keys` (the 30-bit hash plus one, 0 for empty) and `seqs`. */
interface Table {
  readonly bits: number;
  readonly keys: Int32Array;
  readonly seqs: Float64Array;
}

const tableOf = (bits: number): Table => ({
  bits,
  keys: new Int32Array(1 << bits),
  seqs: new Float64Array(1 << bits),
});

/**
 * Linear probing. A key may occupy several slots (a repeated messageId, or a hash collision):
 * lookups collect every slot with the key until the first empty one. Nothing is ever removed
 * from a table (whole buckets are dropped), so probe chains never break.
 *
 * Growing moves the entries into a table twice the size a few slots per add instead of all at
 * once: rehashing a bucket of millions of entries in one go held the event loop for tens of
 * milliseconds on the ack path. Until the move is done, lookups also probe the previous table,
 * counting only the slots not moved yet (the moved ones stay in place, so its probe chains
 * stay whole, and are found in the new table).
 */
class HashBucket {
  #table = tableOf(INITIAL_BITS);
  #previous: Table | undefined;
  /** Slots of `#previous` below this are in `#table` already. */
  #moved = 0;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  add(hash: number, seq: number): void {
    if (this.#previous) this.#move(MOVED_PER_ADD);
    if ((this.#size + 1) * 4 > this.#table.keys.length * 3) this.#grow();
    place(this.#table, hash + 1, seq);
    this.#size++;
  }

  collect(hash: number, out: number[]): void {
    const key = hash + 1;
    collect(this.#table, key, 0, out);
    if (this.#previous) collect(this.#previous, key, this.#moved, out);
  }

  #grow(): void {
    // Only reached with the previous move finished (see MOVED_PER_ADD); finish it should it not be.
    if (this.#previous) this.#move(this.#previous.keys.length);
    this.#previous = this.#table;
    this.#moved = 0;
    this.#table = tableOf(this.#table.bits + 1);
  }

  #move(slots: number): void {
    const previous = this.#previous;
    if (!previous) return;
    const end = Math.min(previous.keys.length, this.#moved + slots);
    for (let slot = this.#moved; slot < end; slot++) {
      const key = previous.keys[slot] as number;
      if (key !== 0) place(this.#table, key, previous.seqs[slot] as number);
    }
    this.#moved = end;
    if (end === previous.keys.length) this.#previous = undefined;
  }
}

function place(table: Table, key: number, seq: number): void {
  const { keys } = table;
  const mask = keys.length - 1;
  let slot = slotOf(key, table.bits);
  while (keys[slot] !== 0) slot = (slot + 1) & mask;
  keys[slot] = key;
  table.seqs[slot] = seq;
}

/** Every position stored under `key`, skipping slots below `fromSlot` (moved elsewhere). */
function collect(table: Table, key: number, fromSlot: number, out: number[]): void {
  const { keys } = table;
  const mask = keys.length - 1;
  for (let slot = slotOf(key, table.bits); keys[slot] !== 0; slot = (slot + 1) & mask)
    if (keys[slot] === key && slot >= fromSlot) out.push(table.seqs[slot] as number);
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
