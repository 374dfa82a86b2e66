/**
 * Per-workspace identity resolution settings: what the identity admin configures, with Segment's
 * defaults, and their validation. Invalid settings are an expected outcome (an admin typed them),
 * so validation returns the problems instead of throwing.
 */
import { isSupportedCountry } from 'libphonenumber-js/max';

import { BUILT_IN_IDENTIFIER_TYPES, isValidCustomTypeName } from './identifier-types.ts';

export interface IdentityLimit {
  /** Distinct values of the type a profile may hold (within `windowMs` if set). */
  readonly max: number;
  /** Sliding window: only values first linked within this many ms before the event count. */
  readonly windowMs?: number;
}

/** What an admin may send; every field is optional. */
export interface IdentitySettingsInput {
  readonly customTypes?: readonly string[];
  /** ISO 3166-1 alpha-2 region used to read national phone numbers (`06 12 34 56 78`). */
  readonly defaultPhoneRegion?: string;
  readonly limits?: Readonly<Record<string, IdentityLimit>>;
  /** Highest priority first; types not listed keep their default relative order after these. */
  readonly priority?: readonly string[];
  /** Extra blocked values, compared exactly (case-insensitive, trimmed): see blocked-values.ts. */
  readonly blockedValues?: readonly string[];
  /** Segment's suggested blocked values; on by default. */
  readonly useDefaultBlockedValues?: boolean;
  /** Per type: false keeps the value as sent (only length, emptiness and blocking apply). */
  readonly normalize?: Readonly<Record<string, boolean>>;
  readonly maxIdentifiersPerEvent?: number;
}

/** Resolved settings: every known type has a limit, a priority and a normalization switch. */
export interface IdentitySettings {
  readonly customTypes: readonly string[];
  readonly defaultPhoneRegion: string | undefined;
  readonly limits: Readonly<Record<string, IdentityLimit>>;
  readonly priority: readonly string[];
  readonly blockedValues: readonly string[];
  readonly useDefaultBlockedValues: boolean;
  readonly normalize: Readonly<Record<string, boolean>>;
  readonly maxIdentifiersPerEvent: number;
}

export interface SettingsProblem {
  /** Dotted path of the offending field, e.g. `limits.crm_id.max`. */
  readonly path: string;
  readonly message: string;
}

export type SettingsResult =
  | { readonly ok: true; readonly settings: IdentitySettings }
  | { readonly ok: false; readonly problems: readonly SettingsProblem[] };

export const DEFAULT_LIMITS: Readonly<Record<string, IdentityLimit>> = Object.freeze({
  user_id: { max: 1 },
  email: { max: 5 },
  phone: { max: 5 },
  anonymous_id: { max: 100 },
});
export const DEFAULT_CUSTOM_LIMIT: IdentityLimit = Object.freeze({ max: 5 });
export const DEFAULT_MAX_IDENTIFIERS_PER_EVENT = 25;

/** Bounds that keep settings cheap to apply on every event. */
export const SETTINGS_BOUNDS = {
  customTypes: 50,
  blockedValues: 1_000,
  blockedValueLength: 256,
  limitMax: 10_000,
  maxIdentifiersPerEvent: 1_000,
} as const;

const NORMALIZED_BY_DEFAULT: Readonly<Record<string, boolean>> = {
  email: true,
  phone: true,
  // Segment matches user and anonymous ids exactly: they are machine-made, case may matter.
  user_id: false,
  anonymous_id: false,
};

export function validateIdentitySettings(input: IdentitySettingsInput = {}): SettingsResult {
  const problems: SettingsProblem[] = [];
  const customTypes = checkCustomTypes(input.customTypes ?? [], problems);
  const known = [...BUILT_IN_IDENTIFIER_TYPES, ...customTypes];
  const settings: IdentitySettings = {
    customTypes,
    defaultPhoneRegion: checkRegion(input.defaultPhoneRegion, problems),
    limits: resolveLimits(input.limits ?? {}, known, customTypes, problems),
    priority: resolvePriority(input.priority ?? [], customTypes, problems),
    blockedValues: checkBlockedValues(input.blockedValues ?? [], problems),
    useDefaultBlockedValues: input.useDefaultBlockedValues ?? true,
    normalize: resolveNormalize(input.normalize ?? {}, known, problems),
    maxIdentifiersPerEvent: checkMaxPerEvent(input.maxIdentifiersPerEvent, problems),
  };
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, settings: deepFreeze(settings) };
}

/** For tests and composition roots that treat invalid settings as a programming error. */
export function identitySettings(input: IdentitySettingsInput = {}): IdentitySettings {
  const result = validateIdentitySettings(input);
  if (!result.ok) {
    const detail = result.problems.map((p) => `${p.path}: ${p.message}`).join('; ');
    throw new Error(`invalid identity settings: ${detail}`);
  }
  return result.settings;
}

export const DEFAULT_IDENTITY_SETTINGS: IdentitySettings = identitySettings();

/** Rank of a type: 0 is the highest priority. Unknown types rank last. */
export function priorityRank(settings: IdentitySettings, type: string): number {
  const rank = settings.priority.indexOf(type);
  return rank === -1 ? settings.priority.length : rank;
}

export function limitFor(settings: IdentitySettings, type: string): IdentityLimit {
  return settings.limits[type] ?? DEFAULT_CUSTOM_LIMIT;
}

export function isKnownType(settings: IdentitySettings, type: string): boolean {
  return (
    (BUILT_IN_IDENTIFIER_TYPES as readonly string[]).includes(type) || settings.customTypes.includes(type)
  );
}

function checkCustomTypes(types: readonly string[], problems: SettingsProblem[]): string[] {
  if (!Array.isArray(types)) {
    problems.push({ path: 'customTypes', message: 'must be an array of type names' });
    return [];
  }
  if (types.length > SETTINGS_BOUNDS.customTypes) {
    problems.push({ path: 'customTypes', message: `at most ${SETTINGS_BOUNDS.customTypes} custom types` });
  }
  const seen = new Set<string>();
  types.forEach((type, index) => {
    if (typeof type !== 'string' || !isValidCustomTypeName(type)) {
      const message = 'must match ^[a-z][a-z0-9_.]{0,63}$ and not be a built-in type';
      problems.push({ path: `customTypes.${index}`, message });
    } else if (seen.has(type)) {
      problems.push({ path: `customTypes.${index}`, message: `duplicate type ${type}` });
    } else {
      seen.add(type);
    }
  });
  return [...seen];
}

function checkRegion(region: string | undefined, problems: SettingsProblem[]): string | undefined {
  if (region === undefined) return undefined;
  if (typeof region !== 'string' || !isSupportedCountry(region)) {
    problems.push({ path: 'defaultPhoneRegion', message: 'must be a supported ISO 3166-1 alpha-2 code' });
    return undefined;
  }
  return region;
}

function resolveLimits(
  input: Readonly<Record<string, IdentityLimit>>,
  known: readonly string[],
  customTypes: readonly string[],
  problems: SettingsProblem[],
): Record<string, IdentityLimit> {
  const limits: Record<string, IdentityLimit> = { ...DEFAULT_LIMITS };
  for (const type of customTypes) limits[type] = DEFAULT_CUSTOM_LIMIT;
  for (const [type, limit] of Object.entries(input)) {
    if (!known.includes(type)) {
      problems.push({ path: `limits.${type}`, message: 'unknown identifier type' });
      continue;
    }
    if (!isIntegerIn(limit?.max, 1, SETTINGS_BOUNDS.limitMax)) {
      problems.push({
        path: `limits.${type}.max`,
        message: `must be an integer in [1, ${SETTINGS_BOUNDS.limitMax}]`,
      });
      continue;
    }
    if (limit.windowMs !== undefined && !isIntegerIn(limit.windowMs, 1, Number.MAX_SAFE_INTEGER)) {
      problems.push({ path: `limits.${type}.windowMs`, message: 'must be a positive integer (ms)' });
      continue;
    }
    limits[type] =
      limit.windowMs === undefined ? { max: limit.max } : { max: limit.max, windowMs: limit.windowMs };
  }
  return limits;
}

/** Default order: user_id > email > phone > custom types (as declared) > anonymous_id. */
function resolvePriority(
  input: readonly string[],
  customTypes: readonly string[],
  problems: SettingsProblem[],
): string[] {
  const defaults = ['user_id', 'email', 'phone', ...customTypes, 'anonymous_id'];
  if (!Array.isArray(input)) {
    problems.push({ path: 'priority', message: 'must be an array of type names' });
    return defaults;
  }
  const listed: string[] = [];
  input.forEach((type, index) => {
    if (!defaults.includes(type))
      problems.push({ path: `priority.${index}`, message: 'unknown identifier type' });
    else if (listed.includes(type))
      problems.push({ path: `priority.${index}`, message: `duplicate type ${type}` });
    else listed.push(type);
  });
  return [...listed, ...defaults.filter((type) => !listed.includes(type))];
}

function checkBlockedValues(values: readonly string[], problems: SettingsProblem[]): string[] {
  if (!Array.isArray(values)) {
    problems.push({ path: 'blockedValues', message: 'must be an array of strings' });
    return [];
  }
  if (values.length > SETTINGS_BOUNDS.blockedValues) {
    problems.push({ path: 'blockedValues', message: `at most ${SETTINGS_BOUNDS.blockedValues} values` });
    return [];
  }
  values.forEach((value, index) => {
    const ok =
      typeof value === 'string' && value.trim() !== '' && value.length <= SETTINGS_BOUNDS.blockedValueLength;
    if (!ok) {
      const message = `must be a non-blank string of at most ${SETTINGS_BOUNDS.blockedValueLength} characters`;
      problems.push({ path: `blockedValues.${index}`, message });
    }
  });
  return [...values];
}

function resolveNormalize(
  input: Readonly<Record<string, boolean>>,
  known: readonly string[],
  problems: SettingsProblem[],
): Record<string, boolean> {
  // Custom ids default to on: trimming is the only normalization they get.
  const normalize: Record<string, boolean> = Object.fromEntries(
    known.map((t) => [t, NORMALIZED_BY_DEFAULT[t] ?? true]),
  );
  for (const [type, enabled] of Object.entries(input)) {
    if (!known.includes(type))
      problems.push({ path: `normalize.${type}`, message: 'unknown identifier type' });
    else if (typeof enabled !== 'boolean')
      problems.push({ path: `normalize.${type}`, message: 'must be a boolean' });
    else normalize[type] = enabled;
  }
  return normalize;
}

function checkMaxPerEvent(value: number | undefined, problems: SettingsProblem[]): number {
  if (value === undefined) return DEFAULT_MAX_IDENTIFIERS_PER_EVENT;
  if (!isIntegerIn(value, 1, SETTINGS_BOUNDS.maxIdentifiersPerEvent)) {
    const message = `must be an integer in [1, ${SETTINGS_BOUNDS.maxIdentifiersPerEvent}]`;
    problems.push({ path: 'maxIdentifiersPerEvent', message });
    return DEFAULT_MAX_IDENTIFIERS_PER_EVENT;
  }
  return value;
}

function isIntegerIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

function deepFreeze<T extends object>(value: T): T {
  for (const child of Object.values(value)) {
    if (typeof child === 'object' && child !== null) deepFreeze(child as object);
  }
  return Object.freeze(value);
}
