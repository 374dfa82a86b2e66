/**
 * Date and timestamp literals: `2026-01-01` (midnight UTC) or an RFC 3339 timestamp with a zone,
 * `2026-01-01T10:00:00Z`, `2026-01-01T10:00:00.250+02:00`. A timestamp without a zone is refused
 * because its instant would depend on the server's time zone.
 */
const DATE_PATTERN =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})?)?$/;

export type ParsedDate =
  | { readonly ok: true; readonly epochMs: number; readonly dateOnly: boolean }
  | { readonly ok: false; readonly reason: string };

export function parseDateText(text: string): ParsedDate {
  const match = DATE_PATTERN.exec(text);
  if (match === null) {
    return { ok: false, reason: `"${text}" is not a date (2026-01-01) or timestamp (2026-01-01T10:00:00Z)` };
  }
  const [, y, mo, d, h, mi, s, fraction, zone] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    return { ok: false, reason: `${text.slice(0, 10)} is not a calendar date` };
  }
  if (h === undefined) {
    return { ok: true, epochMs: utcEpochMs(year, month, day, 0, 0, 0, 0), dateOnly: true };
  }
  if (zone === undefined) {
    return { ok: false, reason: `timestamp ${text} needs a time zone: Z or an offset such as +02:00` };
  }
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (hour > 23 || minute > 59 || second > 59) {
    return { ok: false, reason: `${text} is not a valid time of day` };
  }
  const offsetMinutes = parseZone(zone);
  if (offsetMinutes === undefined) {
    return { ok: false, reason: `${zone} is not a valid time zone offset` };
  }
  // Sub-millisecond digits are kept in the text but cannot be represented in epoch milliseconds.
  const ms = fraction === undefined ? 0 : Number(fraction.padEnd(3, '0').slice(0, 3));
  const local = utcEpochMs(year, month, day, hour, minute, second, ms);
  return { ok: true, epochMs: local - offsetMinutes * 60_000, dateOnly: false };
}

function parseZone(zone: string): number | undefined {
  if (zone === 'Z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const hours = Number(zone.slice(1, 3));
  const minutes = Number(zone.slice(4, 6));
  if (hours > 23 || minutes > 59) return undefined;
  return sign * (hours * 60 + minutes);
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) {
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
    return leap ? 29 : 28;
  }
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

function utcEpochMs(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  ms: number,
): number {
  // Date.UTC maps years 0–99 to 1900–1999; setUTCFullYear does not.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, ms);
  return date.getTime();
}
