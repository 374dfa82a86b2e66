/**
 * Collision-free "random-looking" numbers derived from a person's index.
 *
 * Identifiers that a real person owns (phone numbers, e-mail local parts, order ids) must never
 * collide by accident between two simulated people, or the ground truth would lie. Drawing them
 * from the PRNG would collide (birthday paradox); an affine permutation of the index cannot.
 */

/** A prime, so coprime with every modulus that is not one of its multiples (checked below). */
const MULTIPLIER = 7_777_801;

/** Largest index for which `index * MULTIPLIER` stays an exact double. */
export const MAX_PERMUTED_INDEX = Math.floor(Number.MAX_SAFE_INTEGER / MULTIPLIER);

/**
 * Maps `index` in [0, modulus) to [0, modulus) bijectively; `salt` shifts the whole permutation.
 */
export function permute(index: number, modulus: number, salt: number): number {
  if (!Number.isSafeInteger(index) || index < 0 || index >= modulus || index > MAX_PERMUTED_INDEX) {
    throw new RangeError(`cannot permute index ${index} within ${modulus}`);
  }
  if (modulus % MULTIPLIER === 0) throw new RangeError(`modulus ${modulus} is a multiple of ${MULTIPLIER}`);
  return (((index * MULTIPLIER + (salt % modulus)) % modulus) + modulus) % modulus;
}

const TOKEN_MODULUS = 36 ** 6;

/** A 6-character base-36 token, unique for each index below 36^6 (about 2.2 billion). */
export function uniqueToken(index: number, salt: number): string {
  return permute(index, TOKEN_MODULUS, salt).toString(36).padStart(6, '0');
}
