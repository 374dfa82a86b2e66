import type { Worker } from 'node:worker_threads';
import type { Config } from '../config/config.ts';
import { AppError } from '../errors/app-error.ts';
import { ERROR_CATALOGUE, type ErrorCode } from '../errors/error-catalogue.ts';
import type { Logger } from '../observability/logger.ts';
import { startWorker } from '../shared/worker-script.ts';
import type { ApiServingDeps, PipelineLink } from './pipeline-link.ts';
import type { FromPipeline, PipelineThreadData, ToPipeline } from './pipeline-thread-messages.ts';

/** How long a thread that ended unexpectedly waits before it is started again. */
const RESTART_DELAY_MS = 1_000;

/** How often this thread tells the pipeline's how busy it is (pipeline/shared-cores-gate.ts). */
const LOAD_REPORT_MS = 250;

/**
 * The API thread's side of the pipeline's thread (pipeline-thread-worker.ts). The thread opens
 * its own connection to the store and runs the stages, the real-time audiences and their
 * scheduler; both sides meet in the store (log, cursors, state) and exchange only signals
 * here: "look at the log now", "wake the scheduler", "append these audience events". A
 * thread that ends unexpectedly is logged and started again: it resumes from the stored
 * cursors, as after a restart of the process.
 */
export class PipelineThread implements PipelineLink {
  readonly #data: PipelineThreadData;
  readonly #logger: Logger;
  #serving: ApiServingDeps | undefined;
  #worker: Worker | undefined;
  #stopping = false;
  #announcePending = false;
  #restartTimer: NodeJS.Timeout | undefined;
  #loadTimer: NodeJS.Timeout | undefined;
  #apiLoad = 0;

  constructor(options: { config: Config; encryptionKey: Buffer; logger: Logger }) {
    // A worker gets a structured clone: the key crosses as bytes, the rest is plain data.
    this.#data = {
      config: { ...options.config, encryptionKey: undefined },
      encryptionKey: options.encryptionKey,
    };
    this.#logger = options.logger;
  }

  get apiLoad(): number {
    return this.#apiLoad;
  }

  serve(deps: ApiServingDeps): void {
    this.#serving = deps;
  }

  announce(): void {
    // One signal per turn of the event loop is enough: the consumers read the log itself.
    if (this.#announcePending) return;
    this.#announcePending = true;
    queueMicrotask(() => {
      this.#announcePending = false;
      this.#post({ t: 'announce' });
    });
  }

  redeliveriesScheduled(): void {
    this.#post({ t: 'announce' });
  }

  poke(dueMs: number): void {
    this.#post({ t: 'poke', dueMs });
  }

  destinationsChanged(workspaceId: string): void {
    this.#post({ t: 'destinations', workspaceId });
  }

  async start(): Promise<void> {
    this.#stopping = false;
    await this.#spawn();
    let last = performance.eventLoopUtilization();
    this.#loadTimer = setInterval(() => {
      const now = performance.eventLoopUtilization();
      this.#apiLoad = performance.eventLoopUtilization(now, last).utilization;
      this.#post({ t: 'load', load: this.#apiLoad });
      last = now;
    }, LOAD_REPORT_MS);
    this.#loadTimer.unref();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#restartTimer);
    clearInterval(this.#loadTimer);
    const worker = this.#worker;
    if (worker === undefined) return;
    await new Promise<void>((resolve) => {
      worker.once('exit', () => resolve());
      worker.on('message', (message: FromPipeline) => {
        if (message.t === 'stopped') resolve();
      });
      worker.postMessage({ t: 'stop' } satisfies ToPipeline);
    });
    await worker.terminate();
    this.#worker = undefined;
  }

  #spawn(): Promise<void> {
    const worker = startWorker(
      'pipeline-thread-worker',
      new URL('./pipeline-thread-worker.ts', import.meta.url),
      {
        data: this.#data,
      },
    );
    this.#worker = worker;
    return new Promise<void>((resolve, reject) => {
      let ready = false;
      worker.on('message', (message: FromPipeline) => {
        if (message.t === 'ready') {
          ready = true;
          resolve();
        } else this.#receive(worker, message);
      });
      worker.on('error', (error) => {
        if (!ready) reject(error);
        else this.#logger.error({ err: error }, 'the pipeline thread failed');
      });
      worker.on('exit', (code) => {
        if (this.#worker === worker) this.#worker = undefined;
        if (!ready) {
          reject(new Error(`the pipeline thread ended before it was ready (exit code ${code})`));
          return;
        }
        if (this.#stopping) return;
        this.#logger.error({ code }, 'the pipeline thread ended; starting it again');
        this.#restartTimer = setTimeout(() => {
          this.#spawn().catch((error: unknown) => {
            this.#logger.error({ err: error }, 'could not start the pipeline thread again');
          });
        }, RESTART_DELAY_MS);
        this.#restartTimer.unref();
      });
    });
  }

  #receive(worker: Worker, message: FromPipeline): void {
    const serving = this.#serving;
    if (serving === undefined) return;
    switch (message.t) {
      case 'emit':
        serving.append(message.events).then(
          () => worker.postMessage({ t: 'emitted', id: message.id } satisfies ToPipeline),
          (error: unknown) =>
            worker.postMessage({
              t: 'emitted',
              id: message.id,
              error: {
                code: AppError.is(error) ? error.code : undefined,
                message: error instanceof Error ? error.message : String(error),
              },
            } satisfies ToPipeline),
        );
        return;
      case 'queued':
        serving.deliveriesQueued();
        return;
      case 'processed':
        for (let i = 0; i < message.count; i += 1)
          serving.observer.processed(message.stage, message.outcome, message.seconds);
        return;
      case 'failed':
        serving.observer.failed(message.stage);
        return;
      case 'routed':
        serving.routed(message.queued, message.skipped);
        return;
      case 'ready':
      case 'stopped':
        return;
    }
  }

  #post(message: ToPipeline): void {
    this.#worker?.postMessage(message);
  }
}

/** An error the API side reported for an append, as the pipeline's runtime reads errors. */
export function emitError(reported: { code?: string | undefined; message: string }): Error {
  if (reported.code !== undefined && reported.code in ERROR_CATALOGUE)
    return new AppError(reported.code as ErrorCode, reported.message);
  return new Error(reported.message);
}
