import type { Session } from './user-types.ts';

/** How long a console session lives: idle timeout and absolute timeout. */
export interface SessionLifetime {
  /** Ends after this long without a request. */
  readonly idleMs: number;
  /** Ends this long after sign-in, however active. */
  readonly maxMs: number;
}

/**
 * Activity is written at most once a minute per session (not on every request), so the idle
 * timeout is exact to within a minute, in the safe direction.
 */
export const TOUCH_INTERVAL_MS = 60_000;

export type SessionVerdict =
  | { readonly state: 'active'; readonly touch: boolean; readonly idleEndsMs: number }
  | { readonly state: 'expired'; readonly reason: 'idle' | 'absolute' };

export function judgeSession(
  session: Pick<Session, 'lastSeenMs' | 'expiresMs'>,
  nowMs: number,
  lifetime: SessionLifetime,
): SessionVerdict {
  if (nowMs >= session.expiresMs) return { state: 'expired', reason: 'absolute' };
  if (nowMs - session.lastSeenMs >= lifetime.idleMs) return { state: 'expired', reason: 'idle' };
  const touch = nowMs - session.lastSeenMs >= Math.min(TOUCH_INTERVAL_MS, lifetime.idleMs / 2);
  const lastSeen = touch ? nowMs : session.lastSeenMs;
  return { state: 'active', touch, idleEndsMs: Math.min(lastSeen + lifetime.idleMs, session.expiresMs) };
}

/** The times of a session that starts now. */
export function newSessionTimes(
  nowMs: number,
  lifetime: SessionLifetime,
): Pick<Session, 'createdMs' | 'lastSeenMs' | 'expiresMs'> {
  return { createdMs: nowMs, lastSeenMs: nowMs, expiresMs: nowMs + lifetime.maxMs };
}
