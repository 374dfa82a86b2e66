/**
 * `cdp keys rotate`: a new data key seals from now on, everything sealed before is sealed again
 * with it, and the old keys are dropped once nothing needs them. Running servers reload the key
 * ring within `KEY_RING_POLL_MS` (app/key-ring-watch.ts), so the rotation waits that long
 * before re-sealing: after the wait no process seals with an old key any more, and a final
 * pass checks that nothing under an old key is left before the old keys go.
 */
import type { InstanceStateRepository } from '../workspaces/workspaces.port.ts';
import { addDataKey, loadPiiVault, retireOlderDataKeys } from './key-ring.ts';
import type { PiiVault } from './pii-vault.ts';

/** How often a server looks for a changed key ring. */
export const KEY_RING_POLL_MS = 2_000;

export interface ResealProgress {
  readonly table: string;
  readonly done: number;
  readonly total: number;
}

export type ResealCounts = Record<string, { readonly rows: number; readonly changed: number }>;

/** What the rotation needs of the store (Store['pii']). */
export interface SealedStore {
  install(vault: PiiVault): void;
  reseal(onProgress?: (progress: ResealProgress) => void): Promise<ResealCounts>;
}

export interface RotationResult {
  readonly keyId: string;
  readonly retired: readonly string[];
  readonly counts: ResealCounts;
}

export async function rotateDataKey(deps: {
  instance: InstanceStateRepository;
  encryptionKey: Buffer;
  store: SealedStore;
  /** Keep the old keys (they can still open what a process that missed the change sealed). */
  keepOldKeys?: boolean;
  settleMs?: number;
  sleep?: (ms: number) => Promise<void>;
  onProgress?: (progress: ResealProgress) => void;
}): Promise<RotationResult> {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const keyId = await addDataKey(deps.instance, deps.encryptionKey);
  deps.store.install(await loadPiiVault(deps.instance, deps.encryptionKey));
  await sleep(deps.settleMs ?? KEY_RING_POLL_MS + 500);
  const counts = await deps.store.reseal(deps.onProgress);
  // What a process sealed with the old key in the moment before it reloaded.
  for (let pass = 0; pass < 3; pass++) {
    const again = await deps.store.reseal();
    if (Object.values(again).every((c) => c.changed === 0)) break;
  }
  const retired = deps.keepOldKeys === true ? [] : await retireOlderDataKeys(deps.instance, keyId);
  return { keyId, retired, counts };
}
