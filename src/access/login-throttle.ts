import { createHash } from 'node:crypto';
import { isIPv6 } from 'node:net';

/**
 * The sign-in rate limit, as pure rules over failure counters. Three counters are kept per
 * attempt: account and IP together (the tight one: a person mistyping, or one attacker trying
 * one account), IP alone (one machine trying many accounts) and account alone (many machines
 * trying one account; kept looser, because anybody can run it up against a victim). Unknown
 * e-mail addresses are counted exactly like known ones, so the limit tells nothing about
 * which accounts exist.
 */
export interface ThrottleState {
  /** Failures in the current window. */
  readonly failures: number;
  readonly windowStartMs: number;
  /** No attempt is checked before this time (0: not locked). */
  readonly lockedUntilMs: number;
  /** Lockouts so far: each one lasts twice as long as the one before. */
  readonly lockouts: number;
  readonly updatedMs: number;
}

export interface ThrottleRule {
  readonly scope: 'account_ip' | 'ip' | 'account';
  readonly maxFailures: number;
  readonly windowMs: number;
  readonly firstLockoutMs: number;
  readonly maxLockoutMs: number;
}

const MINUTE = 60_000;

export const LOGIN_THROTTLE_RULES: readonly ThrottleRule[] = [
  {
    scope: 'account_ip',
    maxFailures: 5,
    windowMs: 15 * MINUTE,
    firstLockoutMs: MINUTE,
    maxLockoutMs: 60 * MINUTE,
  },
  {
    scope: 'ip',
    maxFailures: 50,
    windowMs: 15 * MINUTE,
    firstLockoutMs: 15 * MINUTE,
    maxLockoutMs: 60 * MINUTE,
  },
  {
    scope: 'account',
    maxFailures: 20,
    windowMs: 15 * MINUTE,
    firstLockoutMs: MINUTE,
    maxLockoutMs: 15 * MINUTE,
  },
];

/** After a day without failures a key starts over (no lockout history). */
export const THROTTLE_MEMORY_MS = 24 * 3_600_000;

/** How long the caller must still wait; 0 when not locked. */
export function remainingLockMs(state: ThrottleState | undefined, nowMs: number): number {
  return state === undefined ? 0 : Math.max(0, state.lockedUntilMs - nowMs);
}

/** One more failure: a new window when the old one ended; a lockout when the window is full. */
export function afterFailure(
  state: ThrottleState | undefined,
  nowMs: number,
  rule: ThrottleRule,
): ThrottleState {
  const forgotten = state === undefined || nowMs - state.updatedMs >= THROTTLE_MEMORY_MS;
  const lockouts = forgotten ? 0 : state.lockouts;
  const inWindow = !forgotten && nowMs - state.windowStartMs < rule.windowMs;
  const failures = (inWindow ? state.failures : 0) + 1;
  const windowStartMs = inWindow ? state.windowStartMs : nowMs;
  if (failures < rule.maxFailures)
    return {
      failures,
      windowStartMs,
      lockedUntilMs: forgotten ? 0 : state.lockedUntilMs,
      lockouts,
      updatedMs: nowMs,
    };
  const lockMs = Math.min(rule.firstLockoutMs * 2 ** Math.min(lockouts, 30), rule.maxLockoutMs);
  return {
    failures: 0,
    windowStartMs: nowMs,
    lockedUntilMs: nowMs + lockMs,
    lockouts: lockouts + 1,
    updatedMs: nowMs,
  };
}

export interface ThrottleKey {
  readonly key: string;
  readonly rule: ThrottleRule;
}

const digest = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 32);

/**
 * The counters one sign-in attempt touches. E-mail addresses are kept only as hashes; IPv6
 * addresses count per /64, the block one subscriber usually holds.
 */
export function throttleKeys(email: string, ip: string): ThrottleKey[] {
  const client = clientNetwork(ip);
  const keyOf = (scope: ThrottleRule['scope']): string => {
    switch (scope) {
      case 'account_ip':
        return `login:account_ip:${digest(`${email}\n${client}`)}`;
      case 'ip':
        return `login:ip:${client}`;
      case 'account':
        return `login:account:${digest(email)}`;
    }
  };
  return LOGIN_THROTTLE_RULES.map((rule) => ({ key: keyOf(rule.scope), rule }));
}

/** The unit an address is counted in: an IPv4 address, or an IPv6 /64. */
export function clientNetwork(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped?.[1]) return mapped[1];
  if (!isIPv6(ip)) return ip;
  const [head = '', tail = ''] = ip.toLowerCase().split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  const groups = ip.includes('::')
    ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
