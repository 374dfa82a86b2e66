import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * CSRF protection for cookie-authenticated writes. The token is derived from the session id
 * (which only the cookie holds; the store keeps a different hash of it), so it needs no storage,
 * changes with every session and cannot be computed by a page that cannot read the cookie.
 * A write must echo it in `X-CSRF-Token`; cross-site pages cannot read it, and cannot send that
 * header without a CORS preflight that the admin API never grants.
 */
export const CSRF_HEADER = 'x-csrf-token';

export function csrfTokenFor(sessionId: string): string {
  return createHash('sha256').update(`cdp-csrf-v1\n${sessionId}`).digest('base64url');
}

export function csrfTokenMatches(sessionId: string, given: string | undefined): boolean {
  if (given === undefined) return false;
  const expected = Buffer.from(csrfTokenFor(sessionId));
  const actual = Buffer.from(given);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

export const isSafeMethod = (method: string): boolean =>
  method === 'GET' || method === 'HEAD' || method === 'OPTIONS';

export type CsrfVerdict = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/**
 * Browsers say where a request comes from: `Sec-Fetch-Site` (all current browsers) and `Origin`
 * (on every cross-origin request and every POST). When present, they must say "this site".
 * Their absence is tolerated (older browsers, non-browser clients): the token still applies.
 */
export function checkRequestSite(headers: {
  origin: string | undefined;
  secFetchSite: string | undefined;
  ownOrigin: string;
}): CsrfVerdict {
  if (headers.secFetchSite !== undefined && !['same-origin', 'none'].includes(headers.secFetchSite))
    return { ok: false, reason: `a ${headers.secFetchSite} request may not act with the session` };
  if (headers.origin !== undefined && headers.origin !== headers.ownOrigin)
    return { ok: false, reason: `requests from ${headers.origin} may not act with the session` };
  return { ok: true };
}

/** The full check of a cookie-authenticated request. */
export function checkCsrf(request: {
  method: string;
  sessionId: string;
  token: string | undefined;
  origin: string | undefined;
  secFetchSite: string | undefined;
  ownOrigin: string;
}): CsrfVerdict {
  if (isSafeMethod(request.method)) return { ok: true };
  const site = checkRequestSite(request);
  if (!site.ok) return site;
  if (!csrfTokenMatches(request.sessionId, request.token))
    return {
      ok: false,
      reason: 'send the X-CSRF-Token header given at sign-in (and by GET /api/v1/session)',
    };
  return { ok: true };
}
