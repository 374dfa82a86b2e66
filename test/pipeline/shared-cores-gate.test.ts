import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DEFAULT_SHARED_CORES_POLICY,
  pipelineShare,
  SharedCoresGate,
} from '../../src/pipeline/shared-cores-gate.ts';

describe('the pipeline thread’s share of the cores', () => {
  it('runs flat out while the API thread is lightly loaded, down to a tenth near its capacity', () => {
    const share = (load: number) => pipelineShare(DEFAULT_SHARED_CORES_POLICY, load);
    assert.equal(share(0), 1);
    assert.equal(share(0.5), 1);
    assert.ok(Math.abs(share(0.7) - 0.55) < 1e-9, String(share(0.7)));
    assert.equal(share(0.9), 0.1);
    assert.equal(share(1), 0.1);
  });

  it('rests after a batch in proportion to its length while throttled, and not otherwise', async () => {
    let nowMs = 0;
    const gate = new SharedCoresGate(DEFAULT_SHARED_CORES_POLICY, () => nowMs);
    // Lightly loaded: full batches, no rest.
    let admission = await gate.admit(5_000);
    assert.equal(admission.maxBatch, 5_000);
    nowMs += 100;
    admission.done(5_000);
    const started = performance.now();
    admission = await gate.admit(5_000);
    assert.ok(performance.now() - started < 20, 'no rest while the API thread is idle');
    // Near capacity (share 0.1): batches of 500, then a rest of 9 × the batch's time.
    gate.apiLoad = 0.95;
    admission.done(10);
    admission = await gate.admit(5_000);
    assert.equal(admission.maxBatch, DEFAULT_SHARED_CORES_POLICY.throttledBatch);
    nowMs += 5;
    admission.done(500);
    const resting = performance.now();
    let admitted = false;
    const next = gate.admit(5_000).then((a) => {
      admitted = true;
      return a;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(admitted, false, 'rests 45 ms after a 5 ms batch at a share of 0.1');
    // The API thread calms down: the rest ends at once.
    gate.apiLoad = 0.2;
    const woken = await next;
    assert.ok(performance.now() - resting < 40, 'a lighter load ends the rest');
    assert.equal(woken.maxBatch, 5_000);
  });
});
