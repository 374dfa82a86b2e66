import {
  acceptPrepared,
  prepareBody,
  writeKeyOfPrepared,
  type BatchOutcome,
  type EnvelopeBase,
  type PreparedBody,
} from './decode-request.ts';
import type { DecodeStep, DecodeTicket, RawIngestRequest, RequestDecoder } from './request-decoder.port.ts';

/** The decoder on the calling thread (CDP_INGEST_WORKERS=0, and inside each decoder worker). */
export class InlineRequestDecoder implements RequestDecoder {
  readonly #held = new Map<number, PreparedBody>();
  readonly #worker: number;
  #next = 1;

  constructor(worker = -1) {
    this.#worker = worker;
  }

  decodeSync(request: RawIngestRequest, envelope: EnvelopeBase | undefined): DecodeStep {
    const prepared = prepareBody(request.raw, request.contentEncoding, request.route);
    if (!prepared.ok) return prepared;
    if (envelope) return acceptPrepared(prepared.prepared, envelope);
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
    return acceptPrepared(held, envelope);
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

  async close(): Promise<void> {
    this.#held.clear();
  }
}
