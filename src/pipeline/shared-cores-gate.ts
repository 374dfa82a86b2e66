import type { Admission, BackgroundGate } from './foreground-activity.ts';

/**
 * The pipeline's thread and the API thread share the machine's cores with the request decoders,
 * the WAL checkpoints and whatever else runs there. While the API thread is lightly loaded the
 * pipeline runs flat out (its batches sized by how much is waiting); as the API thread's
 * event-loop utilization (`apiLoad`, reported by it a few times a second) rises past
 * `fullSpeedBelow`, the pipeline's share of its own thread's time falls linearly, down to
 * `minShare` at `minShareAt`, and its batches keep to `throttledBatch` entries: near the ack
 * path's capacity acknowledging comes first, and processing catches up when the burst ends.
 */
export interface SharedCoresPolicy {
  readonly fullSpeedBelow: number;
  readonly minShareAt: number;
  readonly minShare: number;
  readonly throttledBatch: number;
}

export const DEFAULT_SHARED_CORES_POLICY: SharedCoresPolicy = {
  fullSpeedBelow: 0.5,
  minShareAt: 0.9,
  minShare: 0.1,
  throttledBatch: 500,
};

/** The share of its thread the pipeline may take while the API thread has `apiLoad`. */
export function pipelineShare(policy: SharedCoresPolicy, apiLoad: number): number {
  if (apiLoad <= policy.fullSpeedBelow) return 1;
  const over = (apiLoad - policy.fullSpeedBelow) / (policy.minShareAt - policy.fullSpeedBelow);
  return Math.max(policy.minShare, 1 - over * (1 - policy.minShare));
}

export class SharedCoresGate implements BackgroundGate {
  readonly #policy: SharedCoresPolicy;
  readonly #now: () => number;
  #apiLoad = 0;
  #restUntilMs = 0;
  readonly #wakers = new Set<() => void>();

  constructor(
    policy: SharedCoresPolicy = DEFAULT_SHARED_CORES_POLICY,
    now: () => number = () => performance.now(),
  ) {
    this.#policy = policy;
    this.#now = now;
  }

  /** The API thread's event-loop utilization over its last report interval (0–1). */
  set apiLoad(load: number) {
    this.#apiLoad = Math.min(1, Math.max(0, load));
    // A lighter load may shorten a rest already begun.
    if (pipelineShare(this.#policy, this.#apiLoad) === 1) for (const wake of this.#wakers) wake();
  }

  get apiLoad(): number {
    return this.#apiLoad;
  }

  async admit(maxBatch: number): Promise<Admission> {
    const restMs = this.#restUntilMs - this.#now();
    if (restMs > 0 && pipelineShare(this.#policy, this.#apiLoad) < 1) await this.#rest(restMs);
    const share = pipelineShare(this.#policy, this.#apiLoad);
    const started = this.#now();
    return {
      maxBatch: share < 1 ? Math.min(maxBatch, this.#policy.throttledBatch) : maxBatch,
      done: () => {
        const tookMs = this.#now() - started;
        // After d ms of work at share s, the next batch waits d × (1 − s) / s.
        this.#restUntilMs = share < 1 ? this.#now() + (tookMs * (1 - share)) / share : 0;
      },
    };
  }

  #rest(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wakers.add(done);
    });
  }
}
