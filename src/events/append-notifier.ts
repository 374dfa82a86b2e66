/**
 * Wakes in-process listeners (the live debugger stream) when the log grows. Listeners still
 * read from the store, so appends made by other processes reach them through their own poll.
 */
export class AppendNotifier {
  readonly #listeners = new Set<() => void>();

  notify(): void {
    for (const listener of this.#listeners) listener();
  }

  /** Resolves on the next append, or after `timeoutMs`. */
  waitForAppend(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#listeners.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.#listeners.add(done);
      signal?.addEventListener('abort', done);
    });
  }
}
