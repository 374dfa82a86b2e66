/**
 * Where personal data is sealed on its way into the store and opened on its way out: the
 * repositories call this, the domain only ever sees plain values. What is personal is the
 * workspace's PII classification (governance/pii-masking.ts): identifier types `email` and
 * `phone`, and the PII traits. Their values are stored sealed (privacy/pii-vault.ts), and a PII
 * identifier's key is `type:#<keyed hash>` instead of `type:value`, so lookups still find it.
 *
 * Until a vault is installed (a store used without the instance encryption key: storage tests,
 * tools) values are stored as they are; reading opens sealed values whenever a vault is there,
 * so a store holds plain and sealed rows side by side (`cdp keys rotate` seals the plain ones).
 */
import type { Kysely } from 'kysely';
import { piiPolicy, type PiiPolicy } from '../../governance/pii-masking.ts';
import { sealedKeyId, type PiiVault } from '../../privacy/pii-vault.ts';
import type { JsonObject, JsonValue } from '../../shared/json.ts';
import { openStoredMessage, type PayloadSealing } from '../../ingestion/payload-sealing.ts';
import type { Database } from '../database-schema.ts';
import type { Db } from './workspace-write.ts';
import type { ResealCounts, ResealProgress } from '../../privacy/key-rotation.ts';
import { RefreshingCache } from '../../shared/refreshing-cache.ts';
import { resealAll } from './pii-reseal.ts';

/** How long a process trusts its copy of a workspace's PII classification (others may change it). */
const POLICY_TTL_MS = 2_000;
/** A copy older than this (a workspace quiet for a while) is read again before answering. */
const POLICY_MAX_STALE_MS = 60_000;
const PRIVACY_SETTINGS = 'privacy';
/** Places remembered by `openIn` (a few MB); past this the memo starts over. */
const MEMO_LIMIT = 20_000;
/** Sealed texts remembered opened by `open` (a few MB); past this the memory starts over. */
const OPENED_LIMIT = 50_000;

export class PiiSealing {
  readonly #db: Kysely<Database>;
  #vault: PiiVault | undefined;
  #locked: Error | undefined;
  /** `scope + value` → the sealed text it was read from (see `sealIn`). */
  readonly #memo = new Map<string, string>();
  /** Sealed text → the scalar it opens to (see `open`). */
  readonly #opened = new Map<string, string | number | boolean | null>();
  readonly #policies = new RefreshingCache<PiiPolicy>({
    freshMs: POLICY_TTL_MS,
    maxStaleMs: POLICY_MAX_STALE_MS,
    maxEntries: 10_000,
    now: () => Date.now(),
  });

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  install(vault: PiiVault): void {
    this.#vault = vault;
    this.#locked = undefined;
    this.forgetOpened();
  }

  /**
   * Drops the values this process remembers opened (a new key ring; a person erased: what was
   * read about them does not stay in memory until evicted).
   */
  forgetOpened(): void {
    this.#memo.clear();
    this.#opened.clear();
  }

  /**
   * The vault could not be opened (another instance key): whatever needs it fails with that
   * error, while commands that touch no personal data still run.
   */
  lock(error: Error): void {
    this.#vault = undefined;
    this.#locked = error;
  }

  #current(): PiiVault | undefined {
    if (this.#locked !== undefined) throw this.#locked;
    return this.#vault;
  }

  /** Re-seals every stored personal value under the active key (pii-reseal.ts). */
  reseal(onProgress?: (progress: ResealProgress) => void): Promise<ResealCounts> {
    return resealAll(this.#db, this, onProgress);
  }

  get vault(): PiiVault | undefined {
    return this.#current();
  }

  /**
   * The workspace's PII classification (cached: another process's change shows within about
   * POLICY_TTL_MS). Outside a transaction an old copy is answered while it is read again (the
   * ack path asks on every request and must not wait for a pipeline batch that holds the
   * connection). Inside a transaction pass it as `db`: SQLite has one connection, and the
   * transaction holds it.
   */
  async policy(workspaceId: string, db: Kysely<Database> | Db = this.#db): Promise<PiiPolicy> {
    if (db === this.#db) return this.#policies.get(workspaceId, () => this.#readPolicy(workspaceId, db));
    const fresh = this.#policies.fresh(workspaceId);
    if (fresh !== undefined) return fresh;
    const policy = await this.#readPolicy(workspaceId, db);
    this.#policies.set(workspaceId, policy);
    return policy;
  }

  async #readPolicy(workspaceId: string, db: Kysely<Database> | Db): Promise<PiiPolicy> {
    const row = await db
      .selectFrom('workspace_settings')
      .select('value')
      .where('workspace_id', '=', workspaceId)
      .where('name', '=', PRIVACY_SETTINGS)
      .executeTakeFirst();
    const stored = row === undefined ? undefined : (JSON.parse(row.value) as { piiTraits?: unknown });
    const extra = Array.isArray(stored?.piiTraits)
      ? stored.piiTraits.filter((t): t is string => typeof t === 'string')
      : [];
    return piiPolicy(extra);
  }

  /** The traits the workspace classifies as PII besides the defaults (cached with the policy). */
  async extraTraits(workspaceId: string): Promise<readonly string[]> {
    return (await this.policy(workspaceId)).extraTraits;
  }

  /** What the ingestion decoder needs to seal a request's messages (none without a vault). */
  async payloadSealing(workspaceId: string, ip: string | null): Promise<PayloadSealing | undefined> {
    const vault = this.#current();
    if (vault === undefined) return undefined;
    const { id, key } = vault.activeKey();
    const piiTraits = await this.extraTraits(workspaceId);
    return { keyId: id, key, piiTraits, sealedIp: ip === null ? null : vault.seal(ip) };
  }

  /** A stored message with its sealed fields opened. */
  openMessage(message: JsonObject): JsonObject {
    return this.#current() === undefined ? message : openStoredMessage(message, (v) => this.open(v));
  }

  /** This process changed the classification: the next write reads it again. */
  forget(workspaceId: string): void {
    this.#policies.delete(workspaceId);
  }

  /** A trait value as stored: sealed when the trait is PII and a vault is installed. */
  traitValue(policy: PiiPolicy, name: string, value: JsonValue, scope?: string): JsonValue {
    const vault = this.#current();
    if (vault === undefined || !policy.isPiiTrait(name)) return value;
    return scope === undefined ? vault.seal(value) : this.sealIn(`${scope}\u0000${name}`, value);
  }

  /**
   * A value opened from a place (`scope`: a profile's trait, its ordering key), remembered so
   * that writing the same value back to the same place keeps the stored text (`sealIn`)
   * instead of sealing it again: the pipeline rewrites a profile on every event, and its
   * e-mail rarely changes. The memo is per place, never shared between profiles, so it does
   * not make equal values of different people look alike.
   */
  openIn(scope: string, value: JsonValue): JsonValue {
    const opened = this.open(value);
    if (opened !== value && typeof value === 'string') {
      if (this.#memo.size >= MEMO_LIMIT) this.#memo.clear();
      this.#memo.set(`${scope}\u0000${JSON.stringify(opened)}`, value);
    }
    return opened;
  }

  /** Text derived from identifiers (an ordering key) opened from a place; see `openIn`. */
  derivedTextIn(scope: string, text: string): string {
    const opened = text === '' ? text : this.openIn(scope, text);
    return typeof opened === 'string' ? opened : text;
  }

  /** Text derived from identifiers sealed for a place (the stored text when unchanged). */
  sealDerivedIn(scope: string, text: string): string {
    const sealed = text === '' ? text : this.sealIn(scope, text);
    return typeof sealed === 'string' ? sealed : text;
  }

  /** A personal value for a place, sealed (the stored text again when it did not change). */
  sealIn(scope: string, value: JsonValue): JsonValue {
    const vault = this.#current();
    if (vault === undefined) return value;
    const kept = this.#memo.get(`${scope}\u0000${JSON.stringify(value)}`);
    return kept !== undefined && sealedKeyId(kept) === vault.activeKeyId ? kept : vault.seal(value);
  }

  /**
   * A stored value as the domain knows it. The pipeline reads the same profiles again batch
   * after batch, each read opening every personal trait and identifier (an AES-GCM decryption
   * each, ~6 % of a batch): a sealed text always opens to the same value under the same key
   * ring, so scalars are remembered by their sealed text. Objects are not (callers may keep
   * and change what they get).
   */
  open(value: JsonValue): JsonValue {
    const vault = this.#current();
    if (vault === undefined) return value;
    if (typeof value !== 'string') return vault.open(value);
    const remembered = this.#opened.get(value);
    if (remembered !== undefined) return remembered;
    const opened = vault.open(value);
    if (opened !== value && (opened === null || typeof opened !== 'object')) {
      if (this.#opened.size >= OPENED_LIMIT) this.#opened.clear();
      this.#opened.set(value, opened);
    }
    return opened;
  }

  openText(value: string): string {
    const opened = this.open(value);
    return typeof opened === 'string' ? opened : value;
  }

  isPiiIdentifier(type: string): boolean {
    return this.#current() !== undefined && (type === 'email' || type === 'phone');
  }

  /** The stored key of an identifier: `type:value`, or `type:#<keyed hash>` for a PII type. */
  identifierKey(type: string, value: string, domainKey: string): string {
    const vault = this.#current();
    return vault !== undefined && this.isPiiIdentifier(type)
      ? `${type}:#${vault.lookupHash(type, value)}`
      : domainKey;
  }

  /** The stored value of an identifier (sealed for a PII type). */
  identifierValue(type: string, value: string): string {
    const vault = this.#current();
    return vault !== undefined && this.isPiiIdentifier(type) ? vault.seal(value) : value;
  }

  /**
   * The domain's key of a stored identifier row. A hashed key cannot be read back, so it is
   * made again from the type and the opened value (the domain orders and matches by it).
   */
  domainKey(row: { id_key: string; type: string; value: string }): string {
    if (!row.id_key.startsWith(`${row.type}:#`) || !(row.type === 'email' || row.type === 'phone'))
      return row.id_key;
    return `${row.type}:${this.openText(row.value)}`;
  }
}
