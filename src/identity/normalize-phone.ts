/**
 * Phone numbers to E.164 with libphonenumber-js. National formats (`06 12 34 56 78`) need a
 * region: the workspace's default, else the one in the event's locale; without either, only
 * international formats (`+33…`) are accepted, because guessing a country would link strangers.
 */
import { isSupportedCountry, parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';

/** `fr-FR`, `fr_FR`, `zh-Hant-TW`, `en-US-u-ca-gregory` → the region subtag; `fr` → undefined. */
export function regionFromLocale(locale: unknown): CountryCode | undefined {
  if (typeof locale !== 'string' || locale.length > 64) return undefined;
  const subtags = locale.split(/[-_]/).slice(1);
  for (const subtag of subtags) {
    // BCP 47: the region is the first 2-letter subtag after the language (and script).
    if (subtag.length === 2) {
      const region = subtag.toUpperCase();
      return isSupportedCountry(region) ? region : undefined;
    }
    if (subtag.length === 1) return undefined; // an extension starts: no region before it
  }
  return undefined;
}

/** E.164 (`+33612345678`) or undefined if the text is not a valid number. */
export function toE164(text: string, region: string | undefined): string | undefined {
  // Keep libphonenumber off pathological input: real numbers with formatting fit in 64 chars.
  if (text.length > 64) return undefined;
  const defaultCountry = region !== undefined && isSupportedCountry(region) ? region : undefined;
  const parsed = parsePhoneNumberFromString(
    text,
    defaultCountry === undefined ? undefined : { defaultCountry },
  );
  if (parsed === undefined || !parsed.isValid()) return undefined;
  return parsed.number;
}
