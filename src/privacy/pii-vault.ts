/**
 * Field-level encryption of personal data at rest. A PII value is stored as
 * `enc:v1:<key id>:<base64url(iv ‖ ciphertext ‖ tag)>`, AES-256-GCM over its JSON text with a
 * data key of the instance's key ring, so any JSON value (a string, a number, a list) comes
 * back as it went in. Identity lookups cannot use ciphertext (each sealing is different), so
 * they use a keyed hash (HMAC-SHA256) of the normalized identifier instead.
 *
 * Data keys are random, wrapped with the instance encryption key in the instance state
 * (key-ring.ts); a rotation adds a key, makes it the one that seals, and re-seals what the
 * older ones sealed. Opening picks the key by the id in the value, so rows sealed before and
 * after a rotation read alike while it runs.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import type { JsonValue } from '../shared/json.ts';

export const SEALED_PREFIX = 'enc:v1:';
const AAD = Buffer.from('cdp pii v1');
const IV_BYTES = 12;
const TAG_BYTES = 16;
const IV_POOL_BYTES = 12 * 341;
const KEY_ID = /^k[0-9]{1,9}$/;
const NOT_OPENED = Symbol('not opened');

export interface DataKeys {
  /** The key that seals new values. */
  readonly activeId: string;
  /** Every key that may still have sealed something, by id (the active one included). */
  readonly keys: ReadonlyMap<string, Buffer>;
}

export class PiiVault {
  readonly #dataKeys: DataKeys;
  readonly #lookupKey: Buffer;
  readonly #active: Buffer;
  #ivPool = Buffer.alloc(0);
  #ivOffset = 0;

  constructor(dataKeys: DataKeys, lookupKey: Buffer) {
    const active = dataKeys.keys.get(dataKeys.activeId);
    if (active === undefined) throw new Error(`the active data key ${dataKeys.activeId} is not in the ring`);
    this.#dataKeys = dataKeys;
    this.#active = active;
    this.#lookupKey = lookupKey;
  }

  get activeKeyId(): string {
    return this.#dataKeys.activeId;
  }

  /** The active data key itself, for the ingestion decoder's worker threads (same process). */
  activeKey(): { readonly id: string; readonly key: Buffer } {
    return { id: this.#dataKeys.activeId, key: this.#active };
  }

  /** A value sealed with the active data key (always a fresh IV: equal values seal differently). */
  seal(value: JsonValue): string {
    const iv = this.#iv();
    const cipher = createCipheriv('aes-256-gcm', this.#active, iv);
    cipher.setAAD(AAD);
    const body = Buffer.concat([
      iv,
      cipher.update(JSON.stringify(value), 'utf8'),
      cipher.final(),
      cipher.getAuthTag(),
    ]);
    return `${SEALED_PREFIX}${this.#dataKeys.activeId}:${body.toString('base64url')}`;
  }

  /**
   * A fresh random IV. Random bytes are drawn 4 KB at a time: one system call per 341 IVs
   * instead of one each (on the ack path every event's IP is sealed).
   */
  #iv(): Buffer {
    if (this.#ivOffset + IV_BYTES > this.#ivPool.length) {
      this.#ivPool = randomBytes(IV_POOL_BYTES);
      this.#ivOffset = 0;
    }
    const iv = this.#ivPool.subarray(this.#ivOffset, this.#ivOffset + IV_BYTES);
    this.#ivOffset += IV_BYTES;
    return iv;
  }

  /**
   * The value a sealed string holds. Anything else comes back as it is: values stored before
   * encryption or before a workspace classified the trait as PII, and text a client sent that
   * merely looks sealed (GCM authenticates: such text never opens, so it stays plain data).
   */
  open(value: JsonValue): JsonValue {
    if (!isSealed(value)) return value;
    const opened = this.#tryOpen(value);
    return opened === NOT_OPENED ? value : opened;
  }

  /** Whether a value is sealed by a key of this ring (what re-sealing and checks rely on). */
  opens(value: JsonValue): boolean {
    return isSealed(value) && this.#tryOpen(value) !== NOT_OPENED;
  }

  #tryOpen(value: string): JsonValue | typeof NOT_OPENED {
    const rest = value.slice(SEALED_PREFIX.length);
    const colon = rest.indexOf(':');
    const key = colon > 0 ? this.#dataKeys.keys.get(rest.slice(0, colon)) : undefined;
    if (key === undefined) return NOT_OPENED;
    const body = Buffer.from(rest.slice(colon + 1), 'base64url');
    if (body.length < IV_BYTES + TAG_BYTES) return NOT_OPENED;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, body.subarray(0, IV_BYTES));
      decipher.setAAD(AAD);
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      const text = Buffer.concat([
        decipher.update(body.subarray(IV_BYTES, body.length - TAG_BYTES)),
        decipher.final(),
      ]).toString('utf8');
      return JSON.parse(text) as JsonValue;
    } catch {
      return NOT_OPENED;
    }
  }

  /** Whether a stored value sealed by this ring is under an older key than the active one. */
  sealedWithOlderKey(value: JsonValue): boolean {
    return isSealed(value) && sealedKeyId(value) !== this.#dataKeys.activeId && this.opens(value);
  }

  /** The keyed hash identity lookups use for an identifier (base64url, 43 characters). */
  lookupHash(type: string, value: string): string {
    return createHmac('sha256', this.#lookupKey).update(`${type}:${value}`).digest('base64url');
  }
}

export function isSealed(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(SEALED_PREFIX);
}

export function sealedKeyId(value: string): string | undefined {
  const rest = value.slice(SEALED_PREFIX.length);
  const id = rest.slice(0, rest.indexOf(':'));
  return KEY_ID.test(id) ? id : undefined;
}
