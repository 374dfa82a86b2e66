/**
 * Stream numbers for `createPrng(seed, stream, index)`.
 *
 * Each concern draws from its own stream so that, for example, the truth (`person`) can be
 * rebuilt without replaying the behaviour, and a new kind of event never shifts who has which
 * e-mail address.
 */
export const RandomStream = {
  person: 1,
  behaviour: 2,
  shuffle: 3,
  superNode: 4,
  company: 5,
} as const;

/** Salts for the index permutations, one per identifier family. */
export const PermutationSalt = {
  phone: 11,
  email: 12,
  order: 13,
} as const;
