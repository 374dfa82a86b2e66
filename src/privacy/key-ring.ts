/**
 * The instance's data keys for PII encryption and its identity lookup key, kept in the
 * instance state wrapped with the instance encryption key. The first process to start makes
 * them; every process sharing the store and the encryption key loads the same ones. Changes
 * are compare-and-set, so two rotations at once cannot lose a key.
 */
import { randomBytes } from 'node:crypto';
import type { InstanceStateRepository } from '../workspaces/workspaces.port.ts';
import { unwrapKey, wrapKey } from './key-wrap.ts';
import { PiiVault } from './pii-vault.ts';
import { SUPPRESSION_KEY_LABEL, SUPPRESSION_KEY_STATE } from './suppression-hasher.ts';

export const DATA_KEYS_STATE = 'privacy.data_keys';
export const LOOKUP_KEY_STATE = 'privacy.lookup_key';
const DATA_KEY_LABEL = 'cdp pii data key v1';
const LOOKUP_KEY_LABEL = 'cdp identity lookup key v1';

/** The stored ring: which key seals, and every key still able to open something (wrapped). */
interface StoredRing {
  active: string;
  keys: Record<string, string>;
}

export async function loadPiiVault(
  instance: InstanceStateRepository,
  encryptionKey: Buffer,
): Promise<PiiVault> {
  const ring = await loadRing(instance, encryptionKey);
  const lookup = await loadOrCreateKey(instance, LOOKUP_KEY_STATE, LOOKUP_KEY_LABEL, encryptionKey);
  return new PiiVault(ringKeys(ring, encryptionKey), lookup);
}

/** Adds a new data key and makes it the one that seals; resolves its id. */
export async function addDataKey(instance: InstanceStateRepository, encryptionKey: Buffer): Promise<string> {
  for (;;) {
    const text = await ringText(instance, encryptionKey);
    const ring = JSON.parse(text) as StoredRing;
    // A ring wrapped with another instance key must not get a key wrapped with this one.
    ringKeys(ring, encryptionKey);
    const next = Math.max(0, ...Object.keys(ring.keys).map((id) => Number(id.slice(1)))) + 1;
    const id = `k${next}`;
    const updated: StoredRing = {
      active: id,
      keys: { ...ring.keys, [id]: wrapKey(randomBytes(32), encryptionKey, DATA_KEY_LABEL) },
    };
    if (await instance.compareAndSet(DATA_KEYS_STATE, text, JSON.stringify(updated))) return id;
  }
}

/** Drops every data key but the active one (after everything they sealed was re-sealed). */
export async function retireOlderDataKeys(
  instance: InstanceStateRepository,
  activeId: string,
): Promise<string[]> {
  for (;;) {
    const text = await instance.get(DATA_KEYS_STATE);
    if (text === undefined) return [];
    const ring = JSON.parse(text) as StoredRing;
    // A rotation that started meanwhile made another key active: leave its ring alone.
    if (ring.active !== activeId) return [];
    const wrapped = ring.keys[activeId];
    if (wrapped === undefined) return [];
    const retired = Object.keys(ring.keys).filter((id) => id !== activeId);
    if (retired.length === 0) return [];
    const updated: StoredRing = { active: activeId, keys: { [activeId]: wrapped } };
    if (await instance.compareAndSet(DATA_KEYS_STATE, text, JSON.stringify(updated))) return retired;
  }
}

/**
 * Re-wraps every stored key (data keys, lookup key, suppression key) from one encryption key to
 * another. Nothing sealed with them changes: the stored values and hashes stay valid.
 */
export async function rewrapKeys(
  instance: InstanceStateRepository,
  from: Buffer,
  to: Buffer,
): Promise<{ rewrapped: number }> {
  let rewrapped = 0;
  const ringTextNow = await ringText(instance, from);
  const ring = JSON.parse(ringTextNow) as StoredRing;
  const keys: Record<string, string> = {};
  for (const [id, wrapped] of Object.entries(ring.keys)) {
    keys[id] = wrapKey(unwrapKey(wrapped, from, DATA_KEY_LABEL), to, DATA_KEY_LABEL);
    rewrapped++;
  }
  if (
    !(await instance.compareAndSet(
      DATA_KEYS_STATE,
      ringTextNow,
      JSON.stringify({ active: ring.active, keys }),
    ))
  )
    throw new Error('the data keys changed during the re-wrap (another rotation running?): run it again');
  for (const [state, label] of [
    [LOOKUP_KEY_STATE, LOOKUP_KEY_LABEL],
    [SUPPRESSION_KEY_STATE, SUPPRESSION_KEY_LABEL],
  ] as const) {
    const wrapped = await instance.get(state);
    if (wrapped === undefined) continue;
    const again = wrapKey(unwrapKey(wrapped, from, label), to, label);
    if (!(await instance.compareAndSet(state, wrapped, again)))
      throw new Error(`${state} changed during the re-wrap: run it again`);
    rewrapped++;
  }
  return { rewrapped };
}

async function loadRing(instance: InstanceStateRepository, encryptionKey: Buffer): Promise<StoredRing> {
  return JSON.parse(await ringText(instance, encryptionKey)) as StoredRing;
}

/** The stored ring's text, made on first use. */
async function ringText(instance: InstanceStateRepository, encryptionKey: Buffer): Promise<string> {
  const stored = await instance.get(DATA_KEYS_STATE);
  if (stored !== undefined) return stored;
  const fresh: StoredRing = {
    active: 'k1',
    keys: { k1: wrapKey(randomBytes(32), encryptionKey, DATA_KEY_LABEL) },
  };
  await instance.setIfAbsent(DATA_KEYS_STATE, JSON.stringify(fresh));
  const now = await instance.get(DATA_KEYS_STATE);
  if (now === undefined) throw new Error('the data keys vanished from the instance state');
  return now;
}

function ringKeys(ring: StoredRing, encryptionKey: Buffer): { activeId: string; keys: Map<string, Buffer> } {
  const keys = new Map<string, Buffer>();
  for (const [id, wrapped] of Object.entries(ring.keys))
    keys.set(id, unwrapKey(wrapped, encryptionKey, DATA_KEY_LABEL));
  return { activeId: ring.active, keys };
}

async function loadOrCreateKey(
  instance: InstanceStateRepository,
  state: string,
  label: string,
  encryptionKey: Buffer,
): Promise<Buffer> {
  let stored = await instance.get(state);
  if (stored === undefined) {
    await instance.setIfAbsent(state, wrapKey(randomBytes(32), encryptionKey, label));
    stored = await instance.get(state);
  }
  if (stored === undefined) throw new Error(`${state} vanished from the instance state`);
  return unwrapKey(stored, encryptionKey, label);
}
