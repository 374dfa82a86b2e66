import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { judgeSession, newSessionTimes, type SessionLifetime } from '../../src/access/session-policy.ts';

const MINUTE = 60_000;
const lifetime: SessionLifetime = { idleMs: 30 * MINUTE, maxMs: 12 * 60 * MINUTE };

describe('session lifetime', () => {
  const start = newSessionTimes(0, lifetime);

  it('starts active and ends after 30 idle minutes', () => {
    assert.equal(judgeSession(start, 29 * MINUTE, lifetime).state, 'active');
    assert.deepEqual(judgeSession(start, 30 * MINUTE, lifetime), { state: 'expired', reason: 'idle' });
  });

  it('writes activity at most once a minute', () => {
    const soon = judgeSession(start, 30_000, lifetime);
    assert.equal(soon.state === 'active' && soon.touch, false);
    const later = judgeSession(start, MINUTE, lifetime);
    assert.equal(later.state === 'active' && later.touch, true);
    assert.equal(later.state === 'active' && later.idleEndsMs, 31 * MINUTE);
  });

  it('ends after 12 hours however active', () => {
    const busy = { ...start, lastSeenMs: 12 * 60 * MINUTE - 1 };
    assert.equal(judgeSession(busy, 12 * 60 * MINUTE - 1, lifetime).state, 'active');
    assert.deepEqual(judgeSession(busy, 12 * 60 * MINUTE, lifetime), {
      state: 'expired',
      reason: 'absolute',
    });
    const near = judgeSession({ ...start, lastSeenMs: 11.9 * 60 * MINUTE }, 11.9 * 60 * MINUTE, lifetime);
    assert.equal(
      near.state === 'active' && near.idleEndsMs,
      start.expiresMs,
      'idle end capped by the absolute end',
    );
  });
});
