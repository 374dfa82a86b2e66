/**
 * A faster `Date#toISOString` for the generator's hot path (it ran once per message and took
 * a quarter of the time): the date part is cached per day, the time of day is formatted by hand.
 */

const DAY = 86_400_000;
const TWO_DIGITS: readonly string[] = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));

export type IsoFormatter = (epochMs: number) => string;

/** Same output as `new Date(epochMs).toISOString()` for years 0000–9999. */
export function createIsoFormatter(): IsoFormatter {
  let cachedDay = Number.NaN;
  let datePrefix = '';
  return (epochMs) => {
    const day = Math.floor(epochMs / DAY);
    if (day !== cachedDay) {
      cachedDay = day;
      datePrefix = new Date(day * DAY).toISOString().slice(0, 11);
    }
    let rest = epochMs - day * DAY;
    const millis = rest % 1000;
    rest = (rest - millis) / 1000;
    const seconds = rest % 60;
    rest = (rest - seconds) / 60;
    const minutes = rest % 60;
    const hours = (rest - minutes) / 60;
    const ms = millis < 10 ? `00${millis}` : millis < 100 ? `0${millis}` : String(millis);
    return `${datePrefix}${TWO_DIGITS[hours]}:${TWO_DIGITS[minutes]}:${TWO_DIGITS[seconds]}.${ms}Z`;
  };
}
