import { MAX_STORED_EVENT_BYTES, type EventLogRepository } from '../ingestion/event-log.port.ts';
import type { StoredEvent } from '../ingestion/message-types.ts';
import type {
  AnnouncedEntry,
  BusDelivery,
  ConsumerHandle,
  ConsumerSpec,
  EventBus,
} from '../pipeline/bus.port.ts';
import type { ConsumerStateRepository, ScheduledRedelivery } from '../pipeline/consumer-state.port.ts';
import type { BackgroundGate } from '../pipeline/foreground-activity.ts';
import type { Clock } from '../shared/clock.ts';

/** After a failed batch the consumer waits 1 s, then 2, 4… up to 30 s while failures go on. */
const FIRST_BACKOFF_MS = 1_000;
const MAX_BACKOFF_MS = 30_000;

export interface InProcessBusOptions {
  readonly log: EventLogRepository;
  readonly state: ConsumerStateRepository;
  readonly clock: Clock;
  /** How often an idle consumer looks at the log anyway (appends made by other processes). */
  readonly pollIntervalMs?: number;
  readonly onError?: (group: string, error: unknown) => void;
  /** When given, each batch waits for a quiet moment of the ack path (see foreground-activity.ts). */
  readonly gate?: BackgroundGate;
}

/**
 * The embedded bus: each consumer group reads the event log itself, from a cursor stored in the
 * database. At-least-once: the cursor moves only after the batch's outcomes are committed, so a
 * crash redelivers the batch. One process consumes per group; scale-out uses JetStream.
 */
export class InProcessBus implements EventBus {
  readonly #options: InProcessBusOptions;
  readonly #consumers = new Map<string, InProcessConsumer>();

  constructor(options: InProcessBusOptions) {
    this.#options = options;
  }

  announce(_entries: readonly AnnouncedEntry[]): void {
    for (const consumer of this.#consumers.values()) consumer.wake();
  }

  consume(spec: ConsumerSpec): ConsumerHandle {
    if (this.#consumers.has(spec.group))
      throw new Error(`consumer group "${spec.group}" already consumes in this process`);
    const consumer = new InProcessConsumer(spec, this.#options);
    this.#consumers.set(spec.group, consumer);
    consumer.start();
    return {
      lag: () => consumer.lag(),
      stop: async () => {
        await consumer.stop();
        this.#consumers.delete(spec.group);
      },
    };
  }

  async redeliver(group: string, seqs: readonly number[]): Promise<void> {
    await this.#options.state.scheduleNow(group, seqs, this.#options.clock.now());
    this.#consumers.get(group)?.wake();
  }

  async close(): Promise<void> {
    await Promise.all([...this.#consumers.values()].map((consumer) => consumer.stop()));
    this.#consumers.clear();
  }
}

interface BatchOutcome {
  readonly entries: number;
  readonly behindMs: number;
}

class InProcessConsumer {
  readonly #spec: ConsumerSpec;
  readonly #options: InProcessBusOptions;
  #cursor: number | undefined;
  #running = false;
  #loop: Promise<void> | undefined;
  #wakeUp: (() => void) | undefined;
  #woken = false;

  constructor(spec: ConsumerSpec, options: InProcessBusOptions) {
    this.#spec = spec;
    this.#options = options;
  }

  start(): void {
    this.#running = true;
    this.#loop = this.#run();
  }

  wake(): void {
    this.#woken = true;
    this.#wakeUp?.();
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.wake();
    await this.#loop;
  }

  async lag(): Promise<number> {
    const head = await this.#options.log.headSeq();
    const cursor = this.#cursor ?? (await this.#options.state.getCursor(this.#spec.group));
    return Math.max(0, head - cursor);
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (this.#running) {
      try {
        const worked = await this.#step();
        failures = 0;
        if (!worked) await this.#idle();
      } catch (error) {
        // The store did not answer (or the handler gave the batch back): nothing was settled,
        // the same entries come again. Waiting longer each time keeps a long outage from
        // filling the log with one failure a second.
        failures += 1;
        this.#options.onError?.(this.#spec.group, error);
        await this.#pause(Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** (failures - 1)));
      }
    }
  }

  /** Sleeps `ms` whatever is announced meanwhile; only stop() ends it early. */
  async #pause(ms: number): Promise<void> {
    const until = performance.now() + ms;
    while (this.#running && performance.now() < until) await this.#sleep(until - performance.now());
  }

  /** One batch: due redeliveries first, then fresh entries. Returns false when there was nothing. */
  async #step(): Promise<boolean> {
    const admission = await this.#options.gate?.admit(this.#spec.maxBatch);
    let outcome: BatchOutcome = { entries: 0, behindMs: 0 };
    try {
      outcome = await this.#batch(admission?.maxBatch ?? this.#spec.maxBatch);
      return outcome.entries > 0;
    } finally {
      admission?.done(outcome.entries, outcome.behindMs);
    }
  }

  /** How many entries it handled or settled (0: there was nothing), and how far behind it is. */
  async #batch(maxBatch: number): Promise<BatchOutcome> {
    const { log, state, clock } = this.#options;
    const group = this.#spec.group;
    this.#cursor ??= await state.getCursor(group);
    const maxBytes = this.#spec.maxBatchBytes;
    // Redeliveries are read by seq, without a sizing pass: their count keeps them within the
    // byte bound, and the fresh entries get what is left of it.
    const dueLimit =
      maxBytes === undefined
        ? maxBatch
        : Math.min(maxBatch, Math.max(1, Math.floor(maxBytes / MAX_STORED_EVENT_BYTES)));
    const due = await state.dueRedeliveries(group, clock.now(), dueLimit);
    const dueEvents = await log.readBySeqs(due.map((d) => d.seq));
    const bySeq = new Map<number, StoredEvent>(dueEvents.map((e) => [e.seq, e]));
    const deliveries: BusDelivery[] = [];
    const missing: number[] = [];
    for (const d of due) {
      const entry = bySeq.get(d.seq);
      // An entry erased from the log since it was scheduled has nothing left to deliver.
      if (entry) deliveries.push({ entry, attempt: d.attempt + 1 });
      else missing.push(d.seq);
    }
    const redeliveredCount = deliveries.length;
    const requested = Math.max(1, maxBatch - deliveries.length);
    const freshBytes =
      maxBytes === undefined ? undefined : Math.max(0, maxBytes - deliveries.length * MAX_STORED_EVENT_BYTES);
    const fresh =
      freshBytes === 0 && deliveries.length > 0
        ? []
        : await log.readAfter(this.#cursor, requested, freshBytes);
    for (const entry of fresh) deliveries.push({ entry, attempt: 1 });
    if (deliveries.length === 0) {
      if (missing.length > 0) await state.commit(group, { schedule: [], settled: missing }, clock.now());
      return { entries: missing.length, behindMs: 0 };
    }
    const outcomes = await this.#spec.handle(deliveries);
    const schedule: ScheduledRedelivery[] = [];
    const settled = [...missing];
    deliveries.forEach((delivery, index) => {
      const outcome = outcomes[index] ?? { kind: 'retry', delayMs: 1000 };
      if (outcome.kind === 'retry') {
        schedule.push({
          seq: delivery.entry.seq,
          attempt: delivery.attempt,
          dueMs: clock.now() + outcome.delayMs,
        });
      } else if (index < redeliveredCount) {
        settled.push(delivery.entry.seq);
      }
    });
    const last = fresh.at(-1);
    const cursor = last?.seq;
    await state.commit(
      group,
      { cursor, schedule, settled: settled.filter((seq) => !schedule.some((s) => s.seq === seq)) },
      clock.now(),
    );
    if (cursor !== undefined) this.#cursor = cursor;
    // A full batch leaves more behind it: as far behind as its last entry is old. One cut short
    // by its byte bound is full too, which only the log's head can tell.
    const full =
      deliveries.length >= maxBatch ||
      (last !== undefined &&
        fresh.length < requested &&
        maxBytes !== undefined &&
        (await log.headSeq()) > last.seq);
    const behindMs = full && last ? Math.max(0, clock.now() - last.receivedMs) : 0;
    return { entries: deliveries.length, behindMs };
  }

  async #idle(): Promise<void> {
    if (this.#woken) {
      this.#woken = false;
      return;
    }
    const poll = this.#options.pollIntervalMs ?? 1000;
    const nextDue = await this.#options.state.nextDueMs(this.#spec.group);
    const untilDue = nextDue === undefined ? poll : Math.max(0, nextDue - this.#options.clock.now());
    await this.#sleep(Math.min(poll, untilDue));
  }

  #sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#wakeUp = () => {
        this.#wakeUp = undefined;
        done();
      };
    });
  }
}
