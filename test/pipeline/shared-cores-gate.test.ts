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
    const within = <T>(promise: Promise<T>, ms: number): Promise<T | 'still waiting'> =>
      Promise.race([
        promise,
        new Promise<'still waiting'>((resolve) => setTimeout(() => resolve('still waiting'), ms)),
      ]);
    // Lightly loaded: full batches, no rest however long the batch took.
    let admission = await gate.admit(5_000);
    assert.equal(admission.maxBatch, 5_000);
    nowMs += 10_000;
    admission.done(5_000);
    const next = await within(gate.admit(5_000), 5_000);
    assert.notEqual(next, 'still waiting', 'no rest while the API thread is idle');
    admission = next as Exclude<typeof next, 'still waiting'>;
    // Near capacity (share 0.1): batches of 500, then a rest of 9 × the batch's time (90 s here).
    gate.apiLoad = 0.95;
    admission.done(10);
    admission = await gate.admit(5_000);
    assert.equal(admission.maxBatch, DEFAULT_SHARED_CORES_POLICY.throttledBatch);
    nowMs += 10_000;
    admission.done(500);
    const resting = gate.admit(5_000);
    assert.equal(await within(resting, 200), 'still waiting', 'rests after a batch while throttled');
    // The API thread calms down: the rest ends at once, and batches are full again.
    gate.apiLoad = 0.2;
    const woken = await within(resting, 5_000);
    assert.notEqual(woken, 'still waiting', 'a lighter load ends the rest');
    assert.equal((woken as Exclude<typeof woken, 'still waiting'>).maxBatch, 5_000);
  });
});
