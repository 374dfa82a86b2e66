/**
 * Keyed hashes of identifiers (HMAC-SHA256): what the suppression list and finished privacy
 * requests keep instead of the identifiers themselves. The HMAC key is random, made once per
 * instance and stored in the instance state wrapped (AES-256-GCM) with the instance encryption
 * key (CDP_ENCRYPTION_KEY or the key file), so every process sharing the store and the key
 * computes the same hashes, and a future key rotation only re-wraps this key: the stored hashes
 * stay valid.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { Identifier } from '../identity/identifier-types.ts';
import type { InstanceStateRepository } from '../workspaces/workspaces.port.ts';
import { unwrapKey, wrapKey } from './key-wrap.ts';

export const SUPPRESSION_KEY_STATE = 'privacy.suppression_key';
export const SUPPRESSION_KEY_LABEL = 'cdp privacy suppression key v1';
/** Past this many cached hashes the cache starts over (hot identifiers come back at once). */
const CACHE_LIMIT = 50_000;

export class SuppressionHasher {
  readonly #key: Buffer;
  #cache = new Map<string, string>();

  constructor(key: Buffer) {
    this.#key = key;
  }

  /** Loads the instance's HMAC key, making (and storing) it on first use. */
  static async load(instance: InstanceStateRepository, encryptionKey: Buffer): Promise<SuppressionHasher> {
    let stored = await instance.get(SUPPRESSION_KEY_STATE);
    if (stored === undefined) {
      const key = randomBytes(32);
      if (
        await instance.setIfAbsent(SUPPRESSION_KEY_STATE, wrapKey(key, encryptionKey, SUPPRESSION_KEY_LABEL))
      )
        return new SuppressionHasher(key);
      stored = await instance.get(SUPPRESSION_KEY_STATE);
    }
    if (stored === undefined) throw new Error('the suppression key vanished from the instance state');
    return new SuppressionHasher(unwrapKey(stored, encryptionKey, SUPPRESSION_KEY_LABEL));
  }

  /** The hash of a normalized identifier (hex). */
  hash(identifier: Identifier): string {
    const text = `${identifier.type}:${identifier.value}`;
    const cached = this.#cache.get(text);
    if (cached !== undefined) return cached;
    const digest = createHmac('sha256', this.#key).update(text).digest('hex');
    if (this.#cache.size >= CACHE_LIMIT) this.#cache = new Map();
    this.#cache.set(text, digest);
    return digest;
  }
}
