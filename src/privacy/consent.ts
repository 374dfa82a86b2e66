/**
 * Consent: categories per workspace, values read from events, and the rule that decides a
 * profile's current value per category. Pure: the listener, the service and the storage
 * adapter share these functions.
 */
import type { StoredEvent } from '../ingestion/message-types.ts';
import { isJsonObject, ownField } from '../shared/json.ts';

export interface ConsentSettings {
  /** Category names a profile can grant or refuse (`consent.<category>` in segments). */
  readonly categories: readonly string[];
  /** Categories a `Sec-GPC: 1` request (context.consent.gpc) refuses: sale and sharing. */
  readonly gpcOptOut: readonly string[];
}

export const DEFAULT_CONSENT_SETTINGS: ConsentSettings = Object.freeze({
  categories: Object.freeze(['necessary', 'analytics', 'marketing', 'advertising', 'personalization']),
  gpcOptOut: Object.freeze(['advertising']),
});

/**
 * Where a value came from: `event` (an event's categoryPreferences), `gpc` (a `Sec-GPC: 1`
 * request), `api`, or a label given through the API (`import:crm`).
 */
export type ConsentSource = string;

/** One value a profile received for a category. */
export interface ConsentEntry {
  readonly category: string;
  readonly granted: boolean;
  readonly source: ConsentSource;
  /** When it was given: the event's timestamp, or the time given to (or taken by) the API. */
  readonly tsMs: number;
  readonly messageId: string | null;
}

/** What one event says about consent. */
export interface ConsentObservation extends ConsentEntry {
  readonly seq: number;
}

export const CATEGORY_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;
export const MAX_CATEGORIES = 50;
/** A source label given through the API (`api` by default, e.g. `import:crm`). */
export const SOURCE_PATTERN = /^[a-z][a-z0-9_.:-]{0,63}$/;
/** Keys of one event's categoryPreferences looked at: the rest are ignored. */
const MAX_PREFERENCES_READ = 200;

export type SettingsCheck =
  | { readonly ok: true; readonly settings: ConsentSettings }
  | { readonly ok: false; readonly problems: readonly { path: string; message: string }[] };

export function validateConsentSettings(input: unknown): SettingsCheck {
  if (!isJsonObject(input)) return { ok: false, problems: [{ path: '', message: 'must be an object' }] };
  const problems: { path: string; message: string }[] = [];
  for (const key of Object.keys(input))
    if (key !== 'categories' && key !== 'gpcOptOut') problems.push({ path: key, message: 'unknown setting' });
  const list = (name: 'categories' | 'gpcOptOut'): string[] => {
    const value = ownField(input, name);
    if (value === undefined) return [...DEFAULT_CONSENT_SETTINGS[name]];
    if (!Array.isArray(value) || value.length > MAX_CATEGORIES) {
      problems.push({ path: name, message: `must be a list of at most ${MAX_CATEGORIES} category names` });
      return [];
    }
    const out: string[] = [];
    value.forEach((item, index) => {
      if (typeof item !== 'string' || !CATEGORY_PATTERN.test(item))
        problems.push({
          path: `${name}.${index}`,
          message: 'a category name is lower-case letters, digits and _, starting with a letter (≤ 64)',
        });
      else if (!out.includes(item)) out.push(item);
    });
    return out;
  };
  const categories = list('categories');
  const gpcOptOut = list('gpcOptOut');
  for (const category of gpcOptOut)
    if (!categories.includes(category))
      problems.push({ path: 'gpcOptOut', message: `"${category}" is not one of the categories` });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, settings: { categories, gpcOptOut } };
}

/** Whether an event may say anything about consent, without reading further. */
export function carriesConsent(event: Pick<StoredEvent, 'message'>): boolean {
  const context = ownField(event.message, 'context');
  return isJsonObject(context) && isJsonObject(ownField(context, 'consent'));
}

/**
 * What an event says, per category of the workspace: `context.consent.categoryPreferences`
 * (Segment's Consent Management format, `{ "Marketing": true, … }`, names matched without
 * regard to case; unknown categories and non-boolean values are ignored) and
 * `context.consent.gpc: true` (a `Sec-GPC: 1` request), which refuses the `gpcOptOut`
 * categories whatever the preferences of the same event say.
 *
 * The values count at the earlier of the event's timestamp and the time the platform received
 * it. The timestamp is the sender's word (stored as given without `sentAt`): taken alone, one
 * event dated in the future would outrank every later choice, the API's included (which refuses
 * future times), so the person could not withdraw. Both times are stored with the event, so the
 * value still depends only on the event, never on when or in which order it was processed.
 */
export function consentOf(
  event: Pick<StoredEvent, 'seq' | 'message' | 'messageId' | 'timestampMs' | 'receivedMs'>,
  settings: ConsentSettings,
): ConsentObservation[] {
  const context = ownField(event.message, 'context');
  const consent = isJsonObject(context) ? ownField(context, 'consent') : undefined;
  if (!isJsonObject(consent)) return [];
  const byCategory = new Map<string, ConsentObservation>();
  const tsMs = Math.min(event.timestampMs, event.receivedMs);
  const base = { seq: event.seq, tsMs, messageId: event.messageId };
  const preferences = ownField(consent, 'categoryPreferences');
  if (isJsonObject(preferences)) {
    const known = new Map(settings.categories.map((c) => [c, c]));
    for (const key of Object.keys(preferences).slice(0, MAX_PREFERENCES_READ)) {
      const value = preferences[key];
      const category = known.get(key.toLowerCase());
      if (category !== undefined && typeof value === 'boolean')
        byCategory.set(category, { ...base, category, granted: value, source: 'event' });
    }
  }
  if (ownField(consent, 'gpc') === true) {
    for (const category of settings.gpcOptOut)
      byCategory.set(category, { ...base, category, granted: false, source: 'gpc' });
  }
  return [...byCategory.values()];
}

/**
 * The order that decides the current value: the latest time wins; at the same time a refusal
 * wins over a grant (the careful reading); then source and messageId, so the outcome never
 * depends on the order values arrived in. Positive when `a` wins over `b`.
 */
export function compareConsent(a: ConsentEntry, b: ConsentEntry): number {
  if (a.tsMs !== b.tsMs) return a.tsMs - b.tsMs;
  if (a.granted !== b.granted) return a.granted ? -1 : 1;
  if (a.source !== b.source) return a.source < b.source ? 1 : -1;
  const am = a.messageId ?? '';
  const bm = b.messageId ?? '';
  return am === bm ? 0 : am < bm ? 1 : -1;
}

/** The current value per category: the winner of `compareConsent` among every value received. */
export function currentConsent<T extends ConsentEntry>(entries: Iterable<T>): Map<string, T> {
  const out = new Map<string, T>();
  for (const entry of entries) {
    const best = out.get(entry.category);
    if (best === undefined || compareConsent(entry, best) > 0) out.set(entry.category, entry);
  }
  return out;
}
