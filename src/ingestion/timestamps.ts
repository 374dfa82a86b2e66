/**
 * Segment's timestamp rules. Clients send `timestamp` (device time of the call) and `sentAt`
 * (device time of the flush); the device clock may be wrong, but the *difference* is right, so
 * the corrected time is `receivedAt − (sentAt − originalTimestamp)`. A `timestamp` sent by the
 * client is the `originalTimestamp`. Without `sentAt` there is no skew to measure, and the
 * given time is kept as is (historical imports rely on that).
 */
const ISO_DATE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

export function parseIsoTimestamp(value: unknown): number | undefined {
  if (typeof value !== 'string' || !ISO_DATE.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
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
