import {
  acceptPrepared,
  prepareBody,
  writeKeyOfPrepared,
  type BatchOutcome,
  type EnvelopeBase,
  type PreparedBody,
} from './decode-request.ts';
import { PayloadBufferPool } from './payload-buffer-pool.ts';
import type { DecodeStep, DecodeTicket, RawIngestRequest, RequestDecoder } from './request-decoder.port.ts';

/** The decoder on the calling thread (CDP_INGEST_WORKERS=0, and inside each decoder worker). */
export class InlineRequestDecoder implements RequestDecoder {
  /** Payload memory given back (see RequestDecoder.recycle), reused by the next batches. */
  readonly buffers = new PayloadBufferPool();
  /** Payload memory this decoder handed out and has not had back: only that is taken back. */
  readonly #lent = new WeakSet<ArrayBuffer>();
  readonly #held = new Map<number, PreparedBody>();
  readonly #worker: number;
  #next = 1;

  constructor(worker = -1) {
    this.#worker = worker;
  }

  decodeSync(request: RawIngestRequest, envelope: EnvelopeBase | undefined): DecodeStep {
    const prepared = prepareBody(request.raw, request.contentEncoding, request.route);
    if (!prepared.ok) return prepared;
    if (envelope) return this.#lend(acceptPrepared(prepared.prepared, envelope, this.buffers));
    const id = this.#next++;
    this.#held.set(id, prepared.prepared);
    return {
      ok: 'needs_source',
      writeKey: writeKeyOfPrepared(prepared.prepared),
      ticket: { id, worker: this.#worker },
    };
  }

  resumeSync(ticket: DecodeTicket, envelope: EnvelopeBase): BatchOutcome {
    const held = this.#held.get(ticket.id);
    this.#held.delete(ticket.id);
    if (!held)
      return { ok: false, code: 'internal.error', message: 'the request body is no longer available; retry' };
    return this.#lend(acceptPrepared(held, envelope, this.buffers));
  }

  async decode(request: RawIngestRequest, envelope: EnvelopeBase | undefined): Promise<DecodeStep> {
    return this.decodeSync(request, envelope);
  }

  async resume(ticket: DecodeTicket, envelope: EnvelopeBase): Promise<BatchOutcome> {
    return this.resumeSync(ticket, envelope);
  }

  release(ticket: DecodeTicket): void {
    this.#held.delete(ticket.id);
  }

  recycle(payloads: Uint8Array): void {
    const buffer = payloads.buffer as ArrayBuffer;
    if (!this.#lent.delete(buffer)) return;
    this.buffers.give(buffer);
  }

  /**
   * Only on the calling thread: a worker's batches move to the main thread and their memory
   * comes back as new objects, which `decoder-worker.ts` gives straight to `buffers`.
   */
  #lend<T extends BatchOutcome>(outcome: T): T {
    if (outcome.ok) this.#lent.add(outcome.batch.payloads.buffer as ArrayBuffer);
    return outcome;
  }

  async close(): Promise<void> {
    this.#held.clear();
  }
}
