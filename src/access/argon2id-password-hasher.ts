import { hash, verify, type Algorithm } from '@node-rs/argon2';
import type { PasswordHasher } from './access.port.ts';

/**
 * argon2id with at least OWASP's minimum (m = 19 MiB, t = 2, p = 1).
 *
 * Why @node-rs/argon2: Node 20 has no argon2 of its own. This package ships prebuilt N-API
 * binaries as per-platform npm packages (Linux glibc/musl x64/arm64, macOS, Windows, FreeBSD):
 * nothing is compiled or downloaded at install, and no install script runs. It hashes on libuv's
 * thread pool, so a sign-in never blocks the event loop that acknowledges ingested events,
 * and at native speed (tens of milliseconds per hash). A pure-WASM package (hash-wasm) would run the same
 * 19 MiB computation on the main thread, two to three times slower, stalling ingestion for
 * every sign-in; we would have to add a worker pool to get back what this gives for free.
 *
 * Hashes are PHC strings (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) carrying their own
 * parameters, so raising them later keeps old hashes verifiable (and `needsRehash` tells).
 */
export interface Argon2Parameters {
  /** KiB. */
  readonly memoryCost: number;
  readonly timeCost: number;
  readonly parallelism: number;
}

export const OWASP_ARGON2ID: Argon2Parameters = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };

// `Algorithm` is a const enum in the package's types, which isolated modules cannot inline.
const ARGON2ID = 2 as Algorithm;

export class Argon2idPasswordHasher implements PasswordHasher {
  readonly #parameters: Argon2Parameters;

  constructor(parameters: Argon2Parameters = OWASP_ARGON2ID) {
    if (
      parameters.memoryCost < OWASP_ARGON2ID.memoryCost ||
      parameters.timeCost < OWASP_ARGON2ID.timeCost ||
      parameters.parallelism < 1
    )
      throw new Error('argon2id parameters below the OWASP minimum (m=19 MiB, t=2, p=1)');
    this.#parameters = parameters;
  }

  hash(password: string): Promise<string> {
    return hash(password, { algorithm: ARGON2ID, outputLen: 32, ...this.#parameters });
  }

  /** The library recomputes the hash with the stored salt and compares in constant time. */
  async verify(stored: string, password: string): Promise<boolean> {
    if (!stored.startsWith('$argon2id$')) return false;
    try {
      return await verify(stored, password);
    } catch {
      return false;
    }
  }

  /** Whether a stored hash was made with weaker parameters than the current ones. */
  needsRehash(stored: string): boolean {
    const match = /\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(stored);
    if (!match) return true;
    const [m, t, p] = match.slice(1).map(Number);
    return (
      (m ?? 0) < this.#parameters.memoryCost ||
      (t ?? 0) < this.#parameters.timeCost ||
      (p ?? 0) < this.#parameters.parallelism
    );
  }
}
