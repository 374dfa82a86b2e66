import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RefreshingCache } from '../../src/shared/refreshing-cache.ts';

/** A load whose answer the test releases, counting calls. */
function controlledLoads(): {
  load: () => Promise<string>;
  calls: () => number;
  resolve: (value: string) => void;
  reject: (error: Error) => void;
} {
  const waiting: { resolve: (v: string) => void; reject: (e: Error) => void }[] = [];
  let calls = 0;
  return {
    load: () => {
      calls += 1;
      return new Promise<string>((resolve, reject) => waiting.push({ resolve, reject }));
    },
    calls: () => calls,
    resolve: (value) => waiting.shift()?.resolve(value),
    reject: (error) => waiting.shift()?.reject(error),
  };
}

/** Loads 'v1' under 'k'. */
async function primed(c: RefreshingCache<string>, loads: ReturnType<typeof controlledLoads>): Promise<void> {
  const first = c.get('k', loads.load);
  loads.resolve('v1');
  assert.equal(await first, 'v1');
}

describe('RefreshingCache', () => {
  let nowMs = 0;
  const cache = (onRefreshError?: (error: unknown) => void): RefreshingCache<string> =>
    new RefreshingCache<string>({
      freshMs: 100,
      maxStaleMs: 1_000,
      maxEntries: 3,
      now: () => nowMs,
      ...(onRefreshError ? { onRefreshError } : {}),
    });

  it('loads once for concurrent first callers, then answers fresh values from memory', async () => {
    nowMs = 0;
    const c = cache();
    const loads = controlledLoads();
    const first = c.get('k', loads.load);
    const second = c.get('k', loads.load);
    assert.equal(loads.calls(), 1);
    loads.resolve('v1');
    assert.deepEqual(await Promise.all([first, second]), ['v1', 'v1']);
    nowMs = 99;
    assert.equal(await c.get('k', loads.load), 'v1');
    assert.equal(loads.calls(), 1);
  });

  it('answers a stale value at once and refreshes it behind the caller, once', async () => {
    nowMs = 0;
    const c = cache();
    const loads = controlledLoads();
    await primed(c, loads);
    nowMs = 500;
    // The load is still pending: an answer that waited for it could not come back here.
    assert.equal(await c.get('k', loads.load), 'v1');
    assert.equal(await c.get('k', loads.load), 'v1');
    assert.equal(loads.calls(), 2);
    loads.resolve('v2');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(await c.get('k', loads.load), 'v2');
    assert.equal(loads.calls(), 2);
  });

  it('waits for the load when the value is older than maxStaleMs', async () => {
    nowMs = 0;
    const c = cache();
    const loads = controlledLoads();
    await primed(c, loads);
    nowMs = 1_000;
    let settled = false;
    const answer = c.get('k', loads.load).then((v) => {
      settled = true;
      return v;
    });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(settled, false);
    loads.resolve('v2');
    assert.equal(await answer, 'v2');
  });

  it('keeps the stale value when a refresh fails and tries again on the next call', async () => {
    nowMs = 0;
    const errors: unknown[] = [];
    const c = cache((error) => errors.push(error));
    const loads = controlledLoads();
    await primed(c, loads);
    nowMs = 200;
    assert.equal(await c.get('k', loads.load), 'v1');
    loads.reject(new Error('store down'));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(errors.length, 1);
    assert.equal(await c.get('k', loads.load), 'v1');
    assert.equal(loads.calls(), 3);
    // A first load that fails rejects: there is nothing to answer with.
    const missing = c.get('other', loads.load);
    loads.resolve('v-retry');
    loads.reject(new Error('store down'));
    await assert.rejects(missing, /store down/);
  });

  it('forgets on clear and delete, and a load begun before does not store its stale answer', async () => {
    nowMs = 0;
    const c = cache();
    const loads = controlledLoads();
    const before = c.get('k', loads.load);
    c.clear();
    loads.resolve('old');
    assert.equal(await before, 'old');
    assert.equal(c.fresh('k'), undefined);
    c.set('k', 'set');
    assert.equal(c.fresh('k'), 'set');
    c.delete('k');
    assert.equal(c.fresh('k'), undefined);
  });

  it('starts over past maxEntries', async () => {
    nowMs = 0;
    const c = cache();
    for (const key of ['a', 'b', 'c']) c.set(key, key);
    c.set('d', 'd');
    assert.equal(c.fresh('a'), undefined);
    assert.equal(c.fresh('d'), 'd');
  });
});
