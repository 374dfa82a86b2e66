/**
 * When a stored value counts as a date: a string in one of these exact shapes (the shapes of the
 * language's own date literals, plus a timestamp without a zone, read as UTC like ingestion does):
 *
 *   2026-01-31                        midnight UTC
 *   2026-01-31T10:00:00               UTC
 *   2026-01-31T10:00:00.123456Z       1–9 fraction digits (milliseconds kept, the rest dropped)
 *   2026-01-31T10:00:00+02:00         any offset ±hh:mm (hh ≤ 23, mm ≤ 59)
 *
 * Anything else (lower-case `t`/`z`, a space instead of `T`, no seconds, `+0200`, 2026-02-30,
 * 24:00:00, a number of epoch milliseconds) is not a date, so a date comparison on it is false.
 * The SQL compilers implement the same rule with integer arithmetic (storage/segment-sql/iso-instant-sql.ts).
 */
export const ISO_INSTANT_PATTERN =
  /^([0-9]{4})-([0-9]{2})-([0-9]{2})(?:T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?(Z|[+-][0-9]{2}:[0-9]{2})?)?$/;

const DAY_MS = 86_400_000;

export function parseIsoInstant(text: string): number | undefined {
  const match = ISO_INSTANT_PATTERN.exec(text);
  if (match === null) return undefined;
  const [, y, mo, d, h = '00', mi = '00', s = '00', fraction = '', zone = 'Z'] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMinutes = 0;
  if (zone !== 'Z') {
    const zoneHours = Number(zone.slice(1, 3));
    const zoneMinutes = Number(zone.slice(4, 6));
    if (zoneHours > 23 || zoneMinutes > 59) return undefined;
    offsetMinutes = (zone.startsWith('-') ? -1 : 1) * (zoneHours * 60 + zoneMinutes);
  }
  const ms = Number((fraction + '000').slice(0, 3));
  const seconds = ((daysFromCivil(year, month, day) * 24 + hour) * 60 + minute) * 60 + second;
  return seconds * 1000 + ms - offsetMinutes * 60_000;
}

export function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's algorithm), with the year
 * shifted by 400 so every intermediate value is non-negative and integer division truncates the
 * same way in JavaScript, SQLite and PostgreSQL.
 */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = year - (month <= 2 ? 1 : 0) + 400;
  const mp = (month + 9) % 12;
  const dayOfYear = Math.trunc((153 * mp + 2) / 5) + day - 1;
  return (
    365 * y + Math.trunc(y / 4) - Math.trunc(y / 100) + Math.trunc(y / 400) + dayOfYear - 719_468 - 146_097
  );
}

export { DAY_MS };
