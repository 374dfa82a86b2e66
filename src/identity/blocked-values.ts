/**
 * Values that never link anything: placeholders that leak from development (`null`, `abc123`)
 * would otherwise merge every profile that carries them.
 *
 * Safety choice: workspace entries are EXACT values (trimmed, case-insensitive), never regular
 * expressions. A user-supplied pattern evaluated on every identifier of every event is a ReDoS
 * risk and Segment itself restricts its regex support; the one pattern Segment suggests,
 * "zeroes and dashes" (`^[0-]*$`), is built in as code below, linear in the value's length.
 */
import type { IdentitySettings } from './identity-settings.ts';

/**
 * Segment's suggested values (`-1`, `null`, `anonymous`, plus `void` and `abc123` that its docs
 * recommend adding) and the placeholders SDKs and templates commonly produce.
 */
export const DEFAULT_BLOCKED_VALUES: readonly string[] = Object.freeze([
  '-1',
  'null',
  'undefined',
  'anonymous',
  'void',
  'abc123',
  'none',
  'nil',
  'n/a',
  'na',
  'test',
  'unknown',
  'nan',
  '[object object]',
  'true',
  'false',
]);

export interface BlockedValues {
  /** True if the value must not be used as an identifier. */
  isBlocked(value: string): boolean;
}

/** Segment's "Zeroes and Dashes" pattern `^[0-]*$`: also covers the empty string. */
export function isZeroesAndDashes(value: string): boolean {
  for (let i = 0; i < value.length; i += 1) {
    const c = value.charCodeAt(i);
    if (c !== 0x30 && c !== 0x2d) return false;
  }
  return true;
}

export function createBlockedValues(settings: IdentitySettings): BlockedValues {
  const exact = new Set<string>();
  if (settings.useDefaultBlockedValues) for (const v of DEFAULT_BLOCKED_VALUES) exact.add(v);
  for (const v of settings.blockedValues) exact.add(canonical(v));
  const useDefaults = settings.useDefaultBlockedValues;
  return {
    isBlocked(value: string): boolean {
      const key = canonical(value);
      return exact.has(key) || (useDefaults && isZeroesAndDashes(key));
    },
  };
}

function canonical(value: string): string {
  return value.trim().toLowerCase();
}
