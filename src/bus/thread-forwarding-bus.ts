import type { AnnouncedEntry, ConsumerHandle, ConsumerSpec, EventBus } from '../pipeline/bus.port.ts';
import type { ConsumerStateRepository } from '../pipeline/consumer-state.port.ts';
import type { Clock } from '../shared/clock.ts';

export interface ThreadForwardingBusOptions {
  readonly state: ConsumerStateRepository;
  readonly clock: Clock;
  readonly announce: (entries: readonly AnnouncedEntry[]) => void;
  readonly redeliveriesScheduled: () => void;
}

/**
 * The API thread's side of the embedded bus when the pipeline runs on a thread of its own
 * (app/pipeline-thread.ts): the consumers are there, reading the same log and cursors, so this
 * side only tells them when to look. Redeliveries are stored, as the in-process bus stores
 * them, and read by the consumer there.
 */
export class ThreadForwardingBus implements EventBus {
  readonly #options: ThreadForwardingBusOptions;

  constructor(options: ThreadForwardingBusOptions) {
    this.#options = options;
  }

  announce(entries: readonly AnnouncedEntry[]): void {
    this.#options.announce(entries);
  }

  consume(spec: ConsumerSpec): ConsumerHandle {
    throw new Error(
      `consumer group "${spec.group}": this thread does not consume; the pipeline's thread does`,
    );
  }

  async redeliver(group: string, seqs: readonly number[]): Promise<void> {
    await this.#options.state.scheduleNow(group, seqs, this.#options.clock.now());
    this.#options.redeliveriesScheduled();
  }

  async close(): Promise<void> {}
}
