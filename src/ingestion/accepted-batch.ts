import type { AcceptedEvent, MessageType } from './message-types.ts';
import type { MessageEnvelope, ValidatedMessage } from './normalize-message.ts';
import type { PayloadBufferPool } from './payload-buffer-pool.ts';
import { PayloadWriter } from './stored-payload.ts';

/**
 * The accepted events of one request in columns, their stored messages as UTF-8 JSON back to
 * back in one buffer. A decoder worker hands this to the main thread with the buffer
 * transferred, not copied, and no object per event to clone; the main thread binds each
 * payload's bytes to SQLite as they are.
 */
export interface AcceptedBatch {
  readonly workspaceId: string;
  readonly sourceId: string;
  readonly receivedMs: number;
  readonly messageIds: readonly string[];
  readonly types: readonly MessageType[];
  readonly events: readonly (string | null)[];
  readonly userIds: readonly (string | null)[];
  readonly anonymousIds: readonly (string | null)[];
  readonly timestampMs: readonly number[];
  /** Every stored message as UTF-8 JSON text; message i spans [payloadEnds[i - 1] ?? 0, payloadEnds[i]). */
  readonly payloads: Uint8Array;
  readonly payloadEnds: readonly number[];
}

export class AcceptedBatchBuilder {
  readonly writer: PayloadWriter;
  readonly #env: Pick<MessageEnvelope, 'workspaceId' | 'sourceId' | 'receivedMs'>;
  readonly #messageIds: string[] = [];
  readonly #types: MessageType[] = [];
  readonly #events: (string | null)[] = [];
  readonly #userIds: (string | null)[] = [];
  readonly #anonymousIds: (string | null)[] = [];
  readonly #timestampMs: number[] = [];
  readonly #payloadEnds: number[] = [];

  constructor(
    env: Pick<MessageEnvelope, 'workspaceId' | 'sourceId' | 'receivedMs'>,
    capacityBytes: number,
    pool?: PayloadBufferPool,
  ) {
    this.#env = env;
    this.writer = new PayloadWriter(capacityBytes, pool);
  }

  /** Records a message whose payload was just written to `writer`. */
  add(
    v: Pick<ValidatedMessage, 'messageId' | 'type' | 'event' | 'userId' | 'anonymousId' | 'timestampMs'>,
  ): void {
    this.#messageIds.push(v.messageId);
    this.#types.push(v.type);
    this.#events.push(v.event);
    this.#userIds.push(v.userId);
    this.#anonymousIds.push(v.anonymousId);
    this.#timestampMs.push(v.timestampMs);
    this.#payloadEnds.push(this.writer.position);
  }

  /** Records an event rendered as text. */
  addEvent(event: AcceptedEvent): void {
    this.writer.text(typeof event.payload === 'string' ? event.payload : payloadText(event.payload));
    this.add(event);
  }

  build(): AcceptedBatch {
    return {
      workspaceId: this.#env.workspaceId,
      sourceId: this.#env.sourceId,
      receivedMs: this.#env.receivedMs,
      messageIds: this.#messageIds,
      types: this.#types,
      events: this.#events,
      userIds: this.#userIds,
      anonymousIds: this.#anonymousIds,
      timestampMs: this.#timestampMs,
      payloads: this.writer.bytes(),
      payloadEnds: this.#payloadEnds,
    };
  }
}

/** The events of a batch, each payload a view of the batch's buffer. */
export function acceptedEvents(batch: AcceptedBatch): AcceptedEvent[] {
  const events: AcceptedEvent[] = [];
  const { payloads } = batch;
  let start = 0;
  for (let i = 0; i < batch.messageIds.length; i++) {
    const end = batch.payloadEnds[i] as number;
    events.push({
      workspaceId: batch.workspaceId,
      sourceId: batch.sourceId,
      messageId: batch.messageIds[i] as string,
      type: batch.types[i] as MessageType,
      event: batch.events[i] as string | null,
      userId: batch.userIds[i] as string | null,
      anonymousId: batch.anonymousIds[i] as string | null,
      timestampMs: batch.timestampMs[i] as number,
      receivedMs: batch.receivedMs,
      payload: payloads.subarray(start, end),
    });
    start = end;
  }
  return events;
}

/** A payload as text, whichever form it has. */
export function payloadText(payload: string | Uint8Array): string {
  return typeof payload === 'string'
    ? payload
    : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8');
}
