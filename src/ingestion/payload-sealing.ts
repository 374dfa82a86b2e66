/**
 * Personal fields of a stored message, sealed before it reaches the event log: the PII keys of
 * `traits` (identify, group) and of `context.traits`, and `context.ip`. The rest of the message
 * (properties, page fields, ids) stays as sent, so event conditions and computed traits over
 * properties still run in SQL. The decoder does this on the ack path, in worker threads, so
 * the envelope carries the active data key (see `PayloadSealing`); the request IP, shared by
 * every message of the request, is sealed once per request by the caller.
 */
import { piiPolicy, type PiiPolicy } from '../governance/pii-masking.ts';
import { PiiVault } from '../privacy/pii-vault.ts';
import { isJsonObject, ownField, type JsonObject, type JsonValue } from '../shared/json.ts';

/** What the decoder needs to seal a request's messages (plain data: it crosses to workers). */
export interface PayloadSealing {
  readonly keyId: string;
  readonly key: Uint8Array;
  /** The workspace's own PII traits, besides the defaults. */
  readonly piiTraits: readonly string[];
  /** The request IP sealed (null when IP capture is off for the source). */
  readonly sealedIp: string | null;
}

/** Sealers by key, reused across requests (a worker sees the same key for every request). */
let cached: { key: Uint8Array; keyId: string; vault: PiiVault } | undefined;
let cachedPolicy: { traits: readonly string[]; policy: PiiPolicy } | undefined;
const NO_LOOKUP = Buffer.alloc(32);
const IP_CACHE_LIMIT = 50_000;
let ipCache: { vault: PiiVault | undefined; sealed: Map<string, string> } = {
  vault: undefined,
  sealed: new Map(),
};

function vaultOf(sealing: PayloadSealing): PiiVault {
  if (cached?.key === sealing.key) return cached.vault;
  // Each request brings its own copy of the key (cloned to the worker): compare the bytes once.
  if (cached?.keyId === sealing.keyId && Buffer.from(cached.key).equals(Buffer.from(sealing.key))) {
    cached.key = sealing.key;
    return cached.vault;
  }
  const key = Buffer.from(sealing.key);
  cached = {
    key: sealing.key,
    keyId: sealing.keyId,
    vault: new PiiVault({ activeId: sealing.keyId, keys: new Map([[sealing.keyId, key]]) }, NO_LOOKUP),
  };
  return cached.vault;
}

function policyOf(sealing: PayloadSealing): PiiPolicy {
  if (cachedPolicy?.traits !== sealing.piiTraits)
    cachedPolicy = { traits: sealing.piiTraits, policy: piiPolicy(sealing.piiTraits) };
  return cachedPolicy.policy;
}

/** Whether an object of traits has a personal key (then it must be rewritten, not copied). */
export function hasPersonalTrait(traits: JsonValue | undefined, sealing: PayloadSealing): boolean {
  if (!isJsonObject(traits)) return false;
  const policy = policyOf(sealing);
  return Object.keys(traits).some((key) => policy.isPiiTrait(key));
}

/** Seals the personal fields of a stored message (its own object: mutated in place). */
export function sealStoredMessage(
  message: JsonObject,
  sealing: PayloadSealing,
  requestIp: string | null,
): void {
  const vault = vaultOf(sealing);
  const policy = policyOf(sealing);
  const traits = ownField(message, 'traits');
  if (isJsonObject(traits)) define(message, 'traits', sealTraits(traits, vault, policy));
  const context = ownField(message, 'context');
  if (isJsonObject(context)) define(message, 'context', sealContext({ ...context }, sealing, requestIp));
}

/**
 * An IP sealed with the request's data key. Server-side SDKs send an IP with every event and
 * a person's events share it, so sealed IPs are remembered (per data key, up to
 * `IP_CACHE_LIMIT`): an encryption per event would be a third of the decoder's work. The price
 * is that equal IPs may be stored as equal ciphertexts, which tells someone reading the
 * database that two events came from one address, never which one; trait values always get a
 * fresh IV.
 */
export function sealIp(sealing: PayloadSealing, ip: string): string {
  const vault = vaultOf(sealing);
  if (ipCache.vault !== vault || ipCache.sealed.size >= IP_CACHE_LIMIT)
    ipCache = { vault, sealed: new Map() };
  let sealed = ipCache.sealed.get(ip);
  if (sealed === undefined) {
    sealed = vault.seal(ip);
    ipCache.sealed.set(ip, sealed);
  }
  return sealed;
}

/** Seals the personal fields of a stored context in place (it must be the caller's own copy). */
export function sealContext(
  context: JsonObject,
  sealing: PayloadSealing,
  requestIp: string | null,
): JsonObject {
  const ip = ownField(context, 'ip');
  if (typeof ip === 'string')
    define(
      context,
      'ip',
      ip === requestIp && sealing.sealedIp !== null ? sealing.sealedIp : sealIp(sealing, ip),
    );
  const own = ownField(context, 'traits');
  if (isJsonObject(own)) define(context, 'traits', sealTraits(own, vaultOf(sealing), policyOf(sealing)));
  return context;
}

function sealTraits(traits: JsonObject, vault: PiiVault, policy: PiiPolicy): JsonObject {
  const out: JsonObject = {};
  for (const key of Object.keys(traits)) {
    const value = traits[key] as JsonValue;
    define(out, key, policy.isPiiTrait(key) ? vault.seal(value) : value);
  }
  return out;
}

/** The stored message with its sealed fields opened (`open` leaves anything else as it is). */
export function openStoredMessage(message: JsonObject, open: (value: JsonValue) => JsonValue): JsonObject {
  const traits = ownField(message, 'traits');
  const context = ownField(message, 'context');
  const contextTraits = isJsonObject(context) ? ownField(context, 'traits') : undefined;
  const ip = isJsonObject(context) ? ownField(context, 'ip') : undefined;
  if (!isJsonObject(traits) && !isJsonObject(contextTraits) && typeof ip !== 'string') return message;
  const out: JsonObject = { ...message };
  if (isJsonObject(traits)) define(out, 'traits', openValues(traits, open));
  if (isJsonObject(context)) {
    const opened: JsonObject = { ...context };
    if (typeof ip === 'string') define(opened, 'ip', open(ip));
    if (isJsonObject(contextTraits)) define(opened, 'traits', openValues(contextTraits, open));
    define(out, 'context', opened);
  }
  return out;
}

function openValues(traits: JsonObject, open: (value: JsonValue) => JsonValue): JsonObject {
  const out: JsonObject = {};
  for (const key of Object.keys(traits)) define(out, key, open(traits[key] as JsonValue));
  return out;
}

function define(target: JsonObject, key: string, value: JsonValue): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
