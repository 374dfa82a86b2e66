import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import type { Role } from '../../src/workspaces/workspace-types.ts';
import type { TestApp } from './test-app.ts';

/** A password the policy accepts. */
export const GOOD_PASSWORD = 'plum tractor sings at dawn';

let counter = 0;
export function uniqueEmail(prefix = 'user'): string {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}-${Math.random().toString(36).slice(2, 8)}@example.com`;
}

/** Headers that make a request act with a console session: the cookie and the CSRF token. */
export interface SessionHeaders {
  readonly cookie: string;
  readonly 'x-csrf-token': string;
  readonly [name: string]: string;
}

export interface SignedIn {
  readonly headers: SessionHeaders;
  readonly sessionId: string;
  readonly csrfToken: string;
  readonly response: LightMyRequestResponse;
}

/** The `name=value` of the Set-Cookie header, and the whole header. */
export function setCookieOf(response: LightMyRequestResponse): { name: string; value: string; raw: string } {
  const header = response.headers['set-cookie'];
  const raw = Array.isArray(header) ? (header[0] ?? '') : (header ?? '');
  const [pair = ''] = raw.split(';');
  const eq = pair.indexOf('=');
  return { name: pair.slice(0, eq), value: pair.slice(eq + 1), raw };
}

export function login(
  t: TestApp,
  email: string,
  password: string,
  options: { headers?: Record<string, string>; remoteAddress?: string } = {},
): Promise<LightMyRequestResponse> {
  return t.app.http.inject({
    method: 'POST',
    url: '/api/v1/session',
    headers: { 'content-type': 'application/json', ...options.headers },
    payload: JSON.stringify({ email, password }),
    ...(options.remoteAddress ? { remoteAddress: options.remoteAddress } : {}),
  });
}

/** Signs in (asserting success) and returns what later requests need. */
export async function signIn(
  t: TestApp,
  email: string,
  password = GOOD_PASSWORD,
  options: { headers?: Record<string, string>; remoteAddress?: string } = {},
): Promise<SignedIn> {
  const response = await login(t, email, password, options);
  assert.equal(response.statusCode, 200, `sign-in answered ${response.statusCode}: ${response.body}`);
  const cookie = setCookieOf(response);
  const csrfToken = response.json<{ csrfToken: string }>().csrfToken;
  return {
    headers: { cookie: `${cookie.name}=${cookie.value}`, 'x-csrf-token': csrfToken },
    sessionId: cookie.value,
    csrfToken,
    response,
  };
}

/** A user (created through the service) who is a member of the test workspace with `role`. */
export async function memberUser(
  t: TestApp,
  role: Role,
  options: { pii?: 'role' | 'grant' | 'withdraw'; workspaceId?: string } = {},
): Promise<{ id: string; email: string }> {
  const email = uniqueEmail(role);
  const member = await t.app.services.users.addMember(options.workspaceId ?? t.workspace.id, {
    email,
    role,
    password: GOOD_PASSWORD,
    pii: options.pii,
  });
  return { id: member.user.id, email };
}
