import type { Config } from '../config/config.ts';
import type { AcceptedEvent } from '../ingestion/message-types.ts';
import type { DeliveryOutcome } from '../pipeline/bus.port.ts';

/** What the pipeline's thread starts from (its `workerData`). */
export interface PipelineThreadData {
  readonly config: Config;
  /** The instance encryption key (a Buffer on this side, bytes on the other). */
  readonly encryptionKey: Uint8Array;
}

/** API thread → pipeline thread. */
export type ToPipeline =
  | { readonly t: 'announce' }
  | { readonly t: 'poke'; readonly dueMs: number }
  | { readonly t: 'load'; readonly load: number }
  | { readonly t: 'destinations'; readonly workspaceId: string }
  | {
      readonly t: 'emitted';
      readonly id: number;
      readonly error?: { readonly code: string | undefined; readonly message: string };
    }
  | { readonly t: 'stop' };

/** Pipeline thread → API thread. */
export type FromPipeline =
  | { readonly t: 'ready' }
  | { readonly t: 'emit'; readonly id: number; readonly events: readonly AcceptedEvent[] }
  | { readonly t: 'queued' }
  | {
      readonly t: 'processed';
      readonly stage: string;
      readonly outcome: DeliveryOutcome['kind'];
      readonly seconds: number;
      readonly count: number;
    }
  | { readonly t: 'failed'; readonly stage: string }
  | { readonly t: 'routed'; readonly queued: number; readonly skipped: Readonly<Record<string, number>> }
  | { readonly t: 'stopped' };
