import type { FastifyRequest } from 'fastify';
import type { AppServices } from '../app/app-services.ts';
import { checkCsrf, checkRequestSite, CSRF_HEADER } from '../access/csrf.ts';
import type { SessionContext } from '../access/session.service.ts';
import { AppError } from '../errors/app-error.ts';
import type { Principal } from '../workspaces/workspace-types.ts';
import { sessionIdOf } from './session-cookie.ts';

export interface RequestIdentity {
  readonly principal: Principal;
  /** Set when the caller authenticated with the session cookie. */
  readonly session: SessionContext | null;
  readonly sessionId: string | null;
}

const header = (request: FastifyRequest, name: string): string | undefined => {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

export const ownOrigin = (request: FastifyRequest): string => `${request.protocol}://${request.host}`;

/**
 * Who is calling: a bearer token (API clients) or the session cookie (the console). A bearer
 * token wins when both are present. A cookie-authenticated write (anything but GET/HEAD) must
 * also carry the session's CSRF token and, when the browser says where it comes from
 * (Origin, Sec-Fetch-Site), come from this site; bearer tokens need neither, since browsers
 * never attach them on their own.
 */
export async function authenticateRequest(
  request: FastifyRequest,
  services: AppServices,
  /** `touch: false`: not the user's activity (see SessionService.authenticate). */
  options: { readonly touch?: boolean } = {},
): Promise<RequestIdentity> {
  const authorization = request.headers.authorization;
  if (authorization !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match?.[1]) throw new AppError('auth.missing_token', 'send "Authorization: Bearer <token>"');
    return { principal: await services.tokens.authenticate(match[1]), session: null, sessionId: null };
  }
  const sessionId = sessionIdOf(request);
  if (sessionId === undefined)
    throw new AppError(
      'auth.missing_token',
      'send "Authorization: Bearer <token>", or sign in to the console (POST /api/v1/session)',
    );
  const session = await services.sessions.authenticate(sessionId, options);
  const csrf = checkCsrf({
    method: request.method,
    sessionId,
    token: header(request, CSRF_HEADER),
    origin: header(request, 'origin'),
    secFetchSite: header(request, 'sec-fetch-site'),
    ownOrigin: ownOrigin(request),
  });
  if (!csrf.ok) throw new AppError('auth.csrf_failed', csrf.reason);
  return { principal: session.principal, session, sessionId };
}

/** For sign-in and setup (no session yet): the request must not come from another site. */
export function requireSameSite(request: FastifyRequest): void {
  const verdict = checkRequestSite({
    origin: header(request, 'origin'),
    secFetchSite: header(request, 'sec-fetch-site'),
    ownOrigin: ownOrigin(request),
  });
  if (!verdict.ok) throw new AppError('auth.csrf_failed', verdict.reason);
}
