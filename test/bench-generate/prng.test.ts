import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createPrng, mix32 } from '../../bench/generate/prng.ts';
import { permute, uniqueToken } from '../../bench/generate/permutation.ts';

const draws = (seed: number, stream: number, index: number, count: number): number[] => {
  const prng = createPrng(seed, stream, index);
  return Array.from({ length: count }, () => prng.uint32());
};

describe('prng', () => {
  it('replays the same sequence for the same seed, stream and index', () => {
    fc.assert(
      fc.property(fc.nat(), fc.nat(20), fc.nat(), (seed, stream, index) => {
        assert.deepEqual(draws(seed, stream, index, 8), draws(seed, stream, index, 8));
      }),
    );
  });

  it('gives different sequences to neighbouring seeds, streams and indices', () => {
    const base = draws(42, 1, 1000, 4);
    assert.notDeepEqual(draws(43, 1, 1000, 4), base);
    assert.notDeepEqual(draws(42, 2, 1000, 4), base);
    assert.notDeepEqual(draws(42, 1, 1001, 4), base);
  });

  it('keeps int() within bounds and reaches both ends', () => {
    const prng = createPrng(7);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const value = prng.int(1, 4);
      assert.ok(Number.isInteger(value) && value >= 1 && value <= 4, `int out of range: ${value}`);
      seen.add(value);
    }
    assert.deepEqual([...seen].sort(), [1, 2, 3, 4]);
  });

  it('is roughly uniform and chance(p) is roughly p', () => {
    const prng = createPrng(99);
    const buckets = new Array<number>(10).fill(0);
    let hits = 0;
    for (let i = 0; i < 100_000; i++) {
      const x = prng.next();
      assert.ok(x >= 0 && x < 1);
      buckets[Math.floor(x * 10)]! += 1;
      if (prng.chance(0.3)) hits++;
    }
    for (const count of buckets) assert.ok(Math.abs(count - 10_000) < 500, `bucket ${count}`);
    assert.ok(Math.abs(hits / 100_000 - 0.3) < 0.01);
  });

  it('draws Poisson counts with the right mean, small and large', () => {
    const prng = createPrng(5);
    for (const mean of [1.3, 12, 80]) {
      let total = 0;
      for (let i = 0; i < 20_000; i++) total += prng.poisson(mean);
      assert.ok(Math.abs(total / 20_000 - mean) < mean * 0.03 + 0.02, `mean ${mean} → ${total / 20_000}`);
    }
  });

  it('makes RFC 4122 version-4 UUIDs without collisions', () => {
    const prng = createPrng(1);
    const seen = new Set<string>();
    for (let i = 0; i < 50_000; i++) {
      const uuid = prng.uuid();
      assert.match(uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      seen.add(uuid);
    }
    assert.equal(seen.size, 50_000);
  });

  it('mix32 is a bijection on a sample (distinct inputs, distinct outputs)', () => {
    const outputs = new Set<number>();
    for (let i = 0; i < 100_000; i++) outputs.add(mix32(i));
    assert.equal(outputs.size, 100_000);
  });
});

describe('permutation', () => {
  it('permute is a bijection of [0, modulus)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3000 }), fc.nat(), (modulus, salt) => {
        const images = new Set<number>();
        for (let i = 0; i < modulus; i++) {
          const image = permute(i, modulus, salt);
          assert.ok(image >= 0 && image < modulus);
          images.add(image);
        }
        assert.equal(images.size, modulus);
      }),
      { numRuns: 30 },
    );
  });

  it('uniqueToken never repeats and is 6 base-36 characters', () => {
    const tokens = new Set<string>();
    for (let i = 0; i < 200_000; i++) {
      const token = uniqueToken(i, 12345);
      assert.ok(/^[0-9a-z]{6}$/.test(token), token);
      tokens.add(token);
    }
    assert.equal(tokens.size, 200_000);
  });

  it('refuses an index outside the modulus', () => {
    assert.throws(() => permute(10, 10, 0), RangeError);
    assert.throws(() => permute(-1, 10, 0), RangeError);
  });
});
