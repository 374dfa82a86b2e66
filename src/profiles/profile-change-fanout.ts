import type { ProfileBatchChange, ProfileChangeListener } from './profile-state.port.ts';

/**
 * One listener that calls the others in registration order: the profiles stage and the profile
 * service (unmerge) both report through it, and modules (consent, segments…) register on it
 * when the app is built.
 */
export class ProfileChangeFanout implements ProfileChangeListener {
  readonly name = 'fanout';
  readonly #listeners: ProfileChangeListener[] = [];
  readonly #yieldToForeground: () => Promise<void>;

  /** `yieldToForeground`: how to give the event loop away between listeners (the app's gate). */
  constructor(
    yieldToForeground: () => Promise<void> = () => new Promise((resolve) => setImmediate(resolve)),
  ) {
    this.#yieldToForeground = yieldToForeground;
  }

  add(listener: ProfileChangeListener): void {
    this.#listeners.push(listener);
  }

  async profilesChanged(change: ProfileBatchChange): Promise<void> {
    for (const listener of this.#listeners) {
      // Between two listeners' transactions, requests that arrived meanwhile get the event loop:
      // each listener commits on its own, so nothing is half-done here, and on SQLite an ack
      // waiting for the one connection commits now rather than after the whole batch.
      await this.#yieldToForeground();
      await listener.profilesChanged(change);
    }
  }
}
