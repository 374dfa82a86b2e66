import type { ProfileIdRange } from './segments.port.ts';

/**
 * Background work keyed by what it recomputes: a task waits for the previous task of the same
 * key, so two backfills of one segment never interleave. `close()` lets the running chunk finish
 * and stops the rest (the work stays marked unfinished and is resumed at the next start).
 */
export class BackgroundTasks {
  readonly #tasks = new Map<string, Promise<void>>();
  readonly #onError: (key: string, error: unknown) => void;
  #closing = false;

  constructor(onError: (key: string, error: unknown) => void) {
    this.#onError = onError;
  }

  get closing(): boolean {
    return this.#closing;
  }

  /** Runs `task` after the current task of `key`; the returned promise settles with it. */
  run(key: string, task: () => Promise<void>): Promise<void> {
    const previous = this.#tasks.get(key) ?? Promise.resolve();
    const next = previous.then(async () => {
      if (this.#closing) return;
      try {
        await task();
      } catch (error) {
        this.#onError(key, error);
      }
    });
    this.#tasks.set(key, next);
    void next.then(() => {
      if (this.#tasks.get(key) === next) this.#tasks.delete(key);
    });
    return next;
  }

  /** Settles when every task queued so far has finished. */
  async idle(): Promise<void> {
    while (this.#tasks.size > 0) await Promise.all(this.#tasks.values());
  }

  async close(): Promise<void> {
    this.#closing = true;
    await this.idle();
  }
}

/** The ranges between chunk boundaries: (…, b0], (b0, b1], …, (bn, …). */
export function chunkRanges(boundaries: readonly string[]): ProfileIdRange[] {
  const ranges: ProfileIdRange[] = [];
  let afterId: string | undefined;
  for (const untilId of boundaries) {
    ranges.push({ afterId, untilId });
    afterId = untilId;
  }
  ranges.push({ afterId, untilId: undefined });
  return ranges;
}
