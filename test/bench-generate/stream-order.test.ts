import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createPrng, generateShop } from '../../bench/generate/index.ts';
import type { GeneratedMessage } from '../../bench/generate/index.ts';
import { shuffleWindow, slices } from '../../bench/generate/stream-order.ts';

const ids = (messages: Iterable<GeneratedMessage>): string[] => [...messages].map((m) => m.message.messageId);

describe('shuffleWindow', () => {
  it('emits a permutation of its input', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer()),
        fc.integer({ min: 1, max: 50 }),
        fc.nat(),
        (items, window, seed) => {
          const out = [...shuffleWindow(items, window, createPrng(seed))];
          assert.deepEqual(
            [...out].sort((a, b) => a - b),
            [...items].sort((a, b) => a - b),
          );
        },
      ),
    );
  });

  it('moves an item at most `window` places earlier, and holds at most `window` items', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 400 }),
        fc.integer({ min: 1, max: 40 }),
        fc.nat(),
        (n, window, seed) => {
          let pulled = 0;
          const source = (function* () {
            for (let i = 0; i < n; i++) {
              pulled++;
              yield i;
            }
          })();
          let position = 0;
          for (const item of shuffleWindow(source, window, createPrng(seed))) {
            assert.ok(position >= item - window, `item ${item} came out at ${position}`);
            assert.ok(pulled - position <= window + 1, `holding ${pulled - position}`);
            position++;
          }
        },
      ),
    );
  });
});

describe('stream orders of generateShop', () => {
  const options = { people: 150, seed: 21 };
  const byPerson = ids(generateShop(options));

  it('shuffled: same messages, different order, people interleaved', () => {
    const shuffled = [...generateShop({ ...options, order: 'shuffled', shuffleWindow: 1000 })];
    assert.deepEqual([...ids(shuffled)].sort(), [...byPerson].sort());
    assert.notDeepEqual(ids(shuffled), byPerson);
    let switches = 0;
    for (let i = 1; i < shuffled.length; i++)
      if (shuffled[i]!.personId !== shuffled[i - 1]!.personId) switches++;
    assert.ok(switches > shuffled.length / 2, `only ${switches} person switches`);
  });

  it('time: same messages, globally sorted by time, whatever the buffer', () => {
    for (const timeBuffer of [50, 1000, 1_000_000]) {
      const timed = [...generateShop({ ...options, order: 'time', timeBuffer })];
      assert.deepEqual([...ids(timed)].sort(), [...byPerson].sort(), `buffer ${timeBuffer}`);
      for (let i = 1; i < timed.length; i++) assert.ok(timed[i]!.time >= timed[i - 1]!.time);
    }
  });

  it('slices hours into ranges that fit the buffer and cover every message', () => {
    const counts = Float64Array.from([0, 3, 0, 5, 2, 9, 0, 1, 0]);
    const ranges = slices(counts, 5);
    assert.deepEqual(ranges, [
      [0, 2],
      [3, 3],
      [4, 4],
      [5, 5],
      [6, 8],
    ]);
    assert.deepEqual(slices(new Float64Array(4), 10), []);
  });
});
