/**
 * Retention with an injected clock: events received longer ago than the workspace's period are
 * deleted (with their timeline rows) in batches, and the run is audited; expired export
 * documents go too.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { createManualClock } from '../../src/shared/clock.ts';
import { admin, expectError, sendOk, sharedStore, stats, withApp } from '../support/http-helpers.ts';
import { describeEachStore } from '../support/stores.ts';
import { drained, lookup, privacyRequest, url } from './privacy-helpers.ts';

const DAY = 86_400_000;

describeEachStore('retention', (fixture) => {
  const store = sharedStore(fixture);

  it('deletes events older than the period with their timeline rows, in batches, and audits it', async () => {
    const clock = createManualClock(Date.parse('2026-01-01T00:00:00Z'));
    await withApp(await store(), { clock }, async (t) => {
      const settings = await admin(t, 'GET', url(t, '/settings/retention'));
      assert.deepEqual(settings.json(), { eventsDays: 730 });
      for (let b = 0; b < 3; b++)
        await sendOk(t, 'batch', {
          batch: Array.from({ length: 400 }, (_, i) => ({
            type: 'track',
            userId: 'old-u',
            event: `Old ${b}-${i}`,
          })),
        });
      await sendOk(t, 'identify', { userId: 'old-u', traits: { plan: 'kept' } });
      clock.advance(700 * DAY);
      await sendOk(t, 'track', { userId: 'old-u', event: 'Recent' });
      await drained(t);
      assert.equal((await stats(t)).events, 1202);

      assert.deepEqual(
        (await t.app.services.retention.runOnce()).workspaces,
        [],
        'nothing is 730 days old yet',
      );
      clock.advance(31 * DAY);
      const run = await t.app.services.retention.runOnce();
      const mine = run.workspaces.find((w) => w.workspaceId === t.workspace.id);
      assert.equal(mine?.eventsDeleted, 1201);
      assert.equal((await stats(t)).events, 1);
      const profile = await lookup(t, 'user_id', 'old-u');
      assert.ok(profile);
      assert.deepEqual(profile.traits, { plan: 'kept' }, 'profiles keep what they learned');
      const timeline = await admin(t, 'GET', url(t, `/profiles/${profile.id}/events`));
      assert.deepEqual(
        timeline.json<{ items: { event?: string }[] }>().items.map((e) => e.event),
        ['Recent'],
      );
      const audit = await admin(t, 'GET', url(t, '/audit-log'));
      const entry = audit
        .json<{ items: { action: string; actor: { kind: string }; details: Record<string, unknown> }[] }>()
        .items.find((e) => e.action === 'retention events deleted');
      assert.equal(entry?.actor.kind, 'system');
      assert.equal(entry?.details['eventsDeleted'], 1201);
      assert.equal(entry?.details['eventsDays'], 730);
      assert.equal(
        (await t.app.services.retention.runOnce()).workspaces.length,
        0,
        'a second run finds nothing',
      );
    });
  });

  it('the period is a setting (null keeps events forever); expired export documents are deleted', async () => {
    const clock = createManualClock(Date.parse('2026-01-01T00:00:00Z'));
    await withApp(await store(), { clock }, async (t) => {
      for (const body of [{ eventsDays: 0 }, { eventsDays: 1.5 }, { days: 3 }, { eventsDays: '30' }])
        expectError(await admin(t, 'PUT', url(t, '/settings/retention'), body), 400, 'settings.invalid');
      const forever = await admin(t, 'PUT', url(t, '/settings/retention'), { eventsDays: null });
      assert.deepEqual(forever.json(), { eventsDays: null });
      await sendOk(t, 'identify', { userId: 'keep-u', traits: { email: 'keep@example.org' } });
      await drained(t);
      const exported = await privacyRequest(t, 'export', { type: 'user_id', value: 'keep-u' });
      clock.advance(3_000 * DAY);
      const run = await t.app.services.retention.runOnce();
      assert.equal(
        run.workspaces.find((w) => w.workspaceId === t.workspace.id),
        undefined,
      );
      assert.ok(run.exportsDeleted >= 1);
      assert.equal((await stats(t)).events, 1);
      expectError(
        await admin(t, 'GET', url(t, `/privacy-requests/${exported.id}/export`)),
        410,
        'privacy_request.export_gone',
      );

      const month = await admin(t, 'PUT', url(t, '/settings/retention'), { eventsDays: 30 });
      assert.deepEqual(month.json(), { eventsDays: 30 });
      const after = await t.app.services.retention.runOnce();
      assert.equal(after.workspaces.find((w) => w.workspaceId === t.workspace.id)?.eventsDeleted, 1);
      assert.equal((await stats(t)).events, 0);
    });
  });
});
