import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { Config } from '../config/config.ts';
import type { AcceptedEvent } from '../ingestion/message-types.ts';
import { createLogger } from '../observability/logger.ts';
import type { DeliveryOutcome } from '../pipeline/bus.port.ts';
import type { PipelineObserver } from '../pipeline/pipeline-runtime.ts';
import { systemClock } from '../shared/clock.ts';
import { createStore } from '../storage/create-store.ts';
import { buildCore } from './build-core.ts';
import type { ApiLink, ApiSignals } from './pipeline-link.ts';
import { emitError } from './pipeline-thread.ts';
import type { FromPipeline, PipelineThreadData, ToPipeline } from './pipeline-thread-messages.ts';

/** Observations of the stages are sent to the API thread's metrics at most this often. */
const OBSERVATIONS_EVERY_MS = 250;

/** The pipeline thread's handle on the API thread, over the worker's port. */
class PortApiLink implements ApiLink {
  readonly #port: MessagePort;
  readonly #pending = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  #nextId = 1;
  #signals: ApiSignals | undefined;
  /** Stage observations since the last report: one per stage, outcome and duration. */
  readonly #observed = new Map<
    string,
    { stage: string; outcome: DeliveryOutcome['kind']; seconds: number; count: number }
  >();
  #reportTimer: NodeJS.Timeout | undefined;

  readonly observer: PipelineObserver = {
    processed: (stage, outcome, seconds) => {
      const key = `${stage}\u0000${outcome}\u0000${seconds}`;
      const seen = this.#observed.get(key);
      if (seen) seen.count += 1;
      else this.#observed.set(key, { stage, outcome, seconds, count: 1 });
      this.#reportTimer ??= setTimeout(() => this.flushObservations(), OBSERVATIONS_EVERY_MS);
    },
    failed: (stage) => this.#post({ t: 'failed', stage }),
  };

  constructor(port: MessagePort) {
    this.#port = port;
  }

  listen(signals: ApiSignals): void {
    this.#signals = signals;
  }

  /** Returns true when the message was the API thread's order to stop. */
  receive(message: ToPipeline): boolean {
    switch (message.t) {
      case 'announce':
        this.#signals?.announced();
        return false;
      case 'poke':
        this.#signals?.poke(message.dueMs);
        return false;
      case 'load':
        this.#signals?.apiLoad(message.load);
        return false;
      case 'destinations':
        this.#signals?.destinationsChanged(message.workspaceId);
        return false;
      case 'emitted': {
        const waiting = this.#pending.get(message.id);
        this.#pending.delete(message.id);
        if (message.error === undefined) waiting?.resolve();
        else waiting?.reject(emitError(message.error));
        return false;
      }
      case 'stop':
        return true;
    }
  }

  emit(events: readonly AcceptedEvent[]): Promise<void> {
    const id = this.#nextId++;
    return new Promise<void>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#post({ t: 'emit', id, events });
    });
  }

  deliveriesQueued(): void {
    this.#post({ t: 'queued' });
  }

  routed(queued: number, skipped: Readonly<Record<string, number>>): void {
    this.#post({ t: 'routed', queued, skipped });
  }

  flushObservations(): void {
    clearTimeout(this.#reportTimer);
    this.#reportTimer = undefined;
    for (const observed of this.#observed.values()) this.#post({ t: 'processed', ...observed });
    this.#observed.clear();
  }

  #post(message: FromPipeline): void {
    this.#port.postMessage(message);
  }
}

async function run(port: MessagePort, data: PipelineThreadData): Promise<void> {
  // No decoder workers here: this thread decodes no request.
  const config: Config = Object.freeze({ ...data.config, encryptionKey: undefined, ingestWorkers: 0 });
  const logger = createLogger(config).child({ thread: 'pipeline' });
  // The API thread opened the store, migrated it and checkpoints it.
  const store = createStore(config, { secondary: true });
  const link = new PortApiLink(port);
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await core.close();
    link.flushObservations();
    await store.close();
    port.postMessage({ t: 'stopped' } satisfies FromPipeline);
    port.close();
  };
  const core = await buildCore({
    config,
    store,
    clock: systemClock,
    logger,
    encryptionKey: Buffer.from(data.encryptionKey),
    role: { kind: 'pipeline', link },
  });
  // Messages sent meanwhile wait in the port until a listener is there.
  port.on('message', (message: ToPipeline) => {
    if (link.receive(message))
      stop().catch((error: unknown) => {
        logger.error({ err: error }, 'the pipeline thread could not stop cleanly');
        process.exitCode = 1;
        port.close();
      });
  });
  await core.start();
  port.postMessage({ t: 'ready' } satisfies FromPipeline);
}

if (parentPort !== null) {
  const port = parentPort;
  await run(port, (workerData as { data: PipelineThreadData }).data);
}
