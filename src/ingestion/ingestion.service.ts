import { AppError } from '../errors/app-error.ts';
import type { Clock } from '../shared/clock.ts';
import { isJsonObject, ownField, type JsonObject } from '../shared/json.ts';
import type { Source } from '../workspaces/workspace-types.ts';
import type { GroupCommitter } from './group-committer.ts';
import { INGESTION_LIMITS } from './ingestion-limits.ts';
import type { AcceptedEvent, MessageType } from './message-types.ts';
import { normalizeMessage, type MessageEnvelope, type MessageProblem } from './normalize-message.ts';

export type IngestRoute = MessageType | 'batch';

export interface IngestRequest {
  readonly source: Source;
  readonly route: IngestRoute;
  /** The parsed JSON body. */
  readonly body: unknown;
  /** Size of the decompressed body, for Segment's limits. */
  readonly bodyBytes: number;
  readonly ip: string | null;
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

interface RejectedItem extends MessageProblem {
  readonly index: number;
}

/**
 * The ack path: validate and enrich every message, then hand them to the group committer and
 * resolve only once they are durable. A batch with any invalid item is rejected whole, with
 * every rejected item listed, so a client never has to guess what was kept.
 */
export class IngestionService {
  readonly #committer: GroupCommitter;
  readonly #clock: Clock;
  readonly #observer: IngestionObserver | undefined;

  constructor(deps: { committer: GroupCommitter; clock: Clock; observer?: IngestionObserver }) {
    this.#committer = deps.committer;
    this.#clock = deps.clock;
    this.#observer = deps.observer;
  }

  async ingest(request: IngestRequest): Promise<IngestOutcome> {
    try {
      const events = this.#accept(request);
      const committed = await this.#committer.append(events);
      const outcome = { received: events.length, stored: committed.stored, duplicates: committed.duplicates };
      this.#observer?.accepted(outcome, request.route);
      return outcome;
    } catch (error) {
      if (AppError.is(error)) this.#observer?.rejected(error.code);
      throw error;
    }
  }

  #accept(request: IngestRequest): AcceptedEvent[] {
    const { body, route, source } = request;
    if (!isJsonObject(body)) throw new AppError('request.invalid_body', 'the body must be a JSON object');
    const base = {
      workspaceId: source.workspaceId,
      sourceId: source.id,
      receivedMs: this.#clock.now(),
      ip: source.settings.captureIp ? request.ip : null,
      captureIp: source.settings.captureIp,
    };
    if (route !== 'batch') {
      if (request.bodyBytes > INGESTION_LIMITS.maxEventBytes)
        throw new AppError(
          'ingest.event_too_large',
          `the event is ${request.bodyBytes} bytes; the limit is 32 KB (32768 bytes)`,
        );
      const envelope: MessageEnvelope = {
        ...base,
        batchContext: undefined,
        batchIntegrations: undefined,
        batchSentAt: undefined,
      };
      const result = normalizeMessage(body, route, envelope);
      if (!result.ok) throw new AppError(result.problem.code, result.problem.message);
      return [result.event];
    }
    return this.#acceptBatch(body, request.bodyBytes, base);
  }

  #acceptBatch(
    body: JsonObject,
    bodyBytes: number,
    base: Omit<MessageEnvelope, 'batchContext' | 'batchIntegrations' | 'batchSentAt'>,
  ): AcceptedEvent[] {
    if (bodyBytes > INGESTION_LIMITS.maxBatchBytes) {
      throw new AppError(
        'ingest.batch_too_large',
        `the batch is ${bodyBytes} bytes; the limit is 500 KB (512000 bytes)`,
      );
    }
    const items = ownField(body, 'batch');
    if (!Array.isArray(items))
      throw new AppError('request.invalid_body', '"batch" must be an array of messages');
    if (items.length > INGESTION_LIMITS.maxBatchEvents) {
      throw new AppError(
        'ingest.batch_too_many_events',
        `the batch holds ${items.length} events; the limit is 2500`,
      );
    }
    const context = ownField(body, 'context');
    const integrations = ownField(body, 'integrations');
    const envelope: MessageEnvelope = {
      ...base,
      batchContext: isJsonObject(context) ? context : undefined,
      batchIntegrations: isJsonObject(integrations) ? integrations : undefined,
      batchSentAt: ownField(body, 'sentAt'),
    };
    const events: AcceptedEvent[] = [];
    const rejected: RejectedItem[] = [];
    items.forEach((item, index) => {
      const result = normalizeMessage(item, undefined, envelope);
      if (result.ok) events.push(result.event);
      else rejected.push({ index, ...result.problem });
    });
    const first = rejected[0];
    if (first) {
      const more = rejected.length > 1 ? ` (and ${rejected.length - 1} more)` : '';
      throw new AppError(
        first.code,
        `batch item ${first.index}: ${first.message}${more}; nothing was stored`,
        { rejected: rejected.slice(0, 100) },
      );
    }
    return events;
  }
}
