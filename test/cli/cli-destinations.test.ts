/** `cdp destinations list|deliveries|retry` over a store a server would share. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { runCdp } from '../e2e/server-process.ts';
import { describeEachStore } from '../support/stores.ts';

const AT = Date.parse('2026-03-01T00:00:00Z');

describeEachStore('cdp destinations', (fixture) => {
  it('lists destinations and failed deliveries, and queues them again', { timeout: 120_000 }, async () => {
    const handle = await fixture.fresh();
    const { store } = handle;
    await store.workspaces.create({ id: 'ws_dcli', slug: 'dcli', name: 'Destinations CLI', createdMs: AT });
    await store.destinations.create({
      id: 'dst_cli',
      workspaceId: 'ws_dcli',
      type: 'webhook',
      name: 'partner',
      config: {
        url: 'https://hooks.example.com/in',
        secret: 'whsec_cli_0123456789abcdef',
        sendDeletions: true,
      },
      filter: null,
      segments: [],
      consentCategories: [],
      enabled: true,
      createdMs: AT,
      updatedMs: AT,
    });
    await store.destinations.enqueue(
      'ws_dcli',
      [{ destinationId: 'dst_cli', eventSeq: 41, profileId: null }],
      AT,
    );
    const [claimed] = await store.destinations.claim('ws_dcli', 'dst_cli', AT, 60_000, 10);
    assert.ok(claimed);
    await store.destinations.settle('ws_dcli', [
      {
        id: claimed.id,
        status: 'failed',
        nextAttemptMs: null,
        attemptMs: AT,
        lastStatus: 410,
        lastError: 'HTTP 410: gone',
      },
    ]);
    await store.close();
    const env = { ...handle.env, CDP_ENCRYPTION_KEY: Buffer.alloc(32, 3).toString('hex') };

    const listed = await runCdp(['destinations', 'list', 'dcli'], env);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(
      listed.stdout,
      /dst_cli\tpartner\tenabled\thttps:\/\/hooks\.example\.com\/in\tqueued 0, delivered 0, failed 1/,
    );
    const failed = await runCdp(
      ['destinations', 'deliveries', 'dcli', 'dst_cli', '--status', 'failed', '--json'],
      env,
    );
    assert.equal(failed.code, 0, failed.stderr);
    const items = JSON.parse(failed.stdout) as { id: number; lastStatus: number; seq: number }[];
    assert.deepEqual(
      items.map((d) => [d.id, d.lastStatus, d.seq]),
      [[claimed.id, 410, 41]],
    );
    const retried = await runCdp(['destinations', 'retry', 'dcli', 'dst_cli', '--json'], env);
    assert.equal(retried.code, 0, retried.stderr);
    assert.deepEqual(JSON.parse(retried.stdout), { requeued: 1 });
    const bad = await runCdp(['destinations', 'deliveries', 'dcli', 'dst_cli', '--status', 'lost'], env);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--status must be one of queued, delivered, failed, dropped/);
    const missing = await runCdp(['destinations', 'retry', 'dcli', 'dst_none'], env);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no destination dst_none/);
  });
});
