import { closeSync, fstatSync, fsync, openSync } from 'node:fs';

/**
 * Makes the WAL durable from libuv's thread pool (also the main file's, for the commits that
 * need it: lock-waiting-dialect.ts). The appender commits with
 * `synchronous=NORMAL` (SQLite writes the frames but does not fsync them) and then waits for
 * this fsync before anyone is told the events are stored: the same durability as
 * `synchronous=FULL`, whose fsync ran inside the commit and held the event loop for its whole
 * duration (8–27 ms per group commit under load on the development machine), while every
 * request behind it waited. An fsync covers every write made to the file before it started, so
 * the frames of the commit that came before are on disk when it returns.
 *
 * A failed fsync leaves the file's state on disk unknown (the kernel may have dropped the
 * pages it could not write), so, as PostgreSQL does, nothing is acknowledged after one: every
 * later sync fails too, until a restart recovers the log from what the disk holds.
 */
export class WalFileSync {
  readonly #path: string;
  readonly #label: string;
  #fd: number | undefined;
  #failure: Error | undefined;

  /** `label`: what the file holds, for the error ("the event log"). */
  constructor(walPath: string, label = 'the event log') {
    this.#path = walPath;
    this.#label = label;
  }

  /** Set once an fsync failed: every sync after it fails with it. */
  get failure(): Error | undefined {
    return this.#failure;
  }

  sync(): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      // Throwing here (the WAL cannot be opened) rejects the promise.
      const fd = this.#open();
      fsync(fd, (error) => {
        if (error === null) return resolve();
        this.#failure ??= new Error(
          `fsync of ${this.#label} failed (${error.code ?? error.message}); restart the server`,
        );
        reject(this.#failure);
      });
    });
  }

  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }

  /** SQLite keeps its WAL while a connection is open; reopened should it ever be replaced. */
  #open(): number {
    if (this.#fd !== undefined && fstatSync(this.#fd).nlink > 0) return this.#fd;
    this.close();
    this.#fd = openSync(this.#path, 'r+');
    return this.#fd;
  }
}
