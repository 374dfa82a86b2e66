/**
 * Consent end to end: values from events (categoryPreferences, Sec-GPC), from the API, with
 * their history; the latest time wins whatever the arrival order; merges keep both sides'
 * values and unmerge moves them with their events.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { admin, allEvents, expectError, sendOk, sharedStore, withApp } from '../support/http-helpers.ts';
import { describeEachStore } from '../support/stores.ts';
import type { TestApp } from '../support/test-app.ts';
import { drained, eventually, lookup, url } from './privacy-helpers.ts';

interface ConsentView {
  profileId: string;
  categories: string[];
  consent: Record<string, { granted: boolean; source: string; timestamp: string }>;
}

interface HistoryItem {
  category: string;
  granted: boolean;
  source: string;
  timestamp: string;
  messageId: string | null;
  actor: string | null;
}

const prefs = (categoryPreferences: Record<string, unknown>) => ({ consent: { categoryPreferences } });

async function consentOf(t: TestApp, profileId: string): Promise<ConsentView> {
  const res = await admin(t, 'GET', url(t, `/profiles/${profileId}/consent`));
  assert.equal(res.statusCode, 200, res.body);
  return res.json<ConsentView>();
}

async function history(t: TestApp, profileId: string, query = ''): Promise<HistoryItem[]> {
  const res = await admin(t, 'GET', url(t, `/profiles/${profileId}/consent/history${query}`));
  assert.equal(res.statusCode, 200, res.body);
  return res.json<{ items: HistoryItem[] }>().items;
}

const granted = (view: ConsentView): Record<string, boolean> =>
  Object.fromEntries(Object.entries(view.consent).map(([k, v]) => [k, v.granted]));

describeEachStore('consent', (fixture) => {
  const store = sharedStore(fixture);

  it('takes categoryPreferences from events: the latest timestamp wins whatever the arrival order', async () => {
    await withApp(await store(), {}, async (t) => {
      await sendOk(t, 'identify', {
        userId: 'c1',
        messageId: 'c1-late',
        timestamp: '2026-03-02T10:00:00.000Z',
        context: prefs({ Marketing: true, analytics: false, C0004: true, personalization: 'yes' }),
      });
      await sendOk(t, 'track', {
        userId: 'c1',
        event: 'Old choice',
        messageId: 'c1-early',
        timestamp: '2026-03-01T10:00:00.000Z',
        context: prefs({ marketing: false }),
      });
      await drained(t);
      const profile = await lookup(t, 'user_id', 'c1');
      assert.ok(profile);
      assert.deepEqual(profile.consent, { analytics: false, marketing: true });
      const view = await consentOf(t, profile.id);
      assert.deepEqual(view.consent['marketing'], {
        granted: true,
        source: 'event',
        timestamp: '2026-03-02T10:00:00.000Z',
      });
      assert.deepEqual(view.categories, [
        'necessary',
        'analytics',
        'marketing',
        'advertising',
        'personalization',
      ]);
      const items = await history(t, profile.id);
      // Newest first: both values of the later event, then the earlier one.
      assert.deepEqual(
        items
          .map((i) => `${i.messageId} ${i.category}=${String(i.granted)}`)
          .slice(0, 2)
          .sort(),
        ['c1-late analytics=false', 'c1-late marketing=true'],
      );
      assert.equal(
        `${items[2]?.messageId} ${items[2]?.category}=${String(items[2]?.granted)}`,
        'c1-early marketing=false',
      );
      assert.deepEqual((await history(t, profile.id, '?category=marketing&limit=1')).length, 1);

      // A redelivered batch records nothing twice.
      const events = (await t.store.events.readAfter(0, 1000)).filter(
        (e) => e.workspaceId === t.workspace.id,
      );
      await t.app.services.consent.profilesChanged({
        workspaceId: t.workspace.id,
        nowMs: Date.now(),
        events,
        profileOf: new Map(events.map((e) => [e.seq, profile.id])),
        changedProfiles: [profile.id],
        mergedProfiles: [],
        deletedProfiles: [],
        reassignedProfiles: [],
      });
      assert.equal((await history(t, profile.id)).length, 3);
      assert.deepEqual((await lookup(t, 'user_id', 'c1'))?.consent, { analytics: false, marketing: true });
    });
  });

  it('records Sec-GPC: 1 in the event and as a refusal of advertising (source gpc)', async () => {
    await withApp(await store(), {}, async (t) => {
      await sendOk(
        t,
        'track',
        {
          userId: 'g1',
          event: 'Visit',
          messageId: 'gpc-1',
          context: prefs({ advertising: true, marketing: true }),
        },
        { headers: { 'sec-gpc': '1' } },
      );
      await sendOk(
        t,
        'track',
        { userId: 'g2', event: 'Visit', messageId: 'no-gpc' },
        { headers: { 'sec-gpc': '0' } },
      );
      const stored = await allEvents(t);
      const context = (id: string) =>
        stored.find((m) => m['messageId'] === id)?.['context'] as { consent?: Record<string, unknown> };
      assert.deepEqual(context('gpc-1').consent, {
        categoryPreferences: { advertising: true, marketing: true },
        gpc: true,
      });
      assert.equal(context('no-gpc').consent, undefined);
      await drained(t);
      const profile = await lookup(t, 'user_id', 'g1');
      assert.ok(profile);
      const view = await consentOf(t, profile.id);
      assert.equal(view.consent['advertising']?.granted, false);
      assert.equal(view.consent['advertising']?.source, 'gpc');
      assert.equal(view.consent['marketing']?.granted, true);
      assert.deepEqual((await lookup(t, 'user_id', 'g2'))?.consent, {});
    });
  });

  it('a merge keeps the latest value per category of both sides; unmerge takes the values with their events', async () => {
    await withApp(await store(), {}, async (t) => {
      await sendOk(t, 'identify', {
        userId: 'u-m',
        timestamp: '2026-03-01T10:00:00.000Z',
        context: prefs({ marketing: false, personalization: true }),
      });
      await sendOk(t, 'page', {
        anonymousId: 'a-m',
        name: 'Home',
        timestamp: '2026-03-02T10:00:00.000Z',
        context: prefs({ marketing: true }),
      });
      await sendOk(t, 'identify', {
        userId: 'u-m',
        anonymousId: 'a-m',
        timestamp: '2026-03-03T10:00:00.000Z',
      });
      await drained(t);
      const merged = await eventually(async () => {
        const p = await lookup(t, 'user_id', 'u-m');
        return p && p.identities.some((i) => i.value === 'a-m') ? p : undefined;
      }, 'merge');
      assert.deepEqual(merged.consent, { marketing: true, personalization: true });
      assert.equal((await history(t, merged.id)).length, 3);

      const res = await admin(t, 'POST', url(t, `/profiles/${merged.id}/unmerge`), {
        identifier: { type: 'anonymous_id', value: 'a-m' },
      });
      assert.equal(res.statusCode, 200, res.body);
      const after = await lookup(t, 'user_id', 'u-m');
      assert.deepEqual(after?.consent, { marketing: false, personalization: true });
    });
  });

  it('records values from the API with source and actor; an older import never overrides newer values', async () => {
    await withApp(await store(), {}, async (t) => {
      await sendOk(t, 'identify', {
        userId: 'api-1',
        timestamp: '2026-03-02T10:00:00.000Z',
        context: prefs({ marketing: true }),
      });
      await drained(t);
      const profile = await lookup(t, 'user_id', 'api-1');
      assert.ok(profile);
      const older = await admin(t, 'PUT', url(t, `/profiles/${profile.id}/consent`), {
        categoryPreferences: { marketing: false, analytics: true },
        source: 'import:crm',
        timestamp: '2026-01-01T00:00:00.000Z',
      });
      assert.equal(older.statusCode, 200, older.body);
      assert.deepEqual(granted(older.json<ConsentView>()), { analytics: true, marketing: true });
      const now = await admin(t, 'PUT', url(t, `/profiles/${profile.id}/consent`), {
        categoryPreferences: { marketing: false },
      });
      assert.equal(now.statusCode, 200, now.body);
      assert.deepEqual(now.json<ConsentView>().consent['marketing']?.source, 'api');
      assert.deepEqual((await lookup(t, 'user_id', 'api-1'))?.consent, { analytics: true, marketing: false });
      const items = await history(t, profile.id);
      assert.equal(items.length, 4);
      assert.equal(items[0]?.source, 'api');
      assert.match(items[0]?.actor ?? '', /^instance:/);
      assert.equal(items.find((i) => i.source === 'import:crm')?.timestamp, '2026-01-01T00:00:00.000Z');

      const put = (body: unknown, id = profile.id) =>
        admin(t, 'PUT', url(t, `/profiles/${id}/consent`), body);
      expectError(await put({ categoryPreferences: { sale: false } }), 400, 'consent.unknown_category');
      expectError(await put({ categoryPreferences: { marketing: 'no' } }), 400);
      expectError(await put({ categoryPreferences: {} }), 400, 'consent.invalid');
      expectError(
        await put({ categoryPreferences: { marketing: true }, source: 'gpc' }),
        400,
        'consent.invalid',
      );
      expectError(
        await put({ categoryPreferences: { marketing: true }, timestamp: '2999-01-01T00:00:00Z' }),
        400,
        'consent.invalid',
      );
      expectError(
        await put({ categoryPreferences: { marketing: true } }, 'prf_nobody'),
        404,
        'profile.not_found',
      );
      expectError(
        await put({ categoryPreferences: { marketing: true }, timestamp: '2026-02-30T00:00:00Z' }),
        400,
        'consent.invalid',
      );
      // Names match without regard to case, as in events; a time without an offset is UTC.
      const cased = await put({
        categoryPreferences: { Analytics: false },
        source: 'import:crm',
        timestamp: '2026-11-01T08:00:00',
      });
      assert.equal(cased.statusCode, 200, cased.body);
      assert.equal(cased.json<ConsentView>().consent['analytics']?.granted, false);
      assert.equal(cased.json<ConsentView>().consent['analytics']?.timestamp, '2026-11-01T08:00:00.000Z');
    });
  });

  it('an event dated in the future cannot outrank a later withdrawal', async () => {
    await withApp(await store(), {}, async (t) => {
      // No sentAt: the timestamp is stored as given.
      await sendOk(t, 'track', {
        userId: 'u-fut',
        event: 'Visit',
        messageId: 'fut-1',
        timestamp: '2099-01-01T00:00:00Z',
        context: prefs({ marketing: true }),
      });
      await drained(t);
      const profile = await lookup(t, 'user_id', 'u-fut');
      assert.ok(profile);
      assert.deepEqual(profile.consent, { marketing: true });
      const fromEvent = (await consentOf(t, profile.id)).consent['marketing'];
      assert.ok(fromEvent && Date.parse(fromEvent.timestamp) <= Date.now(), JSON.stringify(fromEvent));
      // The event itself is stored as sent.
      const stored = (await allEvents(t)).find((m) => m['messageId'] === 'fut-1');
      assert.equal(stored?.['timestamp'], '2099-01-01T00:00:00.000Z');

      await new Promise((resolve) => setTimeout(resolve, 5));
      const withdrawn = await admin(t, 'PUT', url(t, `/profiles/${profile.id}/consent`), {
        categoryPreferences: { marketing: false },
      });
      assert.equal(withdrawn.statusCode, 200, withdrawn.body);
      assert.deepEqual(granted(withdrawn.json<ConsentView>()), { marketing: false });
      assert.deepEqual((await lookup(t, 'user_id', 'u-fut'))?.consent, { marketing: false });
    });
  });

  it('consent categories are settings of the workspace; segments read consent', async () => {
    await withApp(await store(), {}, async (t) => {
      const defaults = await admin(t, 'GET', url(t, '/settings/consent'));
      assert.deepEqual(defaults.json(), {
        categories: ['necessary', 'analytics', 'marketing', 'advertising', 'personalization'],
        gpcOptOut: ['advertising'],
      });
      expectError(
        await admin(t, 'PUT', url(t, '/settings/consent'), { categories: ['ads'], gpcOptOut: ['sale'] }),
        400,
        'settings.invalid',
      );
      expectError(await admin(t, 'PUT', url(t, '/settings/consent'), { categories: ['Bad Name'] }), 400);
      const put = await admin(t, 'PUT', url(t, '/settings/consent'), {
        categories: ['marketing', 'sale_of_data'],
        gpcOptOut: ['sale_of_data'],
      });
      assert.equal(put.statusCode, 200, put.body);
      await sendOk(
        t,
        'identify',
        { userId: 's1', context: prefs({ marketing: true, analytics: true }) },
        { headers: { 'sec-gpc': '1' } },
      );
      await sendOk(t, 'identify', { userId: 's2', context: prefs({ marketing: false }) });
      await drained(t);
      assert.deepEqual((await lookup(t, 'user_id', 's1'))?.consent, { marketing: true, sale_of_data: false });

      const segment = await admin(t, 'POST', url(t, '/segments'), {
        name: 'Opted in',
        slug: 'opted-in',
        definition: 'consent.marketing = true',
      });
      assert.equal(segment.statusCode, 201, segment.body);
      const size = await eventually(async () => {
        const res = await admin(t, 'GET', url(t, '/segments/opted-in'));
        const body = res.json<{ size: number; backfill?: { status: string } }>();
        return body.backfill?.status === 'backfilling' ? undefined : body.size;
      }, 'segment backfill');
      assert.equal(size, 1);
    });
  });
});
