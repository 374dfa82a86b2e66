/**
 * Entry points: the message stream of the simulated shop and its ground truth. Both rebuild
 * person i from (seed, i) alone, so they agree without sharing state, and memory stays bounded
 * by one person (plus the reordering buffer) whatever the number of people.
 */
import { buildCatalog } from './catalog.ts';
import { buildPerson } from './person.ts';
import type { Person } from './person.ts';
import { simulatePerson } from './person-journey.ts';
import type { ShopWorld } from './person-journey.ts';
import { toPersonTruth } from './person-truth.ts';
import type { PersonTruth } from './person-truth.ts';
import { createPrng, mix32 } from './prng.ts';
import { PermutationSalt, RandomStream } from './random-streams.ts';
import type { GeneratedMessage } from './segment-message.ts';
import { resolveShopOptions } from './shop-options.ts';
import type { ResolvedShopOptions, ShopOptions } from './shop-options.ts';
import { shuffleWindow, timeOrder } from './stream-order.ts';

export interface GeneratedPerson {
  readonly person: Person;
  readonly truth: PersonTruth;
  /** Sorted by time. */
  readonly messages: readonly GeneratedMessage[];
}

/**
 * The shop's messages, ordered as `options.order` says. Options are validated now (throws
 * `InvalidShopOptionsError`); messages are produced lazily as the generator is consumed.
 */
export function generateShop(input: ShopOptions): Generator<GeneratedMessage> {
  const options = resolveShopOptions(input);
  const world = createShopWorld(options);
  switch (options.order) {
    case 'person':
      return messagesByPerson(world);
    case 'shuffled':
      return shuffleWindow(
        messagesByPerson(world),
        options.shuffleWindow,
        createPrng(options.seed, RandomStream.shuffle),
      );
    case 'time':
      return timeOrder({
        start: options.start,
        end: options.end,
        buffer: options.timeBuffer,
        replay: () => messagesByPerson(world),
      });
  }
}

/** The ground truth, one record per person in index order; cheap (no behaviour is simulated). */
export function generatePeople(input: ShopOptions): Generator<PersonTruth> {
  const options = resolveShopOptions(input);
  return truths(options);
}

/** Person `index`, their truth and all their messages: handy for tests and debugging. */
export function generatePerson(input: ShopOptions, index: number): GeneratedPerson {
  const options = resolveShopOptions(input);
  if (!Number.isInteger(index) || index < 0 || index >= options.people) {
    throw new RangeError(`person index ${index} is outside [0, ${options.people})`);
  }
  return simulate(createShopWorld(options), index);
}

/** Every person with their messages, in index order. */
export function generatePersons(input: ShopOptions): Generator<GeneratedPerson> {
  const world = createShopWorld(resolveShopOptions(input));
  return persons(world);
}

function createShopWorld(options: ResolvedShopOptions): ShopWorld {
  return { options, catalog: buildCatalog(), orderSalt: mix32(options.seed ^ PermutationSalt.order) };
}

function simulate(world: ShopWorld, index: number): GeneratedPerson {
  const person = buildPerson(world.options, index);
  return { person, truth: toPersonTruth(person), messages: simulatePerson(person, world) };
}

function* persons(world: ShopWorld): Generator<GeneratedPerson> {
  for (let index = 0; index < world.options.people; index++) yield simulate(world, index);
}

function* messagesByPerson(world: ShopWorld): Generator<GeneratedMessage> {
  for (let index = 0; index < world.options.people; index++) {
    yield* simulatePerson(buildPerson(world.options, index), world);
  }
}

function* truths(options: ResolvedShopOptions): Generator<PersonTruth> {
  for (let index = 0; index < options.people; index++) yield toPersonTruth(buildPerson(options, index));
}
