import assert from 'node:assert/strict';
import { it } from 'node:test';
import { runCdp } from '../e2e/server-process.ts';
import { describeEachStore } from '../support/stores.ts';

describeEachStore('cdp failed-events', (fixture) => {
  it('lists failed events and schedules their replay in the store', { timeout: 120_000 }, async () => {
    const handle = await fixture.fresh();
    const { store } = handle;
    await store.workspaces.create({ id: 'ws_cli', slug: 'cli-ws', name: 'CLI', createdMs: Date.now() });
    const base = {
      stage: 'profiles',
      workspaceId: 'ws_cli',
      errorCode: 'pipeline.handler_failed',
      reason: 'boom',
      attempts: 5,
    };
    await store.failedEvents.record({ ...base, id: 'fev_a', seq: 11, failedMs: 1000 });
    await store.failedEvents.record({ ...base, id: 'fev_b', seq: 12, failedMs: 2000, stage: 'segments' });
    await store.close();

    const listed = await runCdp(['failed-events', 'list', 'cli-ws', '--json'], handle.env);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(
      (JSON.parse(listed.stdout) as { id: string }[]).map((f) => f.id),
      ['fev_b', 'fev_a'],
    );

    const one = await runCdp(['failed-events', 'replay', 'cli-ws', 'fev_a'], handle.env);
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stdout, /scheduled fev_a/);
    const rest = await runCdp(['failed-events', 'replay', 'cli-ws', '--stage', 'segments'], handle.env);
    assert.match(rest.stdout, /scheduled 1 failed events/);
    const missing = await runCdp(['failed-events', 'replay', 'cli-ws', 'fev_nope'], handle.env);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /no failed event "fev_nope"/);

    const reopened = await handle.reopen();
    try {
      assert.deepEqual(await reopened.consumerState.dueRedeliveries('profiles', Date.now() + 1000, 10), [
        { seq: 11, attempt: 0 },
      ]);
      assert.deepEqual(await reopened.consumerState.dueRedeliveries('segments', Date.now() + 1000, 10), [
        { seq: 12, attempt: 0 },
      ]);
      assert.equal(await reopened.failedEvents.countFailed('ws_cli'), 0);
      const empty = await runCdp(['failed-events', 'list', 'cli-ws'], handle.env);
      assert.match(empty.stdout, /no failed events/);
    } finally {
      await reopened.close();
    }
  });
});
