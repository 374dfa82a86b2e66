import { DATA_KEYS_STATE, loadPiiVault } from '../privacy/key-ring.ts';
import { KEY_RING_POLL_MS } from '../privacy/key-rotation.ts';
import type { Store } from '../storage/store.ts';

/**
 * Keeps a server's vault in step with the stored key ring: `cdp keys rotate` (another process)
 * adds a data key, and from the next poll this process seals with it and opens what it seals.
 */
export function watchKeyRing(
  store: Store,
  encryptionKey: Buffer,
  logError: (details: Record<string, unknown>, message: string) => void,
): { stop(): void } {
  let seen: string | undefined;
  let busy = false;
  const check = async (): Promise<void> => {
    const text = await store.instance.get(DATA_KEYS_STATE);
    if (text === undefined || text === seen) return;
    const first = seen === undefined;
    seen = text;
    if (!first) store.pii.install(await loadPiiVault(store.instance, encryptionKey));
  };
  void check().catch(() => undefined);
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    check()
      .catch((error: unknown) => logError({ err: error }, 'could not reload the key ring'))
      .finally(() => {
        busy = false;
      });
  }, KEY_RING_POLL_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
