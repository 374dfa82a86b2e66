/**
 * Segment's timestamp rules. Clients send `timestamp` (device time of the call) and `sentAt`
 * (device time of the flush); the device clock may be wrong, but the *difference* is right, so
 * the corrected time is `receivedAt − (sentAt − originalTimestamp)`. A `timestamp` sent by the
 * client is the `originalTimestamp`. Without `sentAt` there is no skew to measure, and the
 * given time is kept as is (historical imports rely on that).
 */
/**
 * ISO 8601 as clients write it, with the leniency Segment's API shows: a month or day of one
 * digit (its own documentation's batch example sends `2015-2-02T00:30:08.276Z`), `t`/`z` in
 * either case, an offset of hours only (`+01`).
 */
const ISO_DATE =
  /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|z|[+-]\d{2}(?::?\d{2})?)?)?$/;

const daysInMonth = (year: number, month: number): number => new Date(Date.UTC(year, month, 0)).getUTCDate();

/**
 * Parses ISO 8601 strictly: impossible calendar values (Feb 30, 25:00) are refused rather than
 * rolled over, and a time without an offset is UTC, so the result never depends on the
 * server's time zone.
 */
export function parseIsoTimestamp(value: unknown): number | undefined {
  if (typeof value !== 'string' || value.length > 40) return undefined;
  if (value.length === 24) {
    const canonical = parseCanonical(value);
    if (canonical !== undefined) return canonical;
  }
  const match = ISO_DATE.exec(value);
  if (!match) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', fraction = '', zone] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  if (year < 1000 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return undefined;
  let offsetMinutes = 0;
  if (zone !== undefined && zone.toUpperCase() !== 'Z') {
    const digits = zone.replace(':', '');
    const hours = Number(digits.slice(1, 3));
    const minutes = Number(digits.slice(3, 5));
    if (hours > 23 || minutes > 59) return undefined;
    offsetMinutes = (digits.startsWith('-') ? -1 : 1) * (hours * 60 + minutes);
  }
  const millis = Number(fraction.padEnd(3, '0').slice(0, 3));
  const utc =
    Date.UTC(year, month - 1, day, Number(h), Number(mi), Number(s), millis) - offsetMinutes * 60_000;
  return Number.isFinite(utc) ? utc : undefined;
}

/** Digit at `i` as a number, or NaN. */
function digit(text: string, i: number): number {
  const c = text.charCodeAt(i) - 48;
  return c >= 0 && c <= 9 ? c : Number.NaN;
}

/**
 * What SDKs send (`toISOString()`: 2026-11-29T12:00:00.000Z) without the regular expression:
 * the same checks, the same instant. Anything else (or NaN digits) goes the general way.
 */
function parseCanonical(v: string): number | undefined {
  if (
    v.charCodeAt(4) !== 45 ||
    v.charCodeAt(7) !== 45 ||
    v.charCodeAt(10) !== 84 ||
    v.charCodeAt(13) !== 58 ||
    v.charCodeAt(16) !== 58 ||
    v.charCodeAt(19) !== 46 ||
    v.charCodeAt(23) !== 90
  )
    return undefined;
  const year = digit(v, 0) * 1000 + digit(v, 1) * 100 + digit(v, 2) * 10 + digit(v, 3);
  const month = digit(v, 5) * 10 + digit(v, 6);
  const day = digit(v, 8) * 10 + digit(v, 9);
  const hour = digit(v, 11) * 10 + digit(v, 12);
  const minute = digit(v, 14) * 10 + digit(v, 15);
  const second = digit(v, 17) * 10 + digit(v, 18);
  const millis = digit(v, 20) * 100 + digit(v, 21) * 10 + digit(v, 22);
  // NaN fails every comparison: a non-digit anywhere leaves it to the general path.
  if (!(year >= 1000 && month >= 1 && month <= 12 && day >= 1 && hour <= 23 && minute <= 59))
    return undefined;
  if (!(second <= 59 && millis >= 0 && day <= daysInMonth(year, month))) return undefined;
  return Date.UTC(year, month - 1, day, hour, minute, second, millis);
}

export interface ResolvedTimes {
  readonly timestampMs: number;
  readonly originalTimestampMs: number | undefined;
}

export function resolveTimestamp(
  receivedMs: number,
  originalTimestampMs: number | undefined,
  sentAtMs: number | undefined,
): ResolvedTimes {
  if (originalTimestampMs === undefined) return { timestampMs: receivedMs, originalTimestampMs };
  if (sentAtMs === undefined) return { timestampMs: originalTimestampMs, originalTimestampMs };
  return { timestampMs: receivedMs - (sentAtMs - originalTimestampMs), originalTimestampMs };
}
