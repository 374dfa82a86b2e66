/**
 * Segments reading `consent.*` follow consent changes in real time: a track event or an identify
 * carrying only `context.consent`, and values set through the consent API, each re-evaluate the
 * profile at once, with Audience Entered/Exited in its timeline.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import {
  admin,
  audienceKeys,
  eventually,
  sendOk,
  sharedStore,
  withApp,
  wsUrl,
} from '../support/http-helpers.ts';
import { describeEachStore } from '../support/stores.ts';
import type { TestApp } from '../support/test-app.ts';

interface Profile {
  id: string;
  segments: string[];
  consent: Record<string, unknown>;
}

async function profileOf(t: TestApp, userId: string): Promise<Profile | undefined> {
  const res = await admin(t, 'GET', wsUrl(t, `/profiles/lookup?type=user_id&value=${userId}`));
  return res.statusCode === 200 ? res.json<Profile>() : undefined;
}

async function createReadySegment(t: TestApp, slug: string, definition: string): Promise<void> {
  const created = await admin(t, 'POST', wsUrl(t, '/segments'), { name: slug, slug, definition });
  assert.equal(created.statusCode, 201, created.body);
  await eventually(async () => {
    const res = await admin(t, 'GET', wsUrl(t, `/segments/${slug}`));
    return res.json<{ status: string }>().status === 'ready' ? true : undefined;
  }, `${slug} backfilled`);
}

/** Waits until the profile's memberships say `member`; returns the profile. */
function membership(t: TestApp, userId: string, slug: string, member: boolean): Promise<Profile> {
  return eventually(
    async () => {
      const p = await profileOf(t, userId);
      return p !== undefined && p.segments.includes(slug) === member ? p : undefined;
    },
    `${userId} ${member ? 'in' : 'out of'} ${slug}`,
  );
}

const marketing = (granted: boolean) => ({ consent: { categoryPreferences: { marketing: granted } } });

describeEachStore('consent changes and segment membership', (fixture) => {
  const store = sharedStore(fixture);

  it('a track or identify carrying only consent moves the profile in and out, with audience events', async () => {
    await withApp(await store(), {}, async (t) => {
      await createReadySegment(t, 'marketable', 'consent.marketing = true');
      await sendOk(t, 'identify', { userId: 'c-1', traits: { plan: 'pro' }, context: marketing(true) });
      const member = await membership(t, 'c-1', 'marketable', true);
      await eventually(
        async () =>
          (await audienceKeys(t, member.id, 'Audience Entered')).includes('marketable') ? true : undefined,
        'Audience Entered',
      );

      // A track event of a name no segment reads, carrying the withdrawal.
      await sendOk(t, 'track', { userId: 'c-1', event: 'Unsubscribed', context: marketing(false) });
      const out = await membership(t, 'c-1', 'marketable', false);
      assert.equal(out.consent['marketing'], false);
      await eventually(
        async () =>
          (await audienceKeys(t, member.id, 'Audience Exited')).includes('marketable') ? true : undefined,
        'Audience Exited',
      );
      const size = await admin(t, 'GET', wsUrl(t, '/segments/marketable'));
      assert.equal(size.json<{ size: number }>().size, 0);

      // An identify carrying only consent (no traits) brings it back.
      await sendOk(t, 'identify', { userId: 'c-1', context: marketing(true) });
      await membership(t, 'c-1', 'marketable', true);
    });
  });

  it('values set through the consent API re-evaluate the profile at once', async () => {
    await withApp(await store(), {}, async (t) => {
      // The wiring the composition root does (src/app/build-app.ts).
      t.app.services.consent.onRecorded((ws, profileId) => t.app.audiences.consentChanged(ws, [profileId]));
      await createReadySegment(
        t,
        'loyal-marketable',
        'did "Order Completed" at least 2 times in last 30 days and not consent.marketing = false',
      );
      for (let i = 0; i < 2; i++) await sendOk(t, 'track', { userId: 'c-2', event: 'Order Completed' });
      const member = await membership(t, 'c-2', 'loyal-marketable', true);

      const put = await admin(t, 'PUT', wsUrl(t, `/profiles/${member.id}/consent`), {
        categoryPreferences: { marketing: false },
      });
      assert.equal(put.statusCode, 200, put.body);
      // Decided before the response: no waiting for a later batch or the scheduler.
      assert.deepEqual((await profileOf(t, 'c-2'))?.segments, []);
      await eventually(
        async () =>
          (await audienceKeys(t, member.id, 'Audience Exited')).includes('loyal-marketable')
            ? true
            : undefined,
        'Audience Exited',
      );

      const back = await admin(t, 'PUT', wsUrl(t, `/profiles/${member.id}/consent`), {
        categoryPreferences: { marketing: true },
      });
      assert.equal(back.statusCode, 200, back.body);
      assert.deepEqual((await profileOf(t, 'c-2'))?.segments, ['loyal-marketable']);
    });
  });
});
