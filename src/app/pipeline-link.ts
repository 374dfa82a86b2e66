import type { AcceptedEvent } from '../ingestion/message-types.ts';
import type { AnnouncedEntry } from '../pipeline/bus.port.ts';
import type { PipelineObserver } from '../pipeline/pipeline-runtime.ts';

/**
 * Where the app runs its processing. `whole`: everything in this thread (tests, the CLI, and
 * the server when `CDP_PIPELINE_THREAD=off`). `api`: this thread serves HTTP and acks, and the
 * pipeline (stages, real-time audiences, their scheduler) runs on a thread of its own, reached
 * through `link`. `pipeline`: this is that thread.
 */
export type AppRole =
  | { readonly kind: 'whole' }
  | { readonly kind: 'api'; readonly link: PipelineLink }
  | { readonly kind: 'pipeline'; readonly link: ApiLink };

/** What the API side does for the pipeline's thread (pipeline-thread.ts serves it). */
export interface ApiServingDeps {
  /** Appends audience events the pipeline decided, through this side's group committer. */
  append(events: readonly AcceptedEvent[]): Promise<void>;
  /** The destinations' outbox got new deliveries: the delivery worker runs on this side. */
  deliveriesQueued(): void;
  readonly observer: PipelineObserver;
  routed(queued: number, skipped: Readonly<Record<string, number>>): void;
}

/** The API side's handle on the pipeline's thread. */
export interface PipelineLink {
  /** Called once the app is built: what the thread may ask of this side. */
  serve(deps: ApiServingDeps): void;
  /** Entries appended (and durable): the thread's consumers look at the log now. */
  announce(entries: readonly AnnouncedEntry[]): void;
  /** Failed events were scheduled for redelivery. */
  redeliveriesScheduled(): void;
  /** A profile got a due instant (a time window) before the scheduler's next wake-up. */
  poke(dueMs: number): void;
  /** A destination of the workspace changed: the router reads the destinations again. */
  destinationsChanged(workspaceId: string): void;
  /** The API thread's event-loop utilization last reported to the pipeline's thread. */
  readonly apiLoad: number;
  start(): Promise<void>;
  /** Stops the thread's pipeline (its current batch finishes) and ends the thread. */
  stop(): Promise<void>;
}

/** What the pipeline's thread hears from the API side. */
export interface ApiSignals {
  announced(): void;
  /** The API thread's event-loop utilization over the last fraction of a second (0–1). */
  apiLoad(load: number): void;
  poke(dueMs: number): void;
  destinationsChanged(workspaceId: string): void;
}

/** The pipeline thread's handle on the API side. */
export interface ApiLink {
  listen(signals: ApiSignals): void;
  emit(events: readonly AcceptedEvent[]): Promise<void>;
  deliveriesQueued(): void;
  readonly observer: PipelineObserver;
  routed(queued: number, skipped: Readonly<Record<string, number>>): void;
}
