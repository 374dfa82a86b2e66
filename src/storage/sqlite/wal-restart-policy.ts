/** What a `PRAGMA wal_checkpoint` pass reports: frames in the WAL, and how many are copied. */
export interface CheckpointProgress {
  readonly log: number;
  readonly checkpointed: number;
}

/** What a RESTART pass may copy while it holds the write lock: 4 MB of 4 KB pages. */
export const RESTART_REMAINDER_FRAMES = 1_000;

/**
 * Whether the checkpoint worker should take the write lock and start the WAL over now: only
 * once the WAL is past its limit (below it, PASSIVE passes and the writers' own restarts
 * suffice), and only when the PASSIVE pass just made left little to copy, since every writer
 * waits on the event loop while the lock is held. A first version restarted whatever was left:
 * it held the lock for seconds of copying and fsync, and a pipeline batch failed with
 * `database is locked`.
 */
export function restartDue(
  progress: CheckpointProgress,
  restartFrames: number,
  remainderFrames: number = RESTART_REMAINDER_FRAMES,
): boolean {
  return progress.log > restartFrames && progress.log - progress.checkpointed <= remainderFrames;
}
