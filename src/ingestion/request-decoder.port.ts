import type { BatchOutcome, DecodeFailure, EnvelopeBase, IngestRoute } from './decode-request.ts';

export interface RawIngestRequest {
  /** The body as received; the decoder takes it over (its memory may move to a worker thread). */
  readonly raw: Uint8Array;
  readonly contentEncoding: string | undefined;
  readonly route: IngestRoute;
}

/** A parsed body held by the decoder while the caller authenticates the key found in it. */
export interface DecodeTicket {
  readonly id: number;
  readonly worker: number;
}

export type DecodeStep =
  | BatchOutcome
  | { readonly ok: 'needs_source'; readonly writeKey: string | undefined; readonly ticket: DecodeTicket };

/**
 * Turns raw Tracking API bodies into accepted events (in columns, payloads as UTF-8 JSON in one
 * buffer: see `accepted-batch.ts`): inflate, parse, validate, enrich. It is
 * CPU work on the ack path, so the default adapter runs it in worker threads while the main
 * thread serves HTTP and commits; the inline adapter runs the same pure functions in-process.
 */
export interface RequestDecoder {
  /** With an envelope (source known from the header) the answer is final; without, the body's key is returned with a ticket. */
  decode(request: RawIngestRequest, envelope: EnvelopeBase | undefined): Promise<DecodeStep>;
  /** Finishes a decode that waited for its source. */
  resume(ticket: DecodeTicket, envelope: EnvelopeBase): Promise<BatchOutcome>;
  /** Forgets a held body (its key was refused). */
  release(ticket: DecodeTicket): void;
  /**
   * Takes back the payload memory of a decoded batch whose events are stored, for a later
   * request to reuse. The batch's payload views are unusable afterwards (their memory may have
   * moved to another thread), so only the ack path, once nothing reads them any more, calls it.
   */
  recycle(payloads: Uint8Array): void;
  close(): Promise<void>;
}

export type { DecodeFailure };
