import {
  acceptMessages,
  parseRawBody,
  writeKeyOfBody,
  type AcceptOutcome,
  type EnvelopeBase,
} from './decode-request.ts';
import type { JsonObject } from '../shared/json.ts';
import type { DecodeStep, DecodeTicket, RawIngestRequest, RequestDecoder } from './request-decoder.port.ts';

interface Held {
  readonly body: JsonObject;
  readonly bytes: number;
  readonly route: RawIngestRequest['route'];
}

/** The decoder on the calling thread (CDP_INGEST_WORKERS=0, and inside each decoder worker). */
export class InlineRequestDecoder implements RequestDecoder {
  readonly #held = new Map<number, Held>();
  readonly #worker: number;
  #next = 1;

  constructor(worker = -1) {
    this.#worker = worker;
  }

  decodeSync(request: RawIngestRequest, envelope: EnvelopeBase | undefined): DecodeStep {
    const parsed = parseRawBody(request.raw, request.contentEncoding);
    if (!parsed.ok) return parsed;
    if (envelope) return acceptMessages(parsed.body, parsed.bytes, request.route, envelope);
    const id = this.#next++;
    this.#held.set(id, { body: parsed.body, bytes: parsed.bytes, route: request.route });
    return {
      ok: 'needs_source',
      writeKey: writeKeyOfBody(parsed.body),
      ticket: { id, worker: this.#worker },
    };
  }

  resumeSync(ticket: DecodeTicket, envelope: EnvelopeBase): AcceptOutcome {
    const held = this.#held.get(ticket.id);
    this.#held.delete(ticket.id);
    if (!held)
      return { ok: false, code: 'internal.error', message: 'the request body is no longer available; retry' };
    return acceptMessages(held.body, held.bytes, held.route, envelope);
  }

  async decode(request: RawIngestRequest, envelope: EnvelopeBase | undefined): Promise<DecodeStep> {
    return this.decodeSync(request, envelope);
  }

  async resume(ticket: DecodeTicket, envelope: EnvelopeBase): Promise<AcceptOutcome> {
    return this.resumeSync(ticket, envelope);
  }

  release(ticket: DecodeTicket): void {
    this.#held.delete(ticket.id);
  }

  async close(): Promise<void> {
    this.#held.clear();
  }
}
