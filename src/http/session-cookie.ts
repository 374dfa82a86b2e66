import type { FastifyRequest } from 'fastify';
import { AppError } from '../errors/app-error.ts';

/**
 * The session cookie. Over HTTPS it is `__Host-cdp_session` with `Secure; HttpOnly;
 * SameSite=Strict; Path=/` and no Domain: the `__Host-` prefix makes browsers refuse it unless
 * it is Secure, host-only and for `/`, so no sibling subdomain and no plain-HTTP page can set or
 * overwrite it. That prefix requires Secure, which browsers refuse over plain HTTP, so on plain
 * HTTP to a loopback host (localhost, 127.0.0.0/8, [::1]: development, or a tunnel) the cookie
 * is `cdp_session` without Secure, otherwise identical. Plain HTTP to any other host gets no
 * cookie at all: signing in answers 403 `auth.https_required` (terminate TLS at a proxy and set
 * CDP_TRUST_PROXY=true, so `X-Forwarded-Proto: https` is believed).
 * Each mode reads only its own cookie name, so an HTTPS session never accepts a cookie that a
 * plain-HTTP page could have planted.
 */
export const SECURE_COOKIE_NAME = '__Host-cdp_session';
export const LOCAL_COOKIE_NAME = 'cdp_session';

export interface CookieMode {
  readonly name: string;
  readonly secure: boolean;
}

type RequestLike = Pick<FastifyRequest, 'protocol' | 'hostname' | 'headers'>;

export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  return (
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    host === '[::1]' ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
  );
}

/** The cookie this request may use; undefined on plain HTTP to a non-loopback host. */
export function cookieModeOf(request: RequestLike): CookieMode | undefined {
  if (request.protocol === 'https') return { name: SECURE_COOKIE_NAME, secure: true };
  if (isLoopbackHost(request.hostname)) return { name: LOCAL_COOKIE_NAME, secure: false };
  return undefined;
}

export function requireCookieMode(request: RequestLike): CookieMode {
  const mode = cookieModeOf(request);
  if (!mode)
    throw new AppError(
      'auth.https_required',
      'sign in over HTTPS (plain HTTP only works on localhost); behind a TLS proxy set CDP_TRUST_PROXY=true',
    );
  return mode;
}

/** The session id the request carries in its mode's cookie, if any. */
export function sessionIdOf(request: RequestLike): string | undefined {
  const mode = cookieModeOf(request);
  const header = request.headers.cookie;
  if (!mode || header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === mode.name) {
      const value = part.slice(eq + 1).trim();
      return value === '' ? undefined : value;
    }
  }
  return undefined;
}

function attributes(mode: CookieMode): string {
  return `Path=/; HttpOnly; SameSite=Strict${mode.secure ? '; Secure' : ''}`;
}

/** Sets the session cookie; it lives no longer than the session's absolute end. */
export function sessionCookie(mode: CookieMode, sessionId: string, maxAgeSeconds: number): string {
  return `${mode.name}=${sessionId}; ${attributes(mode)}; Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}`;
}

export function clearedSessionCookie(mode: CookieMode): string {
  return `${mode.name}=; ${attributes(mode)}; Max-Age=0`;
}
