/**
 * What an audited change asked for, as the audit log keeps it: which fields were set and, where
 * that is no secret and no personal data, to what. An auditor must be able to see that a
 * webhook was pointed elsewhere, a token minted with the owner role, a consent category or a
 * PII classification removed; the log must not become a copy of secrets or of personal data.
 * So: secrets, credentials and anything that may hold personal values (identifiers, traits,
 * definitions and filters, which may compare against an e-mail) are recorded as set, never
 * their value; URLs keep their origin and path (a query string may carry a token); long text
 * and long lists are cut.
 */
import { isJsonObject, type JsonObject, type JsonValue } from '../shared/json.ts';

/** Field names whose values are never recorded (matched anywhere in the name, any case). */
const WITHHELD =
  /secret|password|token|api_?key|authorization|credential|email|phone|identifier|^values?$|traits|properties|definition|filter|where|^ip$|address|note|document/i;

const MAX_TEXT = 200;
const MAX_ITEMS = 50;
const MAX_DEPTH = 3;
export const WITHHELD_VALUE = '[withheld]';

/** The request body of a change, summarized for the audit log (undefined: nothing to record). */
export function describeChange(body: unknown): JsonObject | undefined {
  if (!isJsonObject(body)) return undefined;
  const described = describeObject(body, 0);
  return Object.keys(described).length === 0 ? undefined : described;
}

function describeObject(object: JsonObject, depth: number): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(object)) {
    // Plain data keys (`__proto__` included) are defined, never assigned through a setter.
    Object.defineProperty(out, key, {
      value: WITHHELD.test(key) ? WITHHELD_VALUE : describeValue(value, depth + 1),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

function describeValue(value: JsonValue, depth: number): JsonValue {
  if (typeof value === 'string') return describeText(value);
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return value;
  if (Array.isArray(value)) {
    if (value.length > MAX_ITEMS || value.some((item) => typeof item === 'object' && item !== null))
      return `[${value.length} items]`;
    return value.map((item) => describeValue(item, depth));
  }
  return depth >= MAX_DEPTH ? '{…}' : describeObject(value, depth);
}

function describeText(text: string): string {
  if (/^https?:\/\//i.test(text)) {
    try {
      const url = new URL(text);
      return `${url.origin}${url.pathname}${url.search === '' ? '' : '?…'}`;
    } catch {
      // Not a URL after all: recorded as text.
    }
  }
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text;
}
