import { isUtf8 } from 'node:buffer';

/**
 * One pass over the UTF-8 bytes of a Tracking API body that finds where each message is and
 * where each of its top-level fields is, and enforces the nesting limit on the way. The
 * messages are then parsed one by one (most are ASCII, which decodes and parses much faster
 * than the whole body as one string with a few accents in it), and the stored message is
 * spliced from the client's own bytes (`stored-payload.ts`) instead of being serialized again.
 *
 * The scan is only a fast path: it answers `undefined` for anything unusual (invalid UTF-8 or
 * JSON, nesting beyond the limit, a top-level key repeated or escaped, a non-object message…)
 * and the caller then takes the general path, which parses the whole body and produces the
 * exact answer for every bad input. What the scan accepts is checked again by `JSON.parse` of
 * each message and of each top-level value, so it never lets invalid JSON through.
 */

export const QUOTE = 34;
export const BACKSLASH = 92;
const COMMA = 44;
export const COLON = 58;
export const LBRACKET = 91;
export const RBRACKET = 93;
export const LBRACE = 123;
export const RBRACE = 125;

/**
 * Flag of a message: a number whose text JSON.stringify would not give back the same value
 * from: an exponent ("1e400" is Infinity, written as null), hundreds of digits (Infinity too),
 * or a minus before a zero ("-0" is written as 0). Such a message is serialized, not spliced.
 */
export const FLAG_NUMBER = 1;
/** Flag of a message: one of its top-level keys contains an escape. */
export const FLAG_ESCAPED_KEY = 2;

/** Entries are stored as 4 integers: key start (its quote), key end, value start, value end. */
export const ENTRY_INTS = 4;
/** Messages are stored as 5 integers: start, end, first entry, entry count, flags. */
export const MESSAGE_INTS = 5;

export interface BodyStructure {
  /** Top-level fields other than the batch array, by (unescaped) key: [value start, value end). */
  readonly top: Map<string, readonly [number, number]>;
  /** Whether the body had a `batch` array (batch route), or is itself the message. */
  readonly hasBatch: boolean;
  readonly messageCount: number;
  readonly messages: Int32Array;
  readonly entries: Int32Array;
}

/** Far fewer digits than overflow a double (309), far more than any real value has. */
const MAX_PLAIN_DIGITS = 300;

/** JSON whitespace (what the splice in stored-payload.ts skips too). */
export const isSpace = (c: number | undefined): boolean => c === 32 || c === 10 || c === 13 || c === 9;
const isDigit = (c: number | undefined): boolean => c !== undefined && c >= 48 && c <= 57;

class Scan {
  readonly b: Uint8Array;
  readonly n: number;
  readonly maxDepth: number;
  flags = 0;
  messages = new Int32Array(64 * MESSAGE_INTS);
  messageCount = 0;
  entries = new Int32Array(64 * 12 * ENTRY_INTS);
  entryCount = 0;

  constructor(b: Uint8Array, maxDepth: number) {
    this.b = b;
    this.n = b.length;
    this.maxDepth = maxDepth;
  }

  ws(i: number): number {
    const { b, n } = this;
    while (i < n && isSpace(b[i])) i++;
    return i;
  }

  /** `b[i]` is a quote: the index after the closing quote, or -1. */
  string(i: number): number {
    const { b, n } = this;
    for (let j = i + 1; j < n; j++) {
      const c = b[j];
      if (c === QUOTE) return j + 1;
      if (c === BACKSLASH) j++;
    }
    return -1;
  }

  /** The end of the value at `i`, nested in `depth` containers; -1 when unusual or too deep. */
  value(i: number, depth: number): number {
    const { b, n } = this;
    const first = b[i];
    if (first === QUOTE) return this.string(i);
    if (first === LBRACE || first === LBRACKET) {
      let d = depth + 1;
      if (d > this.maxDepth) return -1;
      let digits = 0;
      for (let j = i + 1; j < n; j++) {
        const c = b[j] as number;
        if (c === QUOTE) {
          // Skip the string's contents: most bytes are inside strings.
          for (j++; j < n; j++) {
            const s = b[j];
            if (s === QUOTE) break;
            if (s === BACKSLASH) j++;
          }
        } else if (c >= 48 && c <= 57) {
          if (++digits > MAX_PLAIN_DIGITS) this.flags |= FLAG_NUMBER;
          continue;
        } else if (c === LBRACE || c === LBRACKET) {
          if (++d > this.maxDepth) return -1;
        } else if (c === RBRACE || c === RBRACKET) {
          if (--d === depth) return j + 1;
        } else if (((c === 101 || c === 69) && digits > 0) || (c === 45 && b[j + 1] === 48))
          this.flags |= FLAG_NUMBER;
        digits = 0;
      }
      return -1;
    }
    // A literal or a number: JSON.parse of the enclosing span checks its spelling.
    let j = i;
    for (; j < n; j++) {
      const c = b[j] as number;
      if (c === COMMA || c === RBRACE || c === RBRACKET || isSpace(c)) break;
      if (c === 101 || c === 69 || (c === 45 && b[j + 1] === 48)) {
        if (c === 45 || isDigit(b[j - 1])) this.flags |= FLAG_NUMBER;
      }
    }
    if (j - i > MAX_PLAIN_DIGITS) this.flags |= FLAG_NUMBER;
    return j > i ? j : -1;
  }

  /** A message object at `i` (nested in `depth` containers), recording its top-level entries. */
  message(i: number, depth: number): number {
    const { b } = this;
    if (b[i] !== LBRACE || depth + 1 > this.maxDepth) return -1;
    const firstEntry = this.entryCount;
    this.flags = 0;
    let j = this.ws(i + 1);
    let end = -1;
    if (b[j] === RBRACE) end = j + 1;
    else {
      for (;;) {
        if (b[j] !== QUOTE) return -1;
        const keyStart = j;
        j = this.string(j);
        if (j < 0) return -1;
        const keyEnd = j;
        for (let k = keyStart + 1; k < keyEnd - 1; k++) {
          if (b[k] === BACKSLASH) this.flags |= FLAG_ESCAPED_KEY;
        }
        j = this.ws(j);
        if (b[j] !== COLON) return -1;
        const valueStart = this.ws(j + 1);
        j = this.value(valueStart, depth + 1);
        if (j < 0) return -1;
        this.#entry(keyStart, keyEnd, valueStart, j);
        j = this.ws(j);
        if (b[j] === COMMA) j = this.ws(j + 1);
        else if (b[j] === RBRACE) {
          end = j + 1;
          break;
        } else return -1;
      }
    }
    this.#message(i, end, firstEntry, this.entryCount - firstEntry, this.flags);
    return end;
  }

  /** The batch array at `i`: every element must be a message object. */
  batch(i: number): number {
    const { b } = this;
    if (2 > this.maxDepth) return -1;
    let j = this.ws(i + 1);
    if (b[j] === RBRACKET) return j + 1;
    for (;;) {
      j = this.message(j, 2);
      if (j < 0) return -1;
      j = this.ws(j);
      if (b[j] === COMMA) j = this.ws(j + 1);
      else if (b[j] === RBRACKET) return j + 1;
      else return -1;
    }
  }

  #entry(keyStart: number, keyEnd: number, valueStart: number, valueEnd: number): void {
    if ((this.entryCount + 1) * ENTRY_INTS > this.entries.length) this.entries = grow(this.entries);
    const at = this.entryCount++ * ENTRY_INTS;
    this.entries[at] = keyStart;
    this.entries[at + 1] = keyEnd;
    this.entries[at + 2] = valueStart;
    this.entries[at + 3] = valueEnd;
  }

  #message(start: number, end: number, firstEntry: number, entryCount: number, flags: number): void {
    if ((this.messageCount + 1) * MESSAGE_INTS > this.messages.length) this.messages = grow(this.messages);
    const at = this.messageCount++ * MESSAGE_INTS;
    this.messages[at] = start;
    this.messages[at + 1] = end;
    this.messages[at + 2] = firstEntry;
    this.messages[at + 3] = entryCount;
    this.messages[at + 4] = flags;
  }
}

function grow(array: Int32Array): Int32Array<ArrayBuffer> {
  const bigger = new Int32Array(array.length * 2);
  bigger.set(array);
  return bigger;
}

/**
 * The structure of a body: for the batch route, a top-level object whose `batch` array holds
 * message objects; for a single call, the message object itself. `undefined` when the body
 * needs the general path (see the module comment).
 */
export function scanBody(bytes: Buffer, batchRoute: boolean, maxDepth: number): BodyStructure | undefined {
  if (!isUtf8(bytes)) return undefined;
  const scan = new Scan(bytes, maxDepth);
  const start = scan.ws(0);
  const top = new Map<string, readonly [number, number]>();
  let hasBatch = false;
  let end: number;
  if (!batchRoute) end = scan.message(start, 0);
  else {
    if (bytes[start] !== LBRACE || maxDepth < 1) return undefined;
    let j = scan.ws(start + 1);
    end = -1;
    if (bytes[j] === RBRACE) end = j + 1;
    else {
      for (;;) {
        if (bytes[j] !== QUOTE) return undefined;
        const keyEnd = scan.string(j);
        if (keyEnd < 0) return undefined;
        let key: unknown;
        try {
          key = JSON.parse(bytes.toString('utf8', j, keyEnd));
        } catch {
          return undefined;
        }
        // A repeated key (JSON.parse keeps the last) or an escaped one: the general path.
        if (typeof key !== 'string' || top.has(key)) return undefined;
        for (let k = j + 1; k < keyEnd - 1; k++) if (bytes[k] === BACKSLASH) return undefined;
        j = scan.ws(keyEnd);
        if (bytes[j] !== COLON) return undefined;
        const valueStart = scan.ws(j + 1);
        if (key === 'batch' && bytes[valueStart] === LBRACKET) {
          j = scan.batch(valueStart);
          hasBatch = true;
        } else j = scan.value(valueStart, 1);
        if (j < 0) return undefined;
        top.set(key, [valueStart, j]);
        j = scan.ws(j);
        if (bytes[j] === COMMA) j = scan.ws(j + 1);
        else if (bytes[j] === RBRACE) {
          end = j + 1;
          break;
        } else return undefined;
      }
    }
    if (!hasBatch) return undefined;
    top.delete('batch');
  }
  if (end < 0 || scan.ws(end) !== bytes.length) return undefined;
  return {
    top,
    hasBatch,
    messageCount: scan.messageCount,
    messages: scan.messages,
    entries: scan.entries,
  };
}
