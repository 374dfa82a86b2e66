import { ownField, type JsonValue } from '../shared/json.ts';
import { hasPersonalTrait, sealContext, sealIp, type PayloadSealing } from './payload-sealing.ts';
import { INGESTION_LIMITS } from './ingestion-limits.ts';
import type { PayloadBufferPool } from './payload-buffer-pool.ts';
import {
  BACKSLASH,
  COLON,
  isSpace,
  LBRACE,
  LBRACKET,
  QUOTE,
  RBRACE,
  RBRACKET,
  ENTRY_INTS,
  FLAG_ESCAPED_KEY,
  FLAG_NUMBER,
  MESSAGE_INTS,
  type BodyStructure,
} from './json-structure.ts';
import { storedContext, type MessageEnvelope, type ValidatedMessage } from './normalize-message.ts';

/**
 * The stored message written as UTF-8 JSON straight from the client's bytes: the client's
 * text of the message is copied, the write key is cut out, and the values enrichment assigns
 * are written in place of the client's (or appended, in the order `storedMessage` assigns
 * them). JSON.parse of the result equals JSON.parse of `JSON.stringify(storedMessage(…))`,
 * the payload of the general path: a field keeps its place and only its value changes, a new
 * field goes last, and the client's values are the same JSON text they were parsed from.
 * It is byte for byte the same whenever the client's text was itself what JSON.stringify
 * writes (what SDKs send). `test/ingestion/stored-payload.test.ts` checks both.
 */

/**
 * Growable output buffer with its own ArrayBuffer, so it can be transferred between threads;
 * taken from `pool` when it holds one large enough (its old bytes are never exposed: only what
 * was written since is).
 */
export class PayloadWriter {
  #buffer: Buffer;
  #position = 0;
  readonly #pool: PayloadBufferPool | undefined;

  constructor(capacity: number, pool?: PayloadBufferPool) {
    this.#pool = pool;
    const wanted = Math.max(1024, capacity);
    const reused = pool?.take(wanted);
    this.#buffer = reused ? Buffer.from(reused) : Buffer.allocUnsafeSlow(wanted);
  }

  get position(): number {
    return this.#position;
  }

  rewind(position: number): void {
    this.#position = position;
  }

  copy(source: Buffer, start: number, end: number): void {
    if (end <= start) return;
    this.#reserve(end - start);
    this.#position += source.copy(this.#buffer, this.#position, start, end);
  }

  text(value: string): void {
    this.#reserve(value.length * 3);
    this.#position += this.#buffer.write(value, this.#position, 'utf8');
  }

  /** The bytes written so far (a view: the writer must not be used afterwards). */
  bytes(): Uint8Array {
    return new Uint8Array(this.#buffer.buffer, this.#buffer.byteOffset, this.#position);
  }

  #reserve(extra: number): void {
    if (this.#position + extra <= this.#buffer.length) return;
    const wanted = Math.max(this.#buffer.length * 2, this.#position + extra);
    const reused = this.#pool?.take(wanted);
    const bigger = reused ? Buffer.from(reused) : Buffer.allocUnsafeSlow(wanted);
    this.#buffer.copy(bigger, 0, 0, this.#position);
    this.#pool?.give(this.#buffer.buffer as ArrayBuffer);
    this.#buffer = bigger;
  }
}

/** The fields enrichment assigns, in the order `storedMessage` assigns them; the write key last. */
const FIELDS = [
  'type',
  'messageId',
  'userId',
  'anonymousId',
  'context',
  'integrations',
  'originalTimestamp',
  'sentAt',
  'timestamp',
  'receivedAt',
  'writeKey',
] as const;
const CONTEXT = 4;
const INTEGRATIONS = 5;
const WRITE_KEY = 10;
const FIELD_BYTES = FIELDS.map((name) => Buffer.from(name, 'latin1'));
/** Field indexes by name length, so most keys are dismissed by their length alone. */
const BY_LENGTH: number[][] = [];
FIELDS.forEach((name, index) => (BY_LENGTH[name.length] ??= []).push(index));

/** Which assigned field the key spanning [start, end) (quotes included) names, or -1. */
function fieldOf(body: Buffer, start: number, end: number): number {
  const candidates = BY_LENGTH[end - start - 2];
  if (candidates === undefined) return -1;
  for (const index of candidates) {
    const name = FIELD_BYTES[index] as Buffer;
    let k = 0;
    while (k < name.length && body[start + 1 + k] === name[k]) k++;
    if (k === name.length) return index;
  }
  return -1;
}

/** The value enrichment assigns to a string field, or undefined when the field is left as sent. */
function assignedText(field: number, v: ValidatedMessage, env: MessageEnvelope): string | undefined {
  switch (field) {
    case 0:
      return v.type;
    case 1:
      return v.messageId;
    case 2:
      return v.userId ?? undefined;
    case 3:
      return v.anonymousId ?? undefined;
    case 6:
      return v.originalTimestamp;
    case 7:
      return v.sentAt;
    case 8:
      return v.timestamp;
    case 9:
      return env.receivedAtIso;
    default:
      return undefined;
  }
}

let lastIntegrations: JsonValue | undefined;
let lastIntegrationsText = '';

/** JSON text of the batch-level integrations, serialized once per request rather than per message. */
function integrationsText(value: JsonValue): string {
  if (value !== lastIntegrations) {
    lastIntegrationsText = JSON.stringify(value);
    lastIntegrations = value;
  }
  return lastIntegrationsText;
}

/**
 * The stored context's text: 'same' when it is the client's context unchanged, 'ip' when only
 * the request IP is added at its end, else the JSON text of the merged context.
 */
function contextEdit(v: ValidatedMessage, env: MessageEnvelope): string {
  const own = v.ownContext;
  if (env.sealing !== undefined) return sealedContextEdit(v, env, env.sealing);
  // Sec-GPC adds `consent.gpc` inside the context: the merged context is written out.
  if (env.batchContext === undefined && own !== undefined && env.gpc !== true) {
    const ip = ownField(own, 'ip');
    if (env.captureIp ? typeof ip === 'string' || env.ip === null : ip === undefined) return 'same';
    if (env.captureIp && ip === undefined) return 'ip';
  }
  return JSON.stringify(storedContext(own, env));
}

/**
 * `contextEdit` when personal fields are sealed: the IP appended is the request's, sealed once
 * per request; a context that holds an IP or personal traits of its own is written out sealed.
 */
function sealedContextEdit(v: ValidatedMessage, env: MessageEnvelope, sealing: PayloadSealing): string {
  const own = v.ownContext;
  if (env.batchContext === undefined && own !== undefined && env.gpc !== true) {
    const ip = ownField(own, 'ip');
    const personal = typeof ip === 'string' || hasPersonalTrait(ownField(own, 'traits'), sealing);
    if (!personal && (!env.captureIp || env.ip === null)) return 'same';
    if (!personal && env.captureIp && ip === undefined) return 'ip';
  }
  // storedContext returns a fresh object: sealed in place, then written out.
  return JSON.stringify(sealContext(storedContext(own, env), sealing, env.ip));
}

/**
 * Where the client's own `context.ip` value is in the body, when it is the only personal field
 * of the context to seal and the context is otherwise stored as sent; null when the context
 * must be written out instead. The value is found by a scan of the context's top level (keys
 * written plainly, exactly one `ip`, its text what JSON.stringify gives), never by a search
 * that a nested `ip` could fool.
 */
function ownIpToSeal(
  v: ValidatedMessage,
  env: MessageEnvelope,
  body: Buffer,
  start: number,
  end: number,
): readonly [number, number] | null {
  const own = v.ownContext;
  const sealing = env.sealing;
  if (sealing === undefined || own === undefined || env.batchContext !== undefined || env.gpc === true)
    return null;
  if (!env.captureIp || hasPersonalTrait(ownField(own, 'traits'), sealing)) return null;
  const ip = ownField(own, 'ip');
  if (typeof ip !== 'string') return null;
  const expected = Buffer.from(JSON.stringify(ip));
  let found: [number, number] | null = null;
  let depth = 0;
  for (let k = start; k < end; k++) {
    const c = body[k];
    if (c === QUOTE) {
      const from = k;
      k++;
      while (k < end && body[k] !== QUOTE) k += body[k] === BACKSLASH ? 2 : 1;
      if (depth !== 1) continue;
      let n = k + 1;
      while (n < end && isSpace(body[n])) n++;
      if (body[n] !== COLON) continue;
      if (k - from !== 3 || body[from + 1] !== 105 || body[from + 2] !== 112) continue;
      n++;
      while (n < end && isSpace(body[n])) n++;
      if (found !== null || body.compare(expected, 0, expected.length, n, n + expected.length) !== 0)
        return null;
      found = [n, n + expected.length];
    } else if (c === LBRACE || c === LBRACKET) depth++;
    else if (c === RBRACE || c === RBRACKET) depth--;
  }
  return found;
}

/** Whether the object ending at `end` (its closing brace at end - 1) has no entries. */
function isEmptyObject(body: Buffer, end: number): boolean {
  let k = end - 2;
  while (body[k] === 32 || body[k] === 10 || body[k] === 13 || body[k] === 9) k--;
  return body[k] === LBRACE;
}

/**
 * Writes the stored message of message `index` of the scanned body. Returns false, having
 * written nothing, when the splice does not apply (a field enrichment assigns appears twice,
 * an escaped top-level key, a number JSON.stringify would rewrite) or when the result might
 * be near the 32 KB event limit: the
 * caller then renders that message through `renderMessage`, which measures exactly.
 */
export function spliceStoredMessage(
  out: PayloadWriter,
  body: Buffer,
  structure: BodyStructure,
  index: number,
  v: ValidatedMessage,
  env: MessageEnvelope,
): boolean {
  const at = index * MESSAGE_INTS;
  const { messages, entries } = structure;
  const start = messages[at] as number;
  const end = messages[at + 1] as number;
  const firstEntry = messages[at + 2] as number;
  const entryCount = messages[at + 3] as number;
  const flags = messages[at + 4] as number;
  if ((flags & (FLAG_ESCAPED_KEY | FLAG_NUMBER)) !== 0) return false;
  // Personal traits are rewritten sealed: the general path does that.
  if (env.sealing !== undefined && hasPersonalTrait(ownField(v.raw, 'traits'), env.sealing)) return false;
  const outStart = out.position;
  let present = 0;
  let remaining = entryCount;
  let cursor = start;
  let context: string | undefined;
  for (let e = 0; e < entryCount; e++) {
    const ea = (firstEntry + e) * ENTRY_INTS;
    const keyStart = entries[ea] as number;
    const field = fieldOf(body, keyStart, entries[ea + 1] as number);
    if (field < 0) continue;
    if ((present & (1 << field)) !== 0) {
      out.rewind(outStart);
      return false;
    }
    present |= 1 << field;
    const valueStart = entries[ea + 2] as number;
    const valueEnd = entries[ea + 3] as number;
    if (field === WRITE_KEY) {
      // Cut the entry with one of the commas around it.
      const [cutStart, cutEnd] =
        e > 0
          ? [entries[ea - 1] as number, valueEnd]
          : e + 1 < entryCount
            ? [keyStart, entries[ea + ENTRY_INTS] as number]
            : [keyStart, valueEnd];
      out.copy(body, cursor, cutStart);
      cursor = cutEnd;
      remaining--;
      continue;
    }
    let replacement: string | undefined;
    if (field === CONTEXT) {
      const ipAt = env.sealing === undefined ? null : ownIpToSeal(v, env, body, valueStart, valueEnd);
      if (ipAt !== null && env.sealing !== undefined) {
        // Only the client's own IP needs sealing: replace its text, copy the rest as sent.
        const ip = ownField(v.ownContext ?? {}, 'ip') as string;
        const sealed =
          ip === env.ip && env.sealing.sealedIp !== null ? env.sealing.sealedIp : sealIp(env.sealing, ip);
        out.copy(body, cursor, ipAt[0]);
        out.text(JSON.stringify(sealed));
        cursor = ipAt[1];
        context = 'same';
        continue;
      }
      context = contextEdit(v, env);
      if (context === 'ip') {
        out.copy(body, cursor, valueEnd - 1);
        const ip = env.sealing?.sealedIp ?? env.ip;
        out.text(`${isEmptyObject(body, valueEnd) ? '' : ','}"ip":${JSON.stringify(ip)}}`);
        cursor = valueEnd;
        continue;
      }
      if (context !== 'same') replacement = context;
    } else if (field === INTEGRATIONS) {
      if (v.integrations !== undefined && v.integrations !== ownField(v.raw, 'integrations'))
        replacement = integrationsText(v.integrations);
    } else {
      const assigned = assignedText(field, v, env);
      if (assigned !== undefined && ownField(v.raw, FIELDS[field] as string) !== assigned)
        replacement = JSON.stringify(assigned);
    }
    if (replacement !== undefined) {
      out.copy(body, cursor, valueStart);
      out.text(replacement);
      cursor = valueEnd;
    }
  }
  out.copy(body, cursor, end - 1);
  let suffix = '';
  let separator = remaining > 0 ? ',' : '';
  for (let field = 0; field < WRITE_KEY; field++) {
    if ((present & (1 << field)) !== 0) continue;
    let value: string | undefined;
    if (field === CONTEXT) {
      value = contextEdit(v, env);
      // Only a context the client did not send is appended; its text is the merged object.
      if (value === 'same' || value === 'ip') {
        out.rewind(outStart);
        return false;
      }
    } else if (field === INTEGRATIONS)
      value = v.integrations === undefined ? undefined : integrationsText(v.integrations);
    else {
      const assigned = assignedText(field, v, env);
      value = assigned === undefined ? undefined : JSON.stringify(assigned);
    }
    if (value === undefined) continue;
    suffix += `${separator}"${FIELDS[field]}":${value}`;
    separator = ',';
  }
  out.text(`${suffix}}`);
  // Every part of the splice is at least as long as its JSON.stringify text (spaces, escapes,
  // repeated keys, trailing zeros only add; numbers with an exponent were excluded above), so
  // a splice within the floor is an event the general path accepts too.
  const size = out.position - outStart;
  if (size > INGESTION_LIMITS.maxEventBytes - INGESTION_LIMITS.enrichmentAllowanceBytes) {
    out.rewind(outStart);
    return false;
  }
  return true;
}
