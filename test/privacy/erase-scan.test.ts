/**
 * After `suppress_and_erase`, a scan of EVERY table of the schema (listed from the database
 * itself), and on SQLite of the database file and its WAL, finds none of the person's
 * identifiers, e-mail, name, phone, ids or messageIds; later events carrying them are dropped
 * and counted; another person's data is intact.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { it } from 'node:test';
import { admin, sendOk, stats } from '../support/http-helpers.ts';
import { describeEachStore } from '../support/stores.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';
import { drained, eventually, lookup, privacyRequest, url, type ProfileView } from './privacy-helpers.ts';
import { dumpAll, findNeedles } from './store-dump.ts';
import { WebhookReceiver } from '../support/webhook-receiver.ts';

const ZOE = {
  email: 'zoe.victim@example.fr',
  name: 'Zoe Victimova',
  phone: '+33612345678',
  userId: 'zoe-user-91',
  anonymousIds: ['anon-zoe-7f3', 'anon-zoe-2nd'],
};
const BOB = {
  email: 'bob.other@example.com',
  name: 'Bob Keepme',
  userId: 'bob-user-1',
  anonymousId: 'anon-bob',
};

async function seedPerson(t: TestApp, who: typeof ZOE | typeof BOB, tag: string): Promise<string[]> {
  const anonymousIds = 'anonymousIds' in who ? who.anonymousIds : [who.anonymousId];
  const ids = [0, 1, 2, 3, 4, 5].map((i) => `${tag}-msg-${i}`);
  const [first, second] = anonymousIds;
  await sendOk(t, 'page', {
    anonymousId: first,
    name: 'Home',
    messageId: ids[0],
    timestamp: '2026-03-01T10:00:00Z',
  });
  await sendOk(t, 'identify', {
    userId: who.userId,
    anonymousId: first,
    messageId: ids[1],
    timestamp: '2026-03-01T10:01:00Z',
    traits: {
      email: who.email,
      name: who.name,
      plan: 'pro',
      ...('phone' in who ? { phone: who.phone } : {}),
    },
    context: { consent: { categoryPreferences: { marketing: true, analytics: false } } },
  });
  await sendOk(t, 'track', {
    userId: who.userId,
    event: 'Order Completed',
    messageId: ids[2],
    timestamp: '2026-03-01T10:02:00Z',
    properties: { revenue: 120, note: `gift for ${who.name}` },
    context: { traits: { email: who.email } },
  });
  await sendOk(t, 'group', {
    userId: who.userId,
    groupId: 'acme-corp',
    messageId: ids[3],
    timestamp: '2026-03-01T10:03:00Z',
    traits: { name: 'Acme' },
  });
  // A second device, merged later by an identify.
  const other = second ?? `${first}-x`;
  await sendOk(t, 'track', {
    anonymousId: other,
    event: 'Viewed',
    messageId: ids[4],
    timestamp: '2026-03-01T09:00:00Z',
  });
  await sendOk(t, 'identify', {
    userId: who.userId,
    anonymousId: other,
    messageId: ids[5],
    timestamp: '2026-03-01T10:05:00Z',
  });
  return ids;
}

describeEachStore('erasure reaches every table', (fixture) => {
  it('suppress_and_erase leaves nothing of the person in any table (or file); later events are dropped; others intact', async () => {
    const handle = await fixture.fresh();
    const t = await createTestApp(handle.store, { env: { CDP_EGRESS_ALLOW: '127.0.0.1' } });
    const receiver = await WebhookReceiver.start();
    try {
      // A destination receives everyone's events: its deliveries of hers must go too.
      const hook = await admin(t, 'POST', url(t, '/destinations'), {
        type: 'webhook',
        name: 'partner',
        config: { url: receiver.url },
      });
      assert.equal(hook.statusCode, 201, hook.body);
      receiver.useSecret(hook.json<{ config: { secret: string } }>().config.secret);
      const zoeIds = await seedPerson(t, ZOE, 'zoe');
      const bobIds = await seedPerson(t, BOB, 'bob');
      await drained(t);
      await eventually(
        async () => (receiver.messages().some((m) => m['userId'] === ZOE.userId) ? true : undefined),
        'her events delivered',
      );
      const seg = await admin(t, 'POST', url(t, '/segments'), {
        name: 'Pro',
        slug: 'pro',
        definition: 'traits.plan = "pro"',
      });
      assert.equal(seg.statusCode, 201, seg.body);
      const trait = await admin(t, 'POST', url(t, '/computed-traits'), {
        name: 'orders',
        definition: { kind: 'event_count', event: 'Order Completed' },
      });
      assert.equal(trait.statusCode, 201, trait.body);
      await t.app.services.segments.idle();
      await t.app.services.computedTraits.idle();
      // The backfill's Audience Entered events are in the log, and on the timelines, before
      // Bob's count is taken.
      await drained(t);
      const zoe = await eventually(async () => {
        const p = await lookup(t, 'email', ZOE.email);
        return p && p.mergedIds.length > 0 ? p : undefined;
      }, 'zoe merged');
      const bobBefore = (await lookup(t, 'email', BOB.email)) as ProfileView;
      const consent = await admin(t, 'PUT', url(t, `/profiles/${zoe.id}/consent`), {
        categoryPreferences: { personalization: true },
      });
      assert.equal(consent.statusCode, 200, consent.body);
      // A past export, a failed event and a scheduled redelivery of the person's events.
      const exported = await privacyRequest(t, 'export', { type: 'user_id', value: ZOE.userId });
      assert.equal(exported.status, 'completed', JSON.stringify(exported));
      const zoeSeqs = (
        await t.store.events.query({ workspaceId: t.workspace.id, userId: ZOE.userId, limit: 10 })
      ).events.map((e) => e.seq);
      await t.store.failedEvents.record({
        id: 'fe_zoe',
        stage: 'destinations',
        seq: zoeSeqs[0] as number,
        workspaceId: t.workspace.id,
        errorCode: 'pipeline.handler_failed',
        reason: `delivery of ${ZOE.email} failed`,
        attempts: 3,
        failedMs: Date.now(),
      });
      await t.store.consumerState.scheduleNow('destinations', [zoeSeqs[1] as number], Date.now() + 3_600_000);

      const needles = [
        ZOE.email,
        ZOE.name,
        ZOE.phone,
        '612345678',
        ZOE.userId,
        ...ZOE.anonymousIds,
        ...zoeIds,
        zoe.id,
        ...zoe.mergedIds,
      ];
      assert.ok(
        findNeedles(await dumpAll(handle), needles, []).length > 10,
        'the seed left no trace to look for',
      );

      const erased = await privacyRequest(t, 'suppress_and_erase', {
        type: 'email',
        value: '  Zoe.Victim@Example.FR ',
      });
      assert.equal(erased.status, 'completed', JSON.stringify(erased));
      assert.equal(erased.identifier.value, undefined, 'a finished request keeps no identifier value');
      const deleted = (erased.result as { deleted: Record<string, number> }).deleted;
      // Her six events and the Audience Entered the segment's backfill announced for her.
      assert.equal(deleted['events'], 7);
      assert.ok((deleted['destination_deliveries'] ?? 0) >= 6, JSON.stringify(deleted));
      // The partner that received her events is asked to delete them.
      const call = await eventually(
        async () => receiver.messages().find((m) => m['type'] === 'delete'),
        'the deletion call',
      );
      assert.equal(call['userId'], ZOE.userId);
      assert.deepEqual(receiver.problems, []);
      await drained(t);

      // The audit log is append-only and hash-chained: it may name the profile ids an admin
      // acted on (pseudonymous ids from routes), never an identifier or personal data.
      const leftovers = findNeedles(await dumpAll(handle), needles, [zoe.id, ...zoe.mergedIds]);
      assert.deepEqual(leftovers, []);
      if (handle.env['CDP_DATA_DIR'] !== undefined) {
        const dir = handle.env['CDP_DATA_DIR'];
        for (const file of ['cdp.sqlite', 'cdp.sqlite-wal', 'cdp-log.sqlite', 'cdp-log.sqlite-wal']) {
          const full = path.join(dir, file);
          if (!existsSync(full)) continue;
          const bytes = readFileSync(full);
          for (const needle of [ZOE.email, ZOE.name, ZOE.userId, ...ZOE.anonymousIds, zoeIds[2] as string])
            assert.equal(bytes.includes(Buffer.from(needle)), false, `${needle} still in ${file}`);
        }
      }

      // Later events carrying any of the person's identifiers are dropped and counted.
      const before = await stats(t);
      await sendOk(t, 'track', { userId: ZOE.userId, event: 'Back again', messageId: 'zoe-later-1' });
      await sendOk(t, 'track', {
        anonymousId: 'fresh-device',
        event: 'X',
        context: { traits: { email: ZOE.email.toUpperCase() } },
      });
      await sendOk(t, 'batch', {
        batch: [
          { type: 'identify', anonymousId: 'other-device', traits: { phone: ZOE.phone } },
          { type: 'track', userId: BOB.userId, event: 'Still here', messageId: 'bob-later' },
        ],
      });
      const after = await stats(t);
      assert.equal(after.events, before.events + 1);
      assert.equal(after['suppressedEvents'], 3);
      const metrics = await t.app.http.inject({ method: 'GET', url: '/metrics' });
      assert.match(metrics.body, /cdp_ingest_events_total\{outcome="suppressed"\} 3/);
      await drained(t);
      assert.deepEqual(findNeedles(await dumpAll(handle), needles, [zoe.id, ...zoe.mergedIds]), []);
      assert.equal(await lookup(t, 'email', ZOE.email), undefined);

      // The other person is untouched.
      const bob = await eventually(async () => {
        const p = await lookup(t, 'email', BOB.email);
        return p && p.eventCount === bobBefore.eventCount + 1 ? p : undefined;
      }, 'bob');
      assert.equal(bob.id, bobBefore.id);
      assert.deepEqual(bob.traits, bobBefore.traits);
      assert.deepEqual(bob.consent, { analytics: false, marketing: true });
      // His e-mail and name are stored sealed (the lookup and traits above show them intact);
      // his message ids are plain.
      const dump = await dumpAll(handle);
      for (const needle of bobIds)
        assert.ok(
          [...dump.values()].flat().some((row) => row.includes(needle)),
          `${needle} was erased too`,
        );
      const members = await admin(t, 'GET', url(t, '/segments/pro/members'));
      assert.deepEqual(
        members
          .json<{ items: { id?: string; profileId?: string }[] }>()
          .items.map((m) => m.id ?? m.profileId),
        [bob.id],
      );

      // Unsuppress: the person's events are stored again.
      const lifted = await privacyRequest(t, 'unsuppress', { type: 'user_id', value: ZOE.userId });
      assert.equal(lifted.status, 'completed', JSON.stringify(lifted));
      assert.equal((lifted.result as { unsuppressedIdentifiers: number }).unsuppressedIdentifiers, 5);
      await sendOk(t, 'track', { userId: ZOE.userId, event: 'Welcome back' });
      assert.equal((await stats(t)).events, after.events + 1);
    } finally {
      await t.close();
      await receiver.close();
    }
  });
});
