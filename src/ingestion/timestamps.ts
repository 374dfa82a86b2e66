/**
 * Segment's timestamp rules. Clients send `timestamp` (device time of the call) and `sentAt`
 * (device time of the flush); the device clock may be wrong, but the *difference* is right, so
 * the corrected time is `receivedAt − (sentAt − originalTimestamp)`. A `timestamp` sent by the
 * client is the `originalTimestamp`. Without `sentAt` there is no skew to measure, and the
 * given time is kept as is (historical imports rely on that).
 */
const ISO_DATE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|z|[+-]\d{2}:?\d{2})?)?$/;

const daysInMonth = (year: number, month: number): number => new Date(Date.UTC(year, month, 0)).getUTCDate();

/**
 * Parses ISO 8601 strictly: impossible calendar values (Feb 30, 25:00) are refused rather than
 * rolled over, and a time without an offset is UTC, so the result never depends on the
 * server's time zone.
 */
export function parseIsoTimestamp(value: unknown): number | undefined {
  if (typeof value !== 'string' || value.length > 40) return undefined;
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
