import type { ErrorCode } from '../errors/error-catalogue.ts';
import { generateMessageId } from '../shared/secrets.ts';
import { isJsonObject, ownField, type JsonObject, type JsonValue } from '../shared/json.ts';
import { INGESTION_LIMITS } from './ingestion-limits.ts';
import { isMessageType, type AcceptedEvent, type MessageType } from './message-types.ts';
import { parseIsoTimestamp, resolveTimestamp } from './timestamps.ts';
import { sealStoredMessage, type PayloadSealing } from './payload-sealing.ts';

/** What the request around a message contributes: who sent it, when, from where. */
export interface MessageEnvelope {
  readonly workspaceId: string;
  readonly sourceId: string;
  readonly receivedMs: number;
  /** `receivedMs` as ISO 8601, formatted once per request. */
  readonly receivedAtIso: string;
  /** The request's IP, or null when the source does not capture IPs. */
  readonly ip: string | null;
  readonly captureIp: boolean;
  /** `context`, `integrations` and `sentAt` given at the top of a `/v1/batch` body. */
  readonly batchContext: JsonObject | undefined;
  readonly batchIntegrations: JsonObject | undefined;
  readonly batchSentAt: JsonValue | undefined;
  /** The request said `Sec-GPC: 1`: an opt-out of sale and sharing (`context.consent.gpc`). */
  readonly gpc?: boolean;
  /** Seal the personal fields before storage (payload-sealing.ts); absent: stored as sent. */
  readonly sealing?: PayloadSealing;
}

export interface MessageProblem {
  readonly code: ErrorCode;
  readonly message: string;
}

/** An event rendered by the general path: its payload is JSON text. */
export type RenderedEvent = AcceptedEvent & { readonly payload: string };

export type NormalizeResult =
  | { readonly ok: true; readonly event: RenderedEvent }
  | { readonly ok: false; readonly problem: MessageProblem };

const fail = (code: ErrorCode, message: string): NormalizeResult => ({
  ok: false,
  problem: { code, message },
});

/** An id may be a string or a finite number (SDKs in typed languages send numbers); '' is absent. */
function readId(raw: JsonObject, field: string): string | null | MessageProblem {
  const value = ownField(raw, field);
  if (value === undefined || value === null || value === '') return null;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value !== 'string')
    return { code: 'ingest.invalid_field', message: `${field} must be a string` };
  if (value.length > INGESTION_LIMITS.maxIdLength) {
    return {
      code: 'ingest.invalid_field',
      message: `${field} is longer than ${INGESTION_LIMITS.maxIdLength} characters`,
    };
  }
  return value;
}

function readObject(raw: JsonObject, field: string): JsonObject | undefined | MessageProblem {
  const value = ownField(raw, field);
  if (value === undefined || value === null) return undefined;
  if (!isJsonObject(value)) return { code: 'ingest.invalid_field', message: `${field} must be an object` };
  return value;
}

function readTime(raw: JsonValue | undefined, field: string): number | undefined | MessageProblem {
  if (raw === undefined || raw === null) return undefined;
  const ms = parseIsoTimestamp(raw);
  if (ms === undefined)
    return { code: 'ingest.invalid_field', message: `${field} must be an ISO 8601 date-time` };
  return ms;
}

export const isProblem = (value: unknown): value is MessageProblem =>
  typeof value === 'object' &&
  value !== null &&
  'code' in value &&
  'message' in value &&
  !Array.isArray(value);

const CANONICAL_ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** The client's string when it already is the canonical form (the usual case), else a new one. */
function canonicalIso(given: JsonValue | undefined, ms: number): string {
  return typeof given === 'string' && CANONICAL_ISO.test(given) ? given : new Date(ms).toISOString();
}

/** JSON text of the message, or undefined when nesting is too deep to serialize (stack overflow). */
function serialize(message: JsonObject): string | undefined {
  try {
    return JSON.stringify(message);
  } catch (error) {
    if (error instanceof RangeError) return undefined;
    throw error;
  }
}

/**
 * The 32 KB limit applies to the event as the client sent it. The stored payload differs only
 * by the few fields added here, so the client's bytes are measured only near the limit.
 */
function exceedsEventLimit(raw: JsonObject, payload: string): boolean {
  const floor = INGESTION_LIMITS.maxEventBytes - INGESTION_LIMITS.enrichmentAllowanceBytes;
  // UTF-8 takes at most 3 bytes per UTF-16 unit: most events are clearly small.
  if (payload.length * 3 <= floor) return false;
  const size = Buffer.byteLength(payload);
  if (size <= floor) return false;
  if (size > INGESTION_LIMITS.maxEventBytes + INGESTION_LIMITS.enrichmentAllowanceBytes) return true;
  return Buffer.byteLength(JSON.stringify(raw)) > INGESTION_LIMITS.maxEventBytes;
}

/** The fields each call type requires beyond an identity, per Segment's spec. */
function checkTypeFields(type: MessageType, raw: JsonObject, ids: Ids): MessageProblem | undefined {
  switch (type) {
    case 'track': {
      const event = ownField(raw, 'event');
      if (typeof event !== 'string' || event.trim() === '') {
        return { code: 'ingest.missing_field', message: 'track requires "event", a non-empty string' };
      }
      return undefined;
    }
    case 'group': {
      const groupId = ownField(raw, 'groupId');
      const ok =
        (typeof groupId === 'string' && groupId !== '') ||
        (typeof groupId === 'number' && Number.isFinite(groupId));
      return ok ? undefined : { code: 'ingest.missing_field', message: 'group requires "groupId"' };
    }
    case 'alias': {
      const previousId = ownField(raw, 'previousId');
      const ok = (typeof previousId === 'string' && previousId !== '') || typeof previousId === 'number';
      if (!ok) return { code: 'ingest.missing_field', message: 'alias requires "previousId"' };
      if (ids.userId === null) return { code: 'ingest.missing_field', message: 'alias requires "userId"' };
      return undefined;
    }
    case 'page':
    case 'screen': {
      for (const field of ['name', 'category']) {
        const value = ownField(raw, field);
        if (value !== undefined && value !== null && typeof value !== 'string') {
          return { code: 'ingest.invalid_field', message: `${type} "${field}" must be a string` };
        }
      }
      return undefined;
    }
    case 'identify':
      return undefined;
  }
}

interface Ids {
  readonly userId: string | null;
  readonly anonymousId: string | null;
}

function readIds(raw: JsonObject, type: MessageType): Ids | MessageProblem {
  const userId = readId(raw, 'userId');
  if (isProblem(userId)) return userId;
  const anonymousId = readId(raw, 'anonymousId');
  if (isProblem(anonymousId)) return anonymousId;
  if (userId === null && anonymousId === null && type !== 'alias') {
    return { code: 'ingest.missing_identity', message: `${type} requires "userId" or "anonymousId"` };
  }
  return { userId, anonymousId };
}

const asObject = (value: JsonValue | undefined): JsonObject => (isJsonObject(value) ? value : {});

/**
 * What validation decided about one message: the client's object and every value that
 * enrichment assigns. Both renderings of the stored message (the object below, and the byte
 * splice of the client's own text in `stored-payload.ts`) are built from it.
 */
export interface ValidatedMessage {
  readonly raw: JsonObject;
  readonly type: MessageType;
  readonly userId: string | null;
  readonly anonymousId: string | null;
  readonly messageId: string;
  /** The client's own `context` object (absent or null: undefined). */
  readonly ownContext: JsonObject | undefined;
  /** The value assigned to `integrations` (the client's merged over the batch's), if any. */
  readonly integrations: JsonValue | undefined;
  readonly originalTimestamp: string | undefined;
  readonly sentAt: string | undefined;
  readonly timestamp: string;
  readonly timestampMs: number;
  /** The track event, or the page/screen name. */
  readonly event: string | null;
}

/**
 * Validates one Segment message: required fields per type, ids as strings, a messageId,
 * clock-skew-corrected timestamp. Nothing is copied: the result says what enrichment assigns.
 */
export function validateMessage(
  raw: unknown,
  routeType: MessageType | undefined,
  env: MessageEnvelope,
): ValidatedMessage | MessageProblem {
  if (!isJsonObject(raw))
    return { code: 'request.invalid_body', message: 'each message must be a JSON object' };
  const declared = ownField(raw, 'type');
  const type = routeType ?? (typeof declared === 'string' ? declared.toLowerCase() : declared);
  if (!isMessageType(type)) {
    return {
      code: 'ingest.unknown_type',
      message: `unknown type ${JSON.stringify(declared ?? null)}; expected one of identify, track, page, screen, group, alias`,
    };
  }
  const ids = readIds(raw, type);
  if (isProblem(ids)) return ids;
  const typeProblem = checkTypeFields(type, raw, ids);
  if (typeProblem) return typeProblem;
  for (const field of ['properties', 'traits', 'integrations']) {
    const value = readObject(raw, field);
    if (isProblem(value)) return value;
  }
  const ownContext = readObject(raw, 'context');
  if (isProblem(ownContext)) return ownContext;
  const messageId = readId(raw, 'messageId');
  if (isProblem(messageId)) return messageId;

  const originalField = ownField(raw, 'originalTimestamp') ?? ownField(raw, 'timestamp');
  const original = readTime(originalField, 'timestamp');
  if (isProblem(original)) return original;
  const sentAtField = ownField(raw, 'sentAt') ?? env.batchSentAt;
  const sentAt = readTime(sentAtField, 'sentAt');
  if (isProblem(sentAt)) return sentAt;
  const times = resolveTimestamp(env.receivedMs, original, sentAt);

  const originalTimestamp =
    times.originalTimestampMs === undefined
      ? undefined
      : canonicalIso(originalField, times.originalTimestampMs);
  const timestamp =
    originalTimestamp !== undefined && times.timestampMs === times.originalTimestampMs
      ? originalTimestamp
      : times.timestampMs === env.receivedMs
        ? env.receivedAtIso
        : new Date(times.timestampMs).toISOString();
  // The log indexes a name per event: the track event, or the page/screen name.
  const name =
    type === 'track'
      ? ownField(raw, 'event')
      : type === 'page' || type === 'screen'
        ? ownField(raw, 'name')
        : null;
  return {
    raw,
    type,
    userId: ids.userId,
    anonymousId: ids.anonymousId,
    messageId: messageId ?? generateMessageId(),
    ownContext,
    integrations: mergedIntegrations(ownField(raw, 'integrations'), env.batchIntegrations),
    originalTimestamp,
    sentAt: sentAt === undefined ? undefined : canonicalIso(sentAtField, sentAt),
    timestamp,
    timestampMs: times.timestampMs,
    event: typeof name === 'string' && name !== '' ? name : null,
  };
}

/**
 * Segment merges a batch's `integrations` into each item's, the item's own keys winning: an
 * item's `{}` (what analytics-node puts on every message) keeps the batch's `"All": false`.
 * The same object is returned when there is nothing to merge, so its text is reused as sent.
 */
function mergedIntegrations(
  own: JsonValue | undefined,
  batch: JsonObject | undefined,
): JsonValue | undefined {
  if (batch === undefined) return own === null ? undefined : own;
  if (own === undefined || own === null) return batch;
  // Spread defines own data properties, so a "__proto__" key stays a plain key.
  return { ...batch, ...(own as JsonObject) };
}

/** The stored context: the batch's, overridden by the message's own, with the request IP rule. */
export function storedContext(own: JsonObject | undefined, env: MessageEnvelope): JsonObject {
  // Spread defines own data properties, so a "__proto__" key stays a plain key.
  const context: JsonObject = { ...env.batchContext, ...own };
  if (!env.captureIp) delete context['ip'];
  else if (typeof ownField(context, 'ip') !== 'string' && env.ip !== null) context['ip'] = env.ip;
  if (env.gpc === true) context['consent'] = { ...asObject(ownField(context, 'consent')), gpc: true };
  return context;
}

/**
 * The stored message as an object: the client's fields as sent (including `integrations` and
 * unknown fields), the write key removed, then the enrichment assigned in this order (a field
 * the client sent keeps its place, a new one goes last).
 */
export function storedMessage(v: ValidatedMessage, env: MessageEnvelope): JsonObject {
  const message: JsonObject = { ...v.raw };
  delete message['writeKey'];
  message['type'] = v.type;
  message['messageId'] = v.messageId;
  if (v.userId !== null) message['userId'] = v.userId;
  if (v.anonymousId !== null) message['anonymousId'] = v.anonymousId;
  message['context'] = storedContext(v.ownContext, env);
  if (v.integrations !== undefined) message['integrations'] = v.integrations;
  if (v.originalTimestamp !== undefined) message['originalTimestamp'] = v.originalTimestamp;
  if (v.sentAt !== undefined) message['sentAt'] = v.sentAt;
  message['timestamp'] = v.timestamp;
  message['receivedAt'] = env.receivedAtIso;
  return message;
}

/** The log entry of a validated message with its payload text. */
export function acceptedEvent(v: ValidatedMessage, env: MessageEnvelope, payload: string): RenderedEvent {
  return {
    workspaceId: env.workspaceId,
    sourceId: env.sourceId,
    messageId: v.messageId,
    type: v.type,
    event: v.event,
    userId: v.userId,
    anonymousId: v.anonymousId,
    timestampMs: v.timestampMs,
    receivedMs: env.receivedMs,
    payload,
  };
}

/**
 * Validates one Segment message and turns it into the stored form: required fields per type,
 * ids as strings, a messageId, clock-skew-corrected timestamp, receivedAt, context.ip.
 * The client's fields are kept as sent (including `integrations` and unknown fields);
 * the write key never reaches storage.
 */
export function normalizeMessage(
  raw: unknown,
  routeType: MessageType | undefined,
  env: MessageEnvelope,
): NormalizeResult {
  const validated = validateMessage(raw, routeType, env);
  if (isProblem(validated)) return { ok: false, problem: validated };
  return renderMessage(validated, env);
}

/** The stored message of a validated one as JSON text, with the 32 KB limit applied. */
export function renderMessage(v: ValidatedMessage, env: MessageEnvelope): NormalizeResult {
  const message = storedMessage(v, env);
  const plain = serialize(message);
  if (plain === undefined) return fail('ingest.invalid_field', 'the event is nested too deeply');
  // The limit applies to what the client sent, not to the longer sealed form.
  if (exceedsEventLimit(v.raw, plain)) {
    return fail(
      'ingest.event_too_large',
      `the event is larger than 32 KB (${INGESTION_LIMITS.maxEventBytes} bytes)`,
    );
  }
  if (env.sealing === undefined) return { ok: true, event: acceptedEvent(v, env, plain) };
  sealStoredMessage(message, env.sealing, env.ip);
  return { ok: true, event: acceptedEvent(v, env, serialize(message) ?? plain) };
}
