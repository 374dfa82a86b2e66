import { randomBytes } from 'node:crypto';
import { AppError } from '../errors/app-error.ts';
import type { AuditActor } from '../governance/audit-log.ts';
import type { AuditService } from '../governance/audit.service.ts';
import type { Clock } from '../shared/clock.ts';
import { hashSecret } from '../shared/secrets.ts';
import type { Principal, WorkspaceGrant } from '../workspaces/workspace-types.ts';
import type {
  LoginThrottleRepository,
  MembershipRepository,
  PasswordHasher,
  SessionRepository,
  UserRepository,
} from './access.port.ts';
import { csrfTokenFor } from './csrf.ts';
import { normalizeEmail } from './email-address.ts';
import {
  afterFailure,
  remainingLockMs,
  throttleKeys,
  THROTTLE_MEMORY_MS,
  type ThrottleKey,
} from './login-throttle.ts';
import { normalizePassword } from './password-policy.ts';
import { judgeSession, newSessionTimes, type SessionLifetime } from './session-policy.ts';
import type { UserService } from './user.service.ts';
import type { Session, User } from './user-types.ts';

/** 256 random bits, base64url: what the cookie carries. */
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;
const HOUSEKEEPING_INTERVAL_MS = 10 * 60_000;

/** A signed-in user as a request sees them. */
export interface SessionContext {
  readonly principal: Extract<Principal, { kind: 'user' }>;
  readonly user: User;
  readonly session: Session;
  readonly csrfToken: string;
  /** When the session ends if no request comes before. */
  readonly idleEndsMs: number;
}

/** What a successful sign-in hands to the browser: the cookie value and the CSRF token. */
export interface SignIn extends SessionContext {
  readonly sessionId: string;
}

export interface ClientInfo {
  readonly ip: string;
  readonly userAgent?: string | undefined;
}

export function userActor(user: Pick<User, 'id' | 'instanceOwner'>): AuditActor {
  return { kind: 'user', tokenId: null, role: user.instanceOwner ? 'owner' : null, userId: user.id };
}

/**
 * Sign-in, sessions and sign-out for console users. Sessions live in the store (hashed id), so
 * every API process sees a sign-out, a disabled user or a removed membership on the very next
 * request: nothing about a session is cached.
 */
export class SessionService {
  readonly #users: UserRepository;
  readonly #memberships: MembershipRepository;
  readonly #sessions: SessionRepository;
  readonly #throttle: LoginThrottleRepository;
  readonly #hasher: PasswordHasher;
  readonly #userService: UserService;
  readonly #audit: AuditService;
  readonly #clock: Clock;
  readonly #lifetime: SessionLifetime;
  readonly #dummyHash: Promise<string>;
  #lastHousekeepingMs = 0;

  constructor(deps: {
    users: UserRepository;
    memberships: MembershipRepository;
    sessions: SessionRepository;
    throttle: LoginThrottleRepository;
    hasher: PasswordHasher;
    userService: UserService;
    audit: AuditService;
    clock: Clock;
    lifetime: SessionLifetime;
  }) {
    this.#users = deps.users;
    this.#memberships = deps.memberships;
    this.#sessions = deps.sessions;
    this.#throttle = deps.throttle;
    this.#hasher = deps.hasher;
    this.#userService = deps.userService;
    this.#audit = deps.audit;
    this.#clock = deps.clock;
    this.#lifetime = deps.lifetime;
    // Computed now, so that even the first unknown address costs no more than a known one.
    this.#dummyHash = this.#hasher.hash(randomBytes(16).toString('base64url'));
    this.#dummyHash.catch(() => undefined);
  }

  /**
   * Checks e-mail and password under the rate limit and starts a new session. An unknown
   * address, a wrong password and a disabled user fail alike: same error, same work (a
   * password hash is verified in every case), same counters, so answers reveal no accounts.
   * The session the request came with, if any, ends: a session id is never reused.
   */
  async login(
    input: { email: string; password: string; previousSessionId?: string | undefined },
    client: ClientInfo,
  ): Promise<SignIn> {
    const now = this.#clock.now();
    const email = normalizeEmail(input.email) ?? input.email.trim().toLowerCase().slice(0, 254);
    const keys = throttleKeys(email, client.ip);
    await this.#refuseWhileLocked(keys, now);
    const found = await this.#users.findByEmail(email);
    const hash = found?.passwordHash ?? (await this.#dummy());
    const passwordOk = await this.#hasher.verify(hash, normalizePassword(input.password));
    if (!passwordOk || found === undefined || found.user.disabledMs !== null) {
      const lockedMs = await this.#countFailure(keys, now);
      await this.#audit.record({
        workspaceId: null,
        actor: found ? userActor(found.user) : { kind: 'anonymous', tokenId: null, role: null },
        action: 'auth login failed',
        target: JSON.stringify({ userId: found?.user.id ?? null }),
        ip: client.ip,
        details: { kind: 'auth', ...(lockedMs > 0 ? { lockedSeconds: Math.ceil(lockedMs / 1000) } : {}) },
      });
      throw new AppError('auth.invalid_credentials', 'wrong e-mail address or password');
    }
    const accountIp = keys.find((k) => k.rule.scope === 'account_ip');
    if (accountIp) await this.#throttle.delete(accountIp.key);
    if (this.#hasher.needsRehash(found.passwordHash)) {
      const rehashed = await this.#hasher.hash(normalizePassword(input.password));
      await this.#users.update(found.user.id, { updatedMs: now, passwordHash: rehashed });
    }
    if (input.previousSessionId !== undefined)
      await this.#sessions.delete(hashSecret(input.previousSessionId));
    const signIn = await this.startSession(found.user, client);
    await this.#audit.record({
      workspaceId: null,
      actor: userActor(found.user),
      action: 'auth login',
      target: JSON.stringify({ userId: found.user.id }),
      ip: client.ip,
      details: { kind: 'auth' },
    });
    await this.#housekeeping(now);
    return signIn;
  }

  /** A fresh session for a user whose identity was just proven (sign-in or setup). */
  async startSession(user: User, client: ClientInfo): Promise<SignIn> {
    const now = this.#clock.now();
    const sessionId = randomBytes(32).toString('base64url');
    const session: Session = {
      idHash: hashSecret(sessionId),
      userId: user.id,
      ...newSessionTimes(now, this.#lifetime),
      ip: client.ip,
      userAgent: client.userAgent?.slice(0, 300) ?? null,
    };
    await this.#sessions.create(session);
    await this.#users.recordLogin(user.id, now);
    return {
      sessionId,
      session,
      user: { ...user, lastLoginMs: now },
      principal: await this.#principal(user),
      csrfToken: csrfTokenFor(sessionId),
      idleEndsMs: Math.min(now + this.#lifetime.idleMs, session.expiresMs),
    };
  }

  /**
   * The session behind a cookie, checked on every request: it must exist, be within its idle
   * and absolute timeouts, and belong to an enabled user; the user's memberships are read now.
   */
  async authenticate(
    sessionId: string,
    /**
     * `touch: false`: a check that is no activity of the user (a live stream checking its
     * access again) leaves the idle timeout running.
     */
    options: { readonly touch?: boolean } = {},
  ): Promise<SessionContext> {
    if (!SESSION_ID.test(sessionId)) throw expired();
    const now = this.#clock.now();
    const idHash = hashSecret(sessionId);
    const session = await this.#sessions.find(idHash);
    if (!session) throw expired();
    const verdict = judgeSession(session, now, this.#lifetime);
    if (verdict.state === 'expired') {
      await this.#sessions.delete(idHash);
      throw expired(verdict.reason === 'idle' ? 'the session timed out after inactivity' : undefined);
    }
    const user = await this.#users.find(session.userId);
    if (!user || user.disabledMs !== null) {
      await this.#sessions.deleteForUser(session.userId);
      throw expired();
    }
    if (verdict.touch && options.touch !== false) await this.#sessions.touch(idHash, now);
    return {
      principal: await this.#principal(user),
      user,
      session,
      csrfToken: csrfTokenFor(sessionId),
      idleEndsMs: verdict.idleEndsMs,
    };
  }

  /** Ends the session; resolves false when there was none (already ended). */
  async logout(sessionId: string, client: ClientInfo): Promise<boolean> {
    if (!SESSION_ID.test(sessionId)) return false;
    const idHash = hashSecret(sessionId);
    const session = await this.#sessions.find(idHash);
    if (!session || !(await this.#sessions.delete(idHash))) return false;
    const user = await this.#users.find(session.userId);
    await this.#audit.record({
      workspaceId: null,
      actor: userActor(user ?? { id: session.userId, instanceOwner: false }),
      action: 'auth logout',
      target: JSON.stringify({ userId: session.userId }),
      ip: client.ip,
      details: { kind: 'auth' },
    });
    return true;
  }

  /**
   * A signed-in user changes their own password: the current one is checked (under the same
   * rate limit as sign-in), and every other session of the user ends.
   */
  async changePassword(
    context: SessionContext,
    input: { currentPassword: string; newPassword: string },
    client: ClientInfo,
  ): Promise<void> {
    const now = this.#clock.now();
    const keys = throttleKeys(context.user.email, client.ip);
    await this.#refuseWhileLocked(keys, now);
    const found = await this.#users.findByEmail(context.user.email);
    const ok =
      found !== undefined &&
      (await this.#hasher.verify(found.passwordHash, normalizePassword(input.currentPassword)));
    if (!ok) {
      await this.#countFailure(keys, now);
      throw new AppError('auth.invalid_credentials', 'the current password is wrong');
    }
    const passwordHash = await this.#userService.hashNewPassword(input.newPassword, context.user.email);
    await this.#users.update(context.user.id, { updatedMs: now, passwordHash });
    await this.#sessions.deleteForUser(context.user.id, context.session.idHash);
    await this.#audit.record({
      workspaceId: null,
      actor: userActor(context.user),
      action: 'auth password changed',
      target: JSON.stringify({ userId: context.user.id }),
      ip: client.ip,
      details: { kind: 'auth' },
    });
  }

  async #principal(user: User): Promise<SessionContext['principal']> {
    const grants: WorkspaceGrant[] = (await this.#memberships.listForUser(user.id)).map((m) => ({
      workspaceId: m.workspaceId,
      role: m.role,
      pii: m.pii,
    }));
    return { kind: 'user', userId: user.id, instanceOwner: user.instanceOwner, grants };
  }

  async #refuseWhileLocked(keys: readonly ThrottleKey[], now: number): Promise<void> {
    const states = await this.#throttle.read(keys.map((k) => k.key));
    const waitMs = Math.max(0, ...[...states.values()].map((s) => remainingLockMs(s, now)));
    if (waitMs > 0) throw tooManyAttempts(waitMs);
  }

  /** Counts a failure on every key; resolves the lockout it started, if any. */
  async #countFailure(keys: readonly ThrottleKey[], now: number): Promise<number> {
    let lockedMs = 0;
    for (const { key, rule } of keys) {
      const state = await this.#throttle.update(key, (current) => afterFailure(current, now, rule));
      lockedMs = Math.max(lockedMs, remainingLockMs(state, now));
    }
    return lockedMs;
  }

  /** Unknown accounts cost a verification too, against a hash of the same parameters. */
  #dummy(): Promise<string> {
    return this.#dummyHash;
  }

  async #housekeeping(now: number): Promise<void> {
    if (now - this.#lastHousekeepingMs < HOUSEKEEPING_INTERVAL_MS) return;
    this.#lastHousekeepingMs = now;
    await this.#sessions.deleteExpired(now, now - this.#lifetime.idleMs);
    await this.#throttle.prune(now - THROTTLE_MEMORY_MS);
  }
}

function expired(message = 'the session ended; sign in again'): AppError {
  return new AppError('auth.session_expired', message);
}

export function tooManyAttempts(waitMs: number): AppError {
  const retryAfterSeconds = Math.max(1, Math.ceil(waitMs / 1000));
  return new AppError('auth.too_many_attempts', `too many failed attempts; retry in ${retryAfterSeconds} s`, {
    retryAfterSeconds,
  });
}
