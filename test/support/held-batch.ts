import type { Store } from '../../src/storage/store.ts';

/**
 * Holds the store where the profiles stage runs its batches, as one long batch would: the
 * workspace's profile-state lock in a transaction of replayable work (state derived from the
 * log). Resolves once the transaction has begun; `release` ends it and waits for its end.
 */
export async function holdLikeABatch(
  store: Store,
  workspaceId: string,
): Promise<{ release(): Promise<void> }> {
  let entered!: () => void;
  const inside = new Promise<void>((resolve) => (entered = resolve));
  let end!: () => void;
  const held = new Promise<void>((resolve) => (end = resolve));
  const transaction = store.profileState.exclusive(
    workspaceId,
    Date.now(),
    async () => {
      entered();
      await held;
    },
    { replayable: true },
  );
  // A transaction that fails to begin is reported here rather than left waiting.
  await Promise.race([inside, transaction]);
  return {
    async release() {
      end();
      await transaction;
    },
  };
}
