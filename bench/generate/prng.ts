/**
 * A small seeded pseudo-random generator (sfc32) and the draws the generator needs.
 *
 * sfc32 keeps 128 bits of state, so every (seed, stream, index) triple gets its own starting
 * state: with a 32-bit generator such as mulberry32, a million people would hit ~100 seed
 * collisions and silently share anonymousIds.
 */

/** The draws every simulation step uses; one instance per person and stream. */
export interface Prng {
  /** A float in [0, 1). */
  next(): number;
  /** An unsigned 32-bit integer. */
  uint32(): number;
  /** An integer in [min, max], both inclusive. */
  int(min: number, max: number): number;
  /** True with probability `p`. */
  chance(p: number): boolean;
  /** One element of a non-empty array, uniformly. */
  pick<T>(items: readonly T[]): T;
  /** One element of a non-empty array, with the given (non-negative) weights. */
  weighted<T>(items: readonly T[], weights: readonly number[]): T;
  /** An exponentially distributed float with the given mean. */
  exponential(mean: number): number;
  /** A Poisson-distributed integer with the given mean (normal approximation above 30). */
  poisson(mean: number): number;
  /** A lower-case RFC 4122 version-4 UUID made from 122 random bits. */
  uuid(): string;
}

const HEX: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** murmur3's finalizer: a bijection on 32-bit integers that spreads nearby inputs apart. */
export function mix32(value: number): number {
  let h = value >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Returns the element at `index`, failing loudly instead of yielding `undefined`. */
export function at<T>(items: readonly T[], index: number): T {
  const item = items[index];
  if (item === undefined) throw new RangeError(`index ${index} out of range (length ${items.length})`);
  return item;
}

/**
 * Creates an independent generator for (seed, stream, index). Each word goes through the
 * bijective `mix32` into its own state word, so distinct triples never share a state.
 */
export function createPrng(seed: number, stream = 0, index = 0): Prng {
  return new Sfc32(mix32(seed ^ 0x9e3779b9), mix32(stream ^ 0x7f4a7c15), mix32(index ^ 0x2545f491));
}

class Sfc32 implements Prng {
  private a: number;
  private b: number;
  private c: number;
  private d = 1;

  constructor(a: number, b: number, c: number) {
    this.a = a;
    this.b = b;
    this.c = c;
    // The first outputs of sfc32 are still correlated with the seed words.
    for (let i = 0; i < 15; i++) this.uint32();
  }

  uint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  next(): number {
    return this.uint32() / 4294967296;
  }

  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return at(items, Math.floor(this.next() * items.length));
  }

  weighted<T>(items: readonly T[], weights: readonly number[]): T {
    let total = 0;
    for (const w of weights) total += w;
    let r = this.next() * total;
    for (let i = 0; i < items.length; i++) {
      r -= at(weights, i);
      if (r < 0) return at(items, i);
    }
    return at(items, items.length - 1);
  }

  exponential(mean: number): number {
    return -Math.log(1 - this.next()) * mean;
  }

  poisson(mean: number): number {
    if (mean > 30) {
      // Knuth's product would underflow; the normal approximation is close enough there.
      const gaussian = Math.sqrt(-2 * Math.log(1 - this.next())) * Math.cos(2 * Math.PI * this.next());
      return Math.max(0, Math.round(mean + Math.sqrt(mean) * gaussian));
    }
    const limit = Math.exp(-mean);
    let k = 0;
    let p = this.next();
    while (p > limit) {
      k++;
      p *= this.next();
    }
    return k;
  }

  uuid(): string {
    const w0 = this.uint32();
    const w1 = (this.uint32() & 0xffff0fff) | 0x00004000; // version 4 in the third group
    const w2 = (this.uint32() & 0x3fffffff) | 0x80000000; // RFC 4122 variant in the fourth
    const w3 = this.uint32();
    return `${hex32(w0)}-${hex16(w1 >>> 16)}-${hex16(w1 & 0xffff)}-${hex16(w2 >>> 16)}-${hex16(w2 & 0xffff)}${hex32(w3)}`;
  }
}

function hex16(v: number): string {
  return at(HEX, (v >>> 8) & 0xff) + at(HEX, v & 0xff);
}

function hex32(v: number): string {
  return hex16(v >>> 16) + hex16(v & 0xffff);
}
