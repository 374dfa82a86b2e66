import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { generatePeople, generatePerson, generatePersons, generateShop } from '../../bench/generate/index.ts';
import type { ShopOptions } from '../../bench/generate/index.ts';

function digest(options: ShopOptions): string {
  const hash = createHash('sha256');
  for (const generated of generateShop(options)) hash.update(JSON.stringify(generated) + '\n');
  return hash.digest('hex');
}

function truthDigest(options: ShopOptions): string {
  const hash = createHash('sha256');
  for (const person of generatePeople(options)) hash.update(JSON.stringify(person) + '\n');
  return hash.digest('hex');
}

describe('determinism', () => {
  it('the same seed gives byte-identical messages and truth', () => {
    const options = { people: 300, seed: 42 };
    assert.equal(digest(options), digest({ ...options }));
    assert.equal(truthDigest(options), truthDigest({ ...options }));
  });

  it('a different seed gives different messages and truth', () => {
    assert.notEqual(digest({ people: 300, seed: 42 }), digest({ people: 300, seed: 43 }));
    assert.notEqual(truthDigest({ people: 300, seed: 42 }), truthDigest({ people: 300, seed: 43 }));
  });

  it('every order option is deterministic too', () => {
    for (const order of ['shuffled', 'time'] as const) {
      const options = { people: 200, seed: 9, order, shuffleWindow: 500, timeBuffer: 2000 };
      assert.equal(digest(options), digest(options), order);
    }
  });

  it('never reads Math.random or the clock', (t) => {
    t.mock.method(Math, 'random', () => {
      throw new Error('Math.random called');
    });
    t.mock.method(Date, 'now', () => {
      throw new Error('Date.now called');
    });
    assert.doesNotThrow(() => digest({ people: 100, seed: 1 }));
    assert.doesNotThrow(() => truthDigest({ people: 100, seed: 1 }));
  });

  it('person i does not depend on how many people are generated', () => {
    const small = [...generatePeople({ people: 50, seed: 5 })];
    const large = [...generatePeople({ people: 500, seed: 5 })].slice(0, 50);
    assert.deepEqual(
      small.map((p) => p.personId),
      large.map((p) => p.personId),
    );
    assert.deepEqual(small, large);
  });

  it('generatePerson, generatePersons, generatePeople and generateShop agree', () => {
    const options = { people: 40, seed: 3 };
    const persons = [...generatePersons(options)];
    assert.deepEqual(
      persons.map((p) => p.truth),
      [...generatePeople(options)],
    );
    assert.deepEqual(
      persons.flatMap((p) => p.messages),
      [...generateShop(options)],
    );
    assert.deepEqual(generatePerson(options, 17), persons[17]);
  });
});
