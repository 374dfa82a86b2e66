/**
 * Tracking pixels: where only an image can be embedded (e-mail opens, AMP pages), the message
 * travels in the query string of a GET. Two forms exist and both are read here:
 * - Segment's `/v1/pixel/<call>?data=<base64 of the JSON message>` (the JSON may also come
 *   unencoded);
 * - fields as query parameters with dotted paths (`userId=u&event=Email%20Opened&
 *   properties.subject=…&writeKey=…`), which Segment documents for unencoded pixels and
 *   RudderStack's `/pixel/v1/<call>` uses.
 * The result is the message's JSON text, fed to the same ingestion path as a POST body.
 */
import { isJsonObject, type JsonObject } from '../shared/json.ts';

export type PixelQuery = Readonly<Record<string, string | readonly string[] | undefined>>;

export type PixelOutcome =
  | { readonly ok: true; readonly body: string; readonly writeKey: string | undefined }
  | { readonly ok: false; readonly message: string };

/** A query holds at most this many fields; a path at most this many segments. */
export const PIXEL_LIMITS = { maxFields: 200, maxPathSegments: 8 } as const;

const last = (value: string | readonly string[] | undefined): string | undefined =>
  typeof value === 'string' ? value : value?.[value.length - 1];

/** Segment's examples use standard base64; URL-safe and unpadded forms are read as well. */
function decodeData(data: string): JsonObject | undefined {
  const candidates = [data.trim()];
  if (/^[A-Za-z0-9+/_-]+=*$/.test(candidates[0] ?? ''))
    candidates.unshift(
      Buffer.from(data.trim().replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8'),
    );
  for (const text of candidates) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (isJsonObject(parsed)) return parsed;
    } catch {
      // the next form, if any
    }
  }
  return undefined;
}

/** Sets `path` in `target` as own data properties: a `__proto__` segment stays a plain key. */
function setPath(target: JsonObject, path: readonly string[], value: string): void {
  let node = target;
  for (const [i, key] of path.entries()) {
    if (i === path.length - 1) {
      Object.defineProperty(node, key, { value, enumerable: true, writable: true, configurable: true });
      return;
    }
    const existing = Object.hasOwn(node, key) ? node[key] : undefined;
    let child: JsonObject;
    if (isJsonObject(existing)) child = existing;
    else {
      child = {};
      Object.defineProperty(node, key, {
        value: child,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    node = child;
  }
}

export function pixelMessage(query: PixelQuery): PixelOutcome {
  const queryKey = last(query['writeKey']);
  const writeKey = queryKey === undefined || queryKey === '' ? undefined : queryKey;
  const data = last(query['data']);
  if (data !== undefined) {
    const message = decodeData(data);
    if (message === undefined)
      return { ok: false, message: '"data" must be a JSON object, base64-encoded or as is' };
    return { ok: true, body: JSON.stringify(message), writeKey };
  }
  const keys = Object.keys(query).filter((key) => key !== 'writeKey');
  if (keys.length > PIXEL_LIMITS.maxFields)
    return {
      ok: false,
      message: `the pixel carries ${keys.length} fields; the limit is ${PIXEL_LIMITS.maxFields}`,
    };
  const message: JsonObject = {};
  for (const key of keys) {
    const value = last(query[key]);
    if (value === undefined) continue;
    const path = key.split('.');
    if (path.length > PIXEL_LIMITS.maxPathSegments || path.some((segment) => segment === ''))
      return { ok: false, message: `query field "${key.slice(0, 100)}" is not a valid path` };
    setPath(message, path, value);
  }
  return { ok: true, body: JSON.stringify(message), writeKey };
}

/** The 1×1 transparent GIF a pixel answers with. */
export const TRANSPARENT_GIF = Buffer.from(
  'R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7',
  'base64',
);
