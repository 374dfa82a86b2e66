import { AppError } from '../errors/app-error.ts';
import type { Clock } from '../shared/clock.ts';
import { generateId } from '../shared/secrets.ts';
import type { BusDelivery, ConsumerHandle, DeliveryOutcome, EventBus } from './bus.port.ts';
import type { FailedEventRepository } from './failed-events.port.ts';
import {
  DEFAULT_MAX_BATCH_BYTES,
  DEFAULT_RETRY_POLICY,
  retryDelay,
  type RetryPolicy,
  type Stage,
} from './stage.ts';

export interface PipelineObserver {
  processed(stage: string, outcome: DeliveryOutcome['kind'], seconds: number): void;
  failed(stage: string): void;
}

export interface PipelineLogger {
  warn(object: object, message: string): void;
  error(object: object, message: string): void;
}

export interface PipelineRuntimeOptions {
  readonly bus: EventBus;
  readonly failedEvents: FailedEventRepository;
  readonly clock: Clock;
  readonly logger: PipelineLogger;
  readonly retryPolicy?: RetryPolicy;
  readonly observer?: PipelineObserver;
  /**
   * The store cannot be reached or cannot write (Store.isUnavailable). Such a failure is not
   * the events' fault: the batch is handed back to the bus whole, to be delivered again once
   * the store answers, instead of being split, retried against the policy and moved to the
   * failed events. `storage.unavailable` app errors are always read this way.
   */
  readonly isStoreUnavailable?: (error: unknown) => boolean;
}

/** Thrown to the bus: the batch is delivered again later, whole, no attempt counted. */
export class StoreUnavailableError extends Error {
  constructor(cause: unknown) {
    // The driver's error is the cause: loggers print it after this line.
    super('the store is unavailable', { cause });
    this.name = 'StoreUnavailableError';
  }
}

function describe(error: unknown): { code: string; reason: string; retryable: boolean } {
  if (AppError.is(error)) return { code: error.code, reason: error.message, retryable: error.retryable };
  const reason = error instanceof Error ? error.message : String(error);
  // Unknown errors may be transient (a dropped connection): retry them, within the policy.
  return { code: 'pipeline.handler_failed', reason, retryable: true };
}

/**
 * Runs stages over the bus. A failing entry is retried with backoff; an entry that still fails,
 * or fails with a non-retryable error, is recorded as a failed event and skipped, so a poison
 * event never blocks the ones behind it. A store that cannot be reached blocks everything
 * instead, until it answers again: no event is to blame for that.
 */
export class PipelineRuntime {
  readonly #options: PipelineRuntimeOptions;
  readonly #stages = new Map<string, Stage>();
  readonly #consumers = new Map<string, ConsumerHandle>();

  constructor(options: PipelineRuntimeOptions) {
    this.#options = options;
  }

  register(stage: Stage): void {
    if (this.#stages.has(stage.name)) throw new Error(`stage "${stage.name}" is registered twice`);
    this.#stages.set(stage.name, stage);
  }

  get stageNames(): string[] {
    return [...this.#stages.keys()];
  }

  start(): void {
    for (const stage of this.#stages.values()) {
      if (this.#consumers.has(stage.name)) continue;
      const handle = this.#options.bus.consume({
        group: stage.name,
        maxBatch: stage.maxBatch ?? 200,
        maxBatchBytes: stage.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES,
        handle: (deliveries) => this.#handleBatch(stage, deliveries),
      });
      this.#consumers.set(stage.name, handle);
    }
  }

  async stop(): Promise<void> {
    await Promise.all([...this.#consumers.values()].map((consumer) => consumer.stop()));
    this.#consumers.clear();
  }

  async lag(): Promise<{ stage: string; lag: number }[]> {
    return Promise.all(
      [...this.#consumers].map(async ([stage, handle]) => ({ stage, lag: await handle.lag() })),
    );
  }

  async #handleBatch(stage: Stage, deliveries: readonly BusDelivery[]): Promise<DeliveryOutcome[]> {
    if (stage.handleBatch !== undefined && deliveries.length > 1) {
      const { clock, observer, logger } = this.#options;
      const started = performance.now();
      try {
        const attempt = Math.max(...deliveries.map((d) => d.attempt));
        await stage.handleBatch(
          deliveries.map((d) => d.entry),
          { clock, attempt },
        );
        const seconds = (performance.now() - started) / 1000 / deliveries.length;
        for (let i = 0; i < deliveries.length; i += 1) observer?.processed(stage.name, 'ack', seconds);
        return deliveries.map(() => ({ kind: 'ack' }));
      } catch (error) {
        this.#throwIfStoreUnavailable(error);
        // Halves from here, down to single entries: the poison one fails alone, the others go
        // through, and a batch of thousands with one bad entry costs ~2·log2(n) batches rather
        // than n single-entry transactions. Stages are idempotent, so entries a failed batch
        // did get through are not processed twice.
        logger.warn(
          { stage: stage.name, entries: deliveries.length, err: describe(error).reason },
          'batch failed; processing it in halves',
        );
        const middle = Math.ceil(deliveries.length / 2);
        return [
          ...(await this.#handleBatch(stage, deliveries.slice(0, middle))),
          ...(await this.#handleBatch(stage, deliveries.slice(middle))),
        ];
      }
    }
    const outcomes: DeliveryOutcome[] = [];
    for (const delivery of deliveries) outcomes.push(await this.#handleOne(stage, delivery));
    return outcomes;
  }

  #throwIfStoreUnavailable(error: unknown): void {
    if (error instanceof StoreUnavailableError) throw error;
    const unavailable =
      (AppError.is(error) && error.code === 'storage.unavailable') ||
      this.#options.isStoreUnavailable?.(error) === true;
    if (unavailable) throw new StoreUnavailableError(error);
  }

  async #handleOne(stage: Stage, delivery: BusDelivery): Promise<DeliveryOutcome> {
    const { clock, observer, logger } = this.#options;
    const policy = this.#options.retryPolicy ?? DEFAULT_RETRY_POLICY;
    const started = performance.now();
    try {
      await stage.handle(delivery.entry, { clock, attempt: delivery.attempt });
      observer?.processed(stage.name, 'ack', (performance.now() - started) / 1000);
      return { kind: 'ack' };
    } catch (error) {
      this.#throwIfStoreUnavailable(error);
      const failure = describe(error);
      const seconds = (performance.now() - started) / 1000;
      if (failure.retryable && delivery.attempt < policy.maxAttempts) {
        const delayMs = retryDelay(policy, delivery.attempt);
        logger.warn(
          {
            stage: stage.name,
            seq: delivery.entry.seq,
            attempt: delivery.attempt,
            delayMs,
            err: failure.reason,
          },
          'stage failed; will retry',
        );
        observer?.processed(stage.name, 'retry', seconds);
        return { kind: 'retry', delayMs };
      }
      await this.#options.failedEvents.record({
        id: generateId('fev'),
        stage: stage.name,
        seq: delivery.entry.seq,
        workspaceId: delivery.entry.workspaceId,
        errorCode: failure.code,
        reason: failure.reason.slice(0, 2000),
        attempts: delivery.attempt,
        failedMs: clock.now(),
      });
      logger.error(
        { stage: stage.name, seq: delivery.entry.seq, attempts: delivery.attempt, err: failure.reason },
        'event failed; moved to failed events',
      );
      observer?.processed(stage.name, 'drop', seconds);
      observer?.failed(stage.name);
      return { kind: 'drop' };
    }
  }
}
