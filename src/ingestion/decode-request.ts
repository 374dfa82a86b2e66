import { gunzipSync } from 'node:zlib';
import type { ErrorCode } from '../errors/error-catalogue.ts';
import { isJsonObject, ownField, type JsonObject, type JsonValue } from '../shared/json.ts';
import { AcceptedBatchBuilder, type AcceptedBatch } from './accepted-batch.ts';
import { INGESTION_LIMITS } from './ingestion-limits.ts';
import { MESSAGE_INTS, scanBody, type BodyStructure } from './json-structure.ts';
import type { PayloadBufferPool } from './payload-buffer-pool.ts';
import type { AcceptedEvent, MessageType } from './message-types.ts';
import {
  isProblem,
  normalizeMessage,
  renderMessage,
  validateMessage,
  type MessageEnvelope,
  type ValidatedMessage,
} from './normalize-message.ts';
import { spliceStoredMessage } from './stored-payload.ts';

export type IngestRoute = MessageType | 'batch';

/** What the request contributes to every message once its source is known. */
export type EnvelopeBase = Omit<
  MessageEnvelope,
  'batchContext' | 'batchIntegrations' | 'batchSentAt' | 'receivedAtIso'
>;

export interface DecodeFailure {
  readonly ok: false;
  readonly code: ErrorCode;
  readonly message: string;
  readonly details?: Record<string, unknown>;
}

export type ParseOutcome =
  { readonly ok: true; readonly body: JsonObject; readonly bytes: number } | DecodeFailure;
export type AcceptOutcome = { readonly ok: true; readonly events: AcceptedEvent[] } | DecodeFailure;
export type BatchOutcome = { readonly ok: true; readonly batch: AcceptedBatch } | DecodeFailure;

const failure = (code: ErrorCode, message: string, details?: Record<string, unknown>): DecodeFailure =>
  details ? { ok: false, code, message, details } : { ok: false, code, message };

/**
 * Inflates (gzip, capped so a bomb cannot allocate more than the largest legal batch) and
 * parses a Tracking API body. Pure and synchronous: it runs in a decoder worker or inline.
 * JSON.parse keeps "__proto__" as an own data key, so client data never reaches a prototype.
 */
export function parseRawBody(raw: Uint8Array, contentEncoding: string | undefined): ParseOutcome {
  const inflated = inflate(raw, contentEncoding);
  return inflated.ok ? parseBytes(inflated.bytes) : inflated;
}

/** The body's bytes, gzip inflated with the cap. */
function inflate(
  raw: Uint8Array,
  contentEncoding: string | undefined,
): { readonly ok: true; readonly bytes: Buffer } | DecodeFailure {
  const encoding = (contentEncoding ?? 'identity').trim().toLowerCase();
  let bytes: Uint8Array = raw;
  if (encoding === 'gzip' || encoding === 'x-gzip') {
    try {
      bytes = gunzipSync(raw, { maxOutputLength: INGESTION_LIMITS.maxDecompressedBytes + 1 });
    } catch (error) {
      if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || error instanceof RangeError) {
        return failure(
          'request.too_large',
          `the decompressed body exceeds ${INGESTION_LIMITS.maxDecompressedBytes} bytes`,
        );
      }
      return failure('request.invalid_gzip', 'the body is not valid gzip data');
    }
  } else if (encoding !== 'identity' && encoding !== '') {
    return failure(
      'request.unsupported_encoding',
      `Content-Encoding "${encoding}" is not supported; use gzip or none`,
    );
  }
  return { ok: true, bytes: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
}

/** The general path: the whole body as one string, depth-checked, then parsed. */
function parseBytes(bytes: Buffer): ParseOutcome {
  const text = bytes.toString('utf8');
  if (text.trim() === '') return failure('request.invalid_json', 'the body is empty; expected a JSON object');
  if (exceedsNesting(text, INGESTION_LIMITS.maxJsonDepth)) {
    return failure(
      'ingest.invalid_field',
      `the body nests objects or arrays deeper than ${INGESTION_LIMITS.maxJsonDepth} levels`,
    );
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    return failure('request.invalid_json', `the body is not valid JSON: ${(error as Error).message}`);
  }
  if (!isJsonObject(body)) return failure('request.invalid_body', 'the body must be a JSON object');
  return { ok: true, body, bytes: bytes.byteLength };
}

/**
 * Whether JSON text nests deeper than `limit` (brackets inside strings do not count). Checked
 * before parsing so no later step (serializing, evaluating, rendering) can run out of stack.
 */
export function exceedsNesting(text: string, limit: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      // Most bytes are inside strings: jump to the closing quote instead of walking them.
      let end = text.indexOf('"', i + 1);
      while (end !== -1 && isEscaped(text, end)) end = text.indexOf('"', end + 1);
      if (end === -1) return false; // unterminated: JSON.parse rejects it
      i = end;
    } else if (c === 123 || c === 91) {
      if (++depth > limit) return true;
    } else if (c === 125 || c === 93) depth--;
  }
  return false;
}

/** A quote is escaped when an odd number of backslashes precedes it. */
function isEscaped(text: string, quote: number): boolean {
  let backslashes = 0;
  for (let i = quote - 1; i >= 0 && text.charCodeAt(i) === 92; i--) backslashes++;
  return backslashes % 2 === 1;
}

/** The write key a body carries: at the top, or in the first batch item (analytics.js). */
export function writeKeyOfBody(body: JsonObject): string | undefined {
  const direct = ownField(body, 'writeKey');
  if (typeof direct === 'string') return direct;
  const batch = ownField(body, 'batch');
  const first = Array.isArray(batch) ? batch[0] : undefined;
  const nested = isJsonObject(first) ? ownField(first, 'writeKey') : undefined;
  return typeof nested === 'string' ? nested : undefined;
}

/**
 * Validates and enriches every message of a parsed body (Segment's limits first). A batch with
 * any invalid item is rejected whole, listing every rejected item, so a client never has to
 * guess what was kept.
 */
export function acceptMessages(
  body: JsonObject,
  bytes: number,
  route: IngestRoute,
  base: EnvelopeBase,
): AcceptOutcome {
  if (route !== 'batch') {
    if (bytes > INGESTION_LIMITS.maxEventBytes) {
      return failure(
        'ingest.event_too_large',
        `the event is ${bytes} bytes; the limit is 32 KB (32768 bytes)`,
      );
    }
    const result = normalizeMessage(body, route, {
      ...base,
      receivedAtIso: new Date(base.receivedMs).toISOString(),
      batchContext: undefined,
      batchIntegrations: undefined,
      batchSentAt: undefined,
    });
    return result.ok
      ? { ok: true, events: [result.event] }
      : failure(result.problem.code, result.problem.message);
  }
  if (bytes > INGESTION_LIMITS.maxBatchBytes) {
    return failure(
      'ingest.batch_too_large',
      `the batch is ${bytes} bytes; the limit is 500 KB (512000 bytes)`,
    );
  }
  const items = ownField(body, 'batch');
  if (!Array.isArray(items)) return failure('request.invalid_body', '"batch" must be an array of messages');
  if (items.length > INGESTION_LIMITS.maxBatchEvents) {
    return failure(
      'ingest.batch_too_many_events',
      `the batch holds ${items.length} events; the limit is 2500`,
    );
  }
  const context = ownField(body, 'context');
  const integrations = ownField(body, 'integrations');
  for (const [field, value] of [
    ['context', context],
    ['integrations', integrations],
  ] as const) {
    // A batch-level value applies to every item: one of the wrong shape is refused, not dropped.
    if (value !== undefined && value !== null && !isJsonObject(value))
      return failure('ingest.invalid_field', `the batch's "${field}" must be an object; nothing was stored`);
  }
  const envelope: MessageEnvelope = {
    ...base,
    receivedAtIso: new Date(base.receivedMs).toISOString(),
    batchContext: isJsonObject(context) ? context : undefined,
    batchIntegrations: isJsonObject(integrations) ? integrations : undefined,
    batchSentAt: ownField(body, 'sentAt'),
  };
  const events: AcceptedEvent[] = [];
  const rejected: { index: number; code: ErrorCode; message: string }[] = [];
  items.forEach((item, index) => {
    const result = normalizeMessage(item, undefined, envelope);
    if (result.ok) events.push(result.event);
    else rejected.push({ index, ...result.problem });
  });
  const first = rejected[0];
  if (!first) return { ok: true, events };
  const more = rejected.length > 1 ? ` (and ${rejected.length - 1} more)` : '';
  return failure(first.code, `batch item ${first.index}: ${first.message}${more}; nothing was stored`, {
    rejected: rejected.slice(0, 100),
  });
}

/**
 * A body parsed and held until its source is known: either scanned (the fast path: its
 * messages parsed one by one, positions known for the splice) or parsed whole (the general
 * path, which also gives the exact answer to every bad input).
 */
export type PreparedBody =
  | {
      readonly kind: 'scanned';
      readonly route: IngestRoute;
      readonly bytes: Buffer;
      readonly structure: BodyStructure;
      readonly messages: readonly unknown[];
      readonly top: ReadonlyMap<string, JsonValue>;
    }
  | {
      readonly kind: 'parsed';
      readonly route: IngestRoute;
      readonly body: JsonObject;
      readonly bytes: number;
    };

export type PrepareOutcome = { readonly ok: true; readonly prepared: PreparedBody } | DecodeFailure;

/** Inflates and parses a body: scanned when it can be, else parsed whole. */
export function prepareBody(
  raw: Uint8Array,
  contentEncoding: string | undefined,
  route: IngestRoute,
): PrepareOutcome {
  const inflated = inflate(raw, contentEncoding);
  if (!inflated.ok) return inflated;
  const scanned = scanPrepared(inflated.bytes, route);
  if (scanned) return { ok: true, prepared: scanned };
  const parsed = parseBytes(inflated.bytes);
  return parsed.ok
    ? { ok: true, prepared: { kind: 'parsed', route, body: parsed.body, bytes: parsed.bytes } }
    : parsed;
}

function scanPrepared(bytes: Buffer, route: IngestRoute): PreparedBody | undefined {
  const structure = scanBody(bytes, route === 'batch', INGESTION_LIMITS.maxJsonDepth);
  if (!structure) return undefined;
  const messages: unknown[] = [];
  const top = new Map<string, JsonValue>();
  try {
    for (let i = 0; i < structure.messageCount; i++) {
      const at = i * MESSAGE_INTS;
      messages.push(JSON.parse(bytes.toString('utf8', structure.messages[at], structure.messages[at + 1])));
    }
    for (const [key, [start, end]] of structure.top) {
      top.set(key, JSON.parse(bytes.toString('utf8', start, end)) as JsonValue);
    }
  } catch {
    return undefined;
  }
  return { kind: 'scanned', route, bytes, structure, messages, top };
}

/** The write key a prepared body carries (see `writeKeyOfBody`). */
export function writeKeyOfPrepared(prepared: PreparedBody): string | undefined {
  if (prepared.kind === 'parsed') return writeKeyOfBody(prepared.body);
  const [first] = prepared.messages;
  if (prepared.route !== 'batch') return isJsonObject(first) ? writeKeyOfBody(first) : undefined;
  const direct = prepared.top.get('writeKey');
  if (typeof direct === 'string') return direct;
  const nested = isJsonObject(first) ? ownField(first, 'writeKey') : undefined;
  return typeof nested === 'string' ? nested : undefined;
}

/**
 * Validates and enriches the messages of a prepared body (see `acceptMessages`), their stored
 * form written as UTF-8 JSON into one buffer. The scanned path splices each stored message
 * from the client's bytes; whatever it does not handle (any rejected message, a message near
 * the size limit) goes through the general path, so answers are the same either way.
 */
export function acceptPrepared(
  prepared: PreparedBody,
  base: EnvelopeBase,
  pool?: PayloadBufferPool,
): BatchOutcome {
  if (prepared.kind === 'scanned') {
    const accepted = acceptScanned(prepared, base, pool);
    if (accepted) return { ok: true, batch: accepted };
  }
  let body: JsonObject;
  let size: number;
  if (prepared.kind === 'parsed') ({ body, bytes: size } = prepared);
  else {
    const parsed = parseBytes(prepared.bytes);
    if (!parsed.ok) return parsed; // not expected: the scan accepted it
    ({ body, bytes: size } = parsed);
  }
  const outcome = acceptMessages(body, size, prepared.route, base);
  if (!outcome.ok) return outcome;
  const builder = new AcceptedBatchBuilder(base, outcome.events.length * 1024, pool);
  for (const event of outcome.events) builder.addEvent(event);
  return { ok: true, batch: builder.build() };
}

const objectOrAbsent = (value: JsonValue | undefined): boolean =>
  value === undefined || value === null || isJsonObject(value);

/** The scanned path, or undefined when the general path must answer. */
function acceptScanned(
  prepared: Extract<PreparedBody, { kind: 'scanned' }>,
  base: EnvelopeBase,
  pool: PayloadBufferPool | undefined,
): AcceptedBatch | undefined {
  const { bytes, messages, structure, top, route } = prepared;
  const receivedAtIso = new Date(base.receivedMs).toISOString();
  let env: MessageEnvelope;
  if (route === 'batch') {
    if (bytes.length > INGESTION_LIMITS.maxBatchBytes || messages.length > INGESTION_LIMITS.maxBatchEvents)
      return undefined;
    const context = top.get('context');
    const integrations = top.get('integrations');
    if (!objectOrAbsent(context) || !objectOrAbsent(integrations)) return undefined;
    env = {
      ...base,
      receivedAtIso,
      batchContext: isJsonObject(context) ? context : undefined,
      batchIntegrations: isJsonObject(integrations) ? integrations : undefined,
      batchSentAt: top.get('sentAt'),
    };
  } else {
    if (bytes.length > INGESTION_LIMITS.maxEventBytes) return undefined;
    env = {
      ...base,
      receivedAtIso,
      batchContext: undefined,
      batchIntegrations: undefined,
      batchSentAt: undefined,
    };
  }
  const routeType = route === 'batch' ? undefined : route;
  const validated: ValidatedMessage[] = [];
  for (const message of messages) {
    const v = validateMessage(message, routeType, env);
    if (isProblem(v)) return undefined;
    validated.push(v);
  }
  const builder = new AcceptedBatchBuilder(env, bytes.length + validated.length * 256, pool);
  for (let i = 0; i < validated.length; i++) {
    const v = validated[i] as ValidatedMessage;
    if (!spliceStoredMessage(builder.writer, bytes, structure, i, v, env)) {
      const rendered = renderMessage(v, env);
      if (!rendered.ok) return undefined;
      builder.writer.text(rendered.event.payload);
    }
    builder.add(v);
  }
  return builder.build();
}
