/**
 * What counts as personal data in profiles, and how it is shown to someone without PII access.
 * Masks keep enough shape to recognise a value you already know (`z***@e***.fr`) and nothing
 * that identifies a stranger.
 */
import type { JsonObject, JsonValue } from '../shared/json.ts';

/** Trait names classified PII by default (compared case-insensitively, `_`/`-` ignored). */
export const DEFAULT_PII_TRAITS = [
  'email',
  'phone',
  'mobile',
  'name',
  'firstname',
  'lastname',
  'fullname',
  'username',
  'address',
  'street',
  'city',
  'postalcode',
  'zip',
  'zipcode',
  'birthday',
  'dateofbirth',
  'ip',
] as const;

/** Identifier types whose values are personal data. */
export const PII_IDENTIFIER_TYPES = ['email', 'phone'] as const;

const canonical = (name: string): string => name.toLowerCase().replace(/[_\-\s]/g, '');
const DEFAULTS = new Set<string>(DEFAULT_PII_TRAITS.map(canonical));

export interface PiiPolicy {
  isPiiTrait(name: string): boolean;
  isPiiIdentifierType(type: string): boolean;
  /** The traits the workspace added to the defaults. */
  readonly extraTraits: readonly string[];
}

/** The default classification plus the traits a workspace marks PII. */
export function piiPolicy(extraTraits: readonly string[] = []): PiiPolicy {
  const extra = new Set(extraTraits.map(canonical));
  return {
    extraTraits,
    isPiiTrait: (name) => DEFAULTS.has(canonical(name)) || extra.has(canonical(name)),
    isPiiIdentifierType: (type) => (PII_IDENTIFIER_TYPES as readonly string[]).includes(type),
  };
}

/** `zoe@example.fr` → `z***@e***.fr`; `+33612345678` → `+33*******78`; `Zoé` → `Z***`. */
export function maskString(value: string): string {
  const at = value.indexOf('@');
  if (at > 0) {
    const domain = value.slice(at + 1);
    const dot = domain.lastIndexOf('.');
    const tld = dot > 0 ? domain.slice(dot) : '';
    return `${value.slice(0, 1)}***@${domain.slice(0, 1)}***${tld}`;
  }
  if (/^\+?[\d\s().-]{6,}$/.test(value)) {
    const digits = value.replace(/\D/g, '');
    return `${value.startsWith('+') ? '+' : ''}${digits.slice(0, 2)}${'*'.repeat(Math.max(0, digits.length - 4))}${digits.slice(-2)}`;
  }
  return value.length === 0 ? '' : `${Array.from(value)[0] ?? ''}***`;
}

/** Masks any value: strings as above, numbers and the leaves of objects and lists alike. */
export function maskValue(value: JsonValue): JsonValue {
  if (value === null || typeof value === 'boolean') return value;
  if (typeof value === 'string') return maskString(value);
  if (typeof value === 'number') return '***';
  if (Array.isArray(value)) return value.map(maskValue);
  const out: JsonObject = {};
  for (const key of Object.keys(value))
    Object.defineProperty(out, key, {
      value: maskValue(value[key] as JsonValue),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  return out;
}

export function maskTraits(traits: JsonObject, policy: PiiPolicy): JsonObject {
  const out: JsonObject = {};
  for (const key of Object.keys(traits)) {
    const value = traits[key] as JsonValue;
    Object.defineProperty(out, key, {
      value: policy.isPiiTrait(key) ? maskValue(value) : value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}
