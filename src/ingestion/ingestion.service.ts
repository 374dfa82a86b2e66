import { AppError } from '../errors/app-error.ts';
import type { Clock } from '../shared/clock.ts';
import type { Source } from '../workspaces/workspace-types.ts';
import { acceptedEvents } from './accepted-batch.ts';
import type { BatchOutcome, EnvelopeBase, IngestRoute } from './decode-request.ts';
import type { PayloadSealing } from './payload-sealing.ts';
import type { GroupCommitter } from './group-committer.ts';
import type { AcceptedEvent } from './message-types.ts';
import type { RequestDecoder } from './request-decoder.port.ts';

export type { IngestRoute };

export interface IngestRequest {
  readonly route: IngestRoute;
  /** The body as received (possibly gzip). */
  readonly raw: Uint8Array;
  readonly contentEncoding: string | undefined;
  /** The write key from Basic auth, when the client sent one. */
  readonly headerWriteKey: string | undefined;
  readonly ip: string | null;
  /** `Sec-GPC: 1`: recorded in each event as `context.consent.gpc: true`. */
  readonly gpc?: boolean;
}

export interface IngestOutcome {
  readonly received: number;
  readonly stored: number;
  readonly duplicates: number;
}

export interface IngestionObserver {
  accepted(outcome: IngestOutcome, route: IngestRoute): void;
  rejected(code: string): void;
}

export interface IngestionDependencies {
  readonly decoder: RequestDecoder;
  readonly committer: GroupCommitter;
  /** Told while a request is on its way to its ack (background work gives way meanwhile). */
  readonly foreground?: { track<T>(work: () => Promise<T>): Promise<T> };
  readonly clock: Clock;
  /** The enabled source a write key belongs to, or undefined. */
  readonly authenticate: (writeKey: string) => Promise<Source | undefined>;
  /** Throws (ingest.rate_limited) when the source sent more than its rate allows. */
  readonly admit?: (source: Source) => void;
  readonly observer?: IngestionObserver;
  /** Drops events that must never be stored (suppressed people); counts them itself. */
  readonly screen?: (events: AcceptedEvent[]) => AcceptedEvent[];
  /** How the workspace's personal fields are sealed before storage (none: stored as sent). */
  readonly sealing?: (workspaceId: string, ip: string | null) => Promise<PayloadSealing | undefined>;
}

const INVALID_KEY =
  'missing, unknown or revoked write key: send it as the Basic auth user name or as "writeKey" in the body';

/**
 * The ack path: authenticate, decode (inflate, parse, validate, enrich — in the decoder), then
 * hand the events to the group committer and resolve only once they are durable.
 */
export class IngestionService {
  readonly #deps: IngestionDependencies;

  constructor(deps: IngestionDependencies) {
    this.#deps = deps;
  }

  ingest(request: IngestRequest): Promise<IngestOutcome> {
    const foreground = this.#deps.foreground;
    return foreground ? foreground.track(() => this.#ingest(request)) : this.#ingest(request);
  }

  async #ingest(request: IngestRequest): Promise<IngestOutcome> {
    try {
      const { events, payloads } = await this.#decode(request);
      const committed = await this.#deps.committer.append(this.#deps.screen?.(events) ?? events);
      // Stored: nothing reads the payloads any more (the pipeline reads the log).
      this.#deps.decoder.recycle(payloads);
      const outcome = { received: events.length, stored: committed.stored, duplicates: committed.duplicates };
      this.#deps.observer?.accepted(outcome, request.route);
      return outcome;
    } catch (error) {
      if (AppError.is(error)) this.#deps.observer?.rejected(error.code);
      throw error;
    }
  }

  async #decode(request: IngestRequest): Promise<DecodedBatch> {
    const receivedMs = this.#deps.clock.now();
    const { decoder } = this.#deps;
    const raw = { raw: request.raw, contentEncoding: request.contentEncoding, route: request.route };
    // A key in the header is checked before the body is even parsed.
    const early =
      request.headerWriteKey === undefined ? undefined : await this.#source(request.headerWriteKey);
    const step = await decoder.decode(raw, early && (await this.#envelope(early, receivedMs, request)));
    if (step.ok !== 'needs_source') return unwrap(step);
    let source: Source;
    try {
      source = await this.#source(step.writeKey);
    } catch (error) {
      decoder.release(step.ticket);
      throw error;
    }
    return unwrap(await decoder.resume(step.ticket, await this.#envelope(source, receivedMs, request)));
  }

  async #source(writeKey: string | undefined): Promise<Source> {
    const source = writeKey === undefined ? undefined : await this.#deps.authenticate(writeKey);
    if (!source) throw new AppError('auth.invalid_write_key', INVALID_KEY);
    this.#deps.admit?.(source);
    return source;
  }

  async #envelope(source: Source, receivedMs: number, { ip, gpc }: IngestRequest): Promise<EnvelopeBase> {
    const captureIp = source.settings.captureIp;
    const requestIp = captureIp ? ip : null;
    const sealing = await this.#deps.sealing?.(source.workspaceId, requestIp);
    return {
      workspaceId: source.workspaceId,
      sourceId: source.id,
      receivedMs,
      ip: requestIp,
      captureIp,
      ...(gpc === true ? { gpc } : {}),
      ...(sealing === undefined ? {} : { sealing }),
    };
  }
}

interface DecodedBatch {
  readonly events: AcceptedEvent[];
  /** The memory the events' payloads are views of. */
  readonly payloads: Uint8Array;
}

function unwrap(outcome: BatchOutcome): DecodedBatch {
  if (outcome.ok) return { events: acceptedEvents(outcome.batch), payloads: outcome.batch.payloads };
  throw new AppError(outcome.code, outcome.message, outcome.details);
}
