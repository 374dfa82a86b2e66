/**
 * From a raw value found in an event to an identifier we can match on, or the reason it cannot
 * be one. A value that fails stays in the payload (a trait) but never links profiles.
 */
import type { BlockedValues } from './blocked-values.ts';
import type { Identifier } from './identifier-types.ts';
import { IDENTITY_REASONS, MAX_IDENTIFIER_BYTES, type IdentityReason } from './identity-reasons.ts';
import type { IdentitySettings } from './identity-settings.ts';
import { regionFromLocale, toE164 } from './normalize-phone.ts';

export type NormalizeResult =
  | { readonly ok: true; readonly identifier: Identifier }
  | { readonly ok: false; readonly reason: IdentityReason };

export interface NormalizeContext {
  readonly settings: IdentitySettings;
  readonly blocked: BlockedValues;
  /** The event's `context.locale`: the fallback region for national phone numbers. */
  readonly locale?: unknown;
}

/**
 * Deliberately simple: one `@`, no spaces, a dot in the domain. Full RFC 5322 accepts strings no
 * mailbox uses, and a stricter check would drop real addresses; this only rejects non-addresses.
 */
const EMAIL_SHAPE = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;

// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

export function normalizeIdentifier(type: string, raw: unknown, context: NormalizeContext): NormalizeResult {
  const text = rawText(raw);
  if (text === undefined) return fail(IDENTITY_REASONS.invalidShape);
  // Checked before any work on the value, so a megabyte string costs one length check.
  if (text.length > MAX_IDENTIFIER_BYTES || utf8Length(text) > MAX_IDENTIFIER_BYTES) {
    return fail(IDENTITY_REASONS.tooLong);
  }
  const trimmed = text.trim();
  if (trimmed === '') return fail(IDENTITY_REASONS.empty);
  if (context.blocked.isBlocked(trimmed)) return fail(IDENTITY_REASONS.blocked);
  const value = context.settings.normalize[type] === true ? normalizeValue(type, trimmed, context) : text;
  if (typeof value !== 'string') return value;
  // Control characters are never part of a real identifier; refusing them keeps stored keys
  // and content keys unambiguous, and PostgreSQL cannot store NUL in text at all.
  if (CONTROL_CHARACTER.test(value)) return fail(IDENTITY_REASONS.invalidShape);
  if (context.blocked.isBlocked(value)) return fail(IDENTITY_REASONS.blocked);
  return { ok: true, identifier: { type, value } };
}

function normalizeValue(type: string, trimmed: string, context: NormalizeContext): string | NormalizeResult {
  switch (type) {
    case 'email': {
      const email = trimmed.toLowerCase();
      return EMAIL_SHAPE.test(email) ? email : fail(IDENTITY_REASONS.invalidEmail);
    }
    case 'phone': {
      const region = context.settings.defaultPhoneRegion ?? regionFromLocale(context.locale);
      return toE164(trimmed, region) ?? fail(IDENTITY_REASONS.invalidPhone);
    }
    default:
      return trimmed;
  }
}

/**
 * A search prefix in the form stored values of `type` have, where the type's normalization
 * means the same for a prefix as for a whole value: e-mails are trimmed and lower-cased. A
 * phone prefix has no E.164 form and a custom value may hold inner spaces, so they stay as
 * given, as do types whose normalization is off (their values are stored as sent).
 */
export function normalizeIdentifierPrefix(type: string, prefix: string, settings: IdentitySettings): string {
  if (type !== 'email' || settings.normalize[type] !== true) return prefix;
  const normalized = prefix.trim().toLowerCase();
  // Blank once trimmed, it would match every address instead of none.
  return normalized === '' ? prefix : normalized;
}

/** Segment stringifies numeric ids; anything else is not an identifier. */
function rawText(raw: unknown): string | undefined {
  if (typeof raw === 'string') return raw;
  if (typeof raw === 'number' && Number.isFinite(raw)) return String(raw);
  return undefined;
}

function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

function fail(reason: IdentityReason): NormalizeResult {
  return { ok: false, reason };
}
