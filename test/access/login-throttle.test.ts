import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  afterFailure,
  clientNetwork,
  LOGIN_THROTTLE_RULES,
  remainingLockMs,
  throttleKeys,
  THROTTLE_MEMORY_MS,
  type ThrottleRule,
  type ThrottleState,
} from '../../src/access/login-throttle.ts';

const MINUTE = 60_000;
const rule: ThrottleRule = {
  scope: 'account_ip',
  maxFailures: 5,
  windowMs: 15 * MINUTE,
  firstLockoutMs: MINUTE,
  maxLockoutMs: 60 * MINUTE,
};

function fail(times: number, start: ThrottleState | undefined, at: number): ThrottleState | undefined {
  let state = start;
  for (let i = 0; i < times; i++) state = afterFailure(state, at, rule);
  return state;
}

describe('sign-in throttle rules', () => {
  it('locks after 5 failures within 15 minutes, not before', () => {
    const four = fail(4, undefined, 0);
    assert.equal(remainingLockMs(four, 0), 0);
    const five = afterFailure(four, 0, rule);
    assert.equal(remainingLockMs(five, 0), MINUTE);
    assert.equal(remainingLockMs(five, MINUTE), 0);
  });

  it('doubles each lockout up to the cap', () => {
    let state: ThrottleState | undefined;
    const locks: number[] = [];
    let now = 0;
    for (let round = 0; round < 9; round++) {
      state = fail(5, state, now);
      locks.push(remainingLockMs(state, now) / MINUTE);
      now += remainingLockMs(state, now);
    }
    assert.deepEqual(locks, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
  });

  it('forgets failures older than the window, and lockout history after a quiet day', () => {
    const four = fail(4, undefined, 0);
    assert.equal(remainingLockMs(afterFailure(four, 15 * MINUTE, rule), 15 * MINUTE), 0);
    const locked = fail(5, fail(5, undefined, 0), MINUTE);
    assert.equal(locked?.lockouts, 2);
    const later = THROTTLE_MEMORY_MS + 2 * MINUTE;
    assert.equal(afterFailure(locked, later, rule).lockouts, 0);
  });

  it('counts per account and IP, per IP and per account; e-mail addresses only as hashes', () => {
    const keys = throttleKeys('zoe@example.com', '198.51.100.7');
    assert.deepEqual(
      keys.map((k) => k.rule.scope),
      LOGIN_THROTTLE_RULES.map((r) => r.scope),
    );
    assert.ok(keys.every((k) => !k.key.includes('zoe')));
    assert.equal(keys.find((k) => k.rule.scope === 'ip')?.key, 'login:ip:198.51.100.7');
    const other = throttleKeys('zoe@example.com', '198.51.100.8');
    assert.equal(
      other.find((k) => k.rule.scope === 'account')?.key,
      keys.find((k) => k.rule.scope === 'account')?.key,
    );
    assert.notEqual(
      other.find((k) => k.rule.scope === 'account_ip')?.key,
      keys.find((k) => k.rule.scope === 'account_ip')?.key,
    );
  });

  it('counts IPv6 per /64 and IPv4-mapped addresses as IPv4', () => {
    assert.equal(clientNetwork('2001:db8:1:2:3:4:5:6'), '2001:db8:1:2::/64');
    assert.equal(clientNetwork('2001:db8:1:2::9'), '2001:db8:1:2::/64');
    assert.equal(clientNetwork('2001:0db8::1'), '2001:db8:0:0::/64');
    assert.equal(clientNetwork('::1'), '0:0:0:0::/64');
    assert.equal(clientNetwork('::ffff:203.0.113.9'), '203.0.113.9');
    assert.equal(clientNetwork('203.0.113.9'), '203.0.113.9');
  });
});
