import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RepeatThrottle } from '../../src/observability/repeat-throttle.ts';

describe('RepeatThrottle', () => {
  it('lets the first occurrence through, then one per interval with the count left out', () => {
    let now = 0;
    const throttle = new RepeatThrottle(10_000, () => now);
    assert.deepEqual(throttle.admit('outage'), { log: true, suppressed: 0 });
    now = 1_000;
    assert.deepEqual(throttle.admit('outage'), { log: false, suppressed: 1 });
    now = 9_999;
    assert.deepEqual(throttle.admit('outage'), { log: false, suppressed: 2 });
    now = 10_000;
    assert.deepEqual(throttle.admit('outage'), { log: true, suppressed: 2 });
    now = 10_001;
    assert.deepEqual(throttle.admit('outage'), { log: false, suppressed: 1 });
  });

  it('counts each kind on its own', () => {
    let now = 0;
    const throttle = new RepeatThrottle(1_000, () => now);
    assert.equal(throttle.admit('a').log, true);
    assert.equal(throttle.admit('b').log, true);
    assert.equal(throttle.admit('a').log, false);
    now = 1_000;
    assert.deepEqual(throttle.admit('b'), { log: true, suppressed: 0 });
    assert.deepEqual(throttle.admit('a'), { log: true, suppressed: 1 });
  });
});
