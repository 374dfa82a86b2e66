/**
 * Privacy requests over the contract's routes: 202 then status; the export document holds
 * everything about the person; every request is audited; requests survive a restart.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { createManualClock } from '../../src/shared/clock.ts';
import { GOOD_PASSWORD, memberUser, signIn } from '../support/console-users.ts';
import { admin, expectError, sendOk, sharedStore, withApp } from '../support/http-helpers.ts';
import { describeEachStore } from '../support/stores.ts';
import type { TestApp } from '../support/test-app.ts';
import {
  drained,
  eventually,
  finished,
  lookup,
  privacyRequest,
  url,
  type RequestView,
} from './privacy-helpers.ts';

interface ExportDocument {
  format: string;
  request: { id: string; identifier: { type: string; value: string } };
  found: boolean;
  profiles: {
    id: string;
    traits: Record<string, unknown>;
    identities: { type: string; value: string }[];
    consent: object;
  }[];
  mergedProfileIds: string[];
  identities: { type: string; value: string }[];
  traitHistory: { trait: string; value: unknown; messageId: string }[];
  consentHistory: { category: string; granted: boolean; source: string }[];
  segments: { current: { segment: string }[]; history: { segment: string; change: string }[] };
  merges: unknown[];
  deliveries: unknown[];
  events: { message: { messageId: string; event?: string; properties?: { audience_key?: string } } }[];
}

async function seed(t: TestApp): Promise<void> {
  await sendOk(t, 'page', {
    anonymousId: 'exp-anon',
    name: 'Pricing',
    messageId: 'exp-1',
    timestamp: '2026-02-01T09:00:00Z',
  });
  await sendOk(t, 'identify', {
    userId: 'exp-user',
    anonymousId: 'exp-anon',
    messageId: 'exp-2',
    timestamp: '2026-02-01T09:01:00Z',
    traits: { email: 'Export.Me@Example.org', name: 'Ex Port', plan: 'free' },
    context: { consent: { categoryPreferences: { analytics: true } } },
  });
  await sendOk(t, 'identify', {
    userId: 'exp-user',
    messageId: 'exp-3',
    timestamp: '2026-02-02T09:00:00Z',
    traits: { plan: 'pro' },
  });
  await sendOk(t, 'track', {
    userId: 'exp-user',
    event: 'Upgraded',
    messageId: 'exp-4',
    timestamp: '2026-02-02T09:01:00Z',
  });
  await sendOk(t, 'identify', { userId: 'someone-else', traits: { email: 'else@example.org' } });
  await drained(t);
}

describeEachStore('privacy requests', (fixture) => {
  const store = sharedStore(fixture);

  it('export: 202 with an id, then a completed status and a JSON document of everything about the person', async () => {
    await withApp(await store(), {}, async (t) => {
      await seed(t);
      const seg = await admin(t, 'POST', url(t, '/segments'), {
        name: 'Pro',
        slug: 'pro',
        definition: 'traits.plan = "pro"',
      });
      assert.equal(seg.statusCode, 201, seg.body);
      await t.app.services.segments.idle();

      const res = await admin(t, 'POST', url(t, '/privacy-requests'), {
        type: 'export',
        identifier: { type: 'email', value: 'export.me@example.org ' },
      });
      assert.equal(res.statusCode, 202, res.body);
      const created = res.json<RequestView>();
      assert.match(created.id, /^prq_/);
      assert.equal(created.status, 'pending');
      assert.deepEqual(created.identifier, { type: 'email', value: 'export.me@example.org' });
      const done = await finished(t, created.id);
      assert.equal(done.status, 'completed', JSON.stringify(done));
      assert.ok(done.startedAt !== null && done.finishedAt !== null && done.createdAt <= done.startedAt);
      assert.deepEqual(done.identifier, { type: 'email' });
      assert.equal(done.exportUrl, url(t, `/privacy-requests/${created.id}/export`));
      // Her four events, and the Audience Entered the segment's backfill announced for her.
      assert.equal((done.result as { events: number }).events, 5);

      const download = await admin(t, 'GET', url(t, `/privacy-requests/${created.id}/export`));
      assert.equal(download.statusCode, 200, download.body);
      assert.match(String(download.headers['content-type']), /application\/json/);
      assert.match(String(download.headers['content-disposition']), /attachment; filename="prq_\w+\.json"/);
      const doc = download.json<ExportDocument>();
      assert.equal(doc.format, 'cdp.privacy-export.v1');
      assert.equal(doc.found, true);
      assert.deepEqual(doc.request.identifier, { type: 'email', value: 'export.me@example.org' });
      const [profile] = doc.profiles;
      assert.ok(profile);
      assert.deepEqual(profile.traits, { email: 'Export.Me@Example.org', name: 'Ex Port', plan: 'pro' });
      assert.deepEqual(profile.identities.map((i) => `${i.type}:${i.value}`).sort(), [
        'anonymous_id:exp-anon',
        'email:export.me@example.org',
        'user_id:exp-user',
      ]);
      assert.deepEqual(profile.consent, {
        analytics: { granted: true, source: 'event', timestamp: '2026-02-01T09:01:00.000Z' },
      });
      assert.deepEqual(
        doc.events.map((e) => e.message.messageId).filter((id) => id.startsWith('exp-')),
        ['exp-1', 'exp-2', 'exp-3', 'exp-4'],
      );
      assert.deepEqual(
        doc.events
          .filter((e) => !e.message.messageId.startsWith('exp-'))
          .map((e) => [
            e.message['event'],
            (e.message['properties'] as { audience_key?: string }).audience_key,
          ]),
        [['Audience Entered', 'pro']],
      );
      assert.deepEqual(
        doc.traitHistory.filter((h) => h.trait === 'plan').map((h) => [h.value, h.messageId]),
        [
          ['free', 'exp-2'],
          ['pro', 'exp-3'],
        ],
      );
      assert.deepEqual(
        doc.consentHistory.map((c) => [c.category, c.granted, c.source]),
        [['analytics', true, 'event']],
      );
      assert.deepEqual(
        doc.segments.current.map((s) => s.segment),
        ['pro'],
      );
      assert.deepEqual(
        doc.segments.history.map((s) => [s.segment, s.change]),
        [['pro', 'entered']],
      );
      assert.deepEqual(doc.deliveries, []);
      assert.ok(!JSON.stringify(doc).includes('else@example.org'), 'another person leaked into the export');

      // Audited: the request, its completion, the download of personal data.
      const audit = await admin(t, 'GET', url(t, '/audit-log?limit=50'));
      const entries = audit.json<{ items: { action: string; target: string; details: { kind: string } }[] }>()
        .items;
      const about = entries.filter((e) => e.target.includes(created.id));
      assert.deepEqual(
        about
          .filter((e) => e.details.kind === 'change')
          .map((e) => e.action)
          .sort(),
        ['POST /api/v1/workspaces/:ws/privacy-requests', 'privacy request completed'],
      );
      assert.ok(
        about.some((e) => e.details.kind === 'read' && e.action.endsWith('/:id/export')),
        'the download of the document was not audited',
      );
      assert.ok(
        !JSON.stringify(entries).includes('export.me@example.org'),
        'the audit log holds the identifier',
      );

      // A person nobody knows: a completed export that says so.
      const nobody = await privacyRequest(t, 'export', { type: 'user_id', value: 'never-seen' });
      assert.equal(nobody.status, 'completed');
      const empty = (
        await admin(t, 'GET', url(t, `/privacy-requests/${nobody.id}/export`))
      ).json<ExportDocument>();
      assert.equal(empty.found, false);
      assert.deepEqual(empty.profiles, []);
    });
  });

  it('answers errors with the catalogue codes; lists newest first; needs privacy.manage and PII access', async () => {
    await withApp(await store(), {}, async (t) => {
      expectError(
        await admin(t, 'GET', url(t, '/privacy-requests/prq_nope')),
        404,
        'privacy_request.not_found',
      );
      expectError(
        await admin(t, 'POST', url(t, '/privacy-requests'), {
          type: 'forget',
          identifier: { type: 'email', value: 'a@b.co' },
        }),
        400,
      );
      expectError(
        await admin(t, 'POST', url(t, '/privacy-requests'), {
          type: 'export',
          identifier: { type: 'email', value: 'not an email' },
        }),
        400,
        'profile.invalid_identifier',
      );
      expectError(
        await admin(t, 'POST', url(t, '/privacy-requests'), {
          type: 'export',
          identifier: { type: 'crm_id', value: 'x' },
        }),
        400,
        'profile.invalid_identifier',
      );
      const erase = await privacyRequest(t, 'erase', { type: 'user_id', value: 'gone-already' });
      assert.equal(erase.status, 'completed');
      expectError(
        await admin(t, 'GET', url(t, `/privacy-requests/${erase.id}/export`)),
        410,
        'privacy_request.export_gone',
      );
      const second = await privacyRequest(t, 'export', { type: 'user_id', value: 'second' });
      const page = await admin(t, 'GET', url(t, '/privacy-requests?limit=1'));
      const body = page.json<{ items: RequestView[]; nextCursor: string | null }>();
      assert.deepEqual(
        body.items.map((r) => r.id),
        [second.id],
      );
      assert.ok(body.nextCursor);
      const next = await admin(t, 'GET', url(t, `/privacy-requests?limit=5&cursor=${body.nextCursor}`));
      assert.ok(next.json<{ items: RequestView[] }>().items.some((r) => r.id === erase.id));

      const viewer = await memberUser(t, 'viewer');
      const asViewer = (await signIn(t, viewer.email, GOOD_PASSWORD)).headers;
      expectError(
        await admin(
          t,
          'POST',
          url(t, '/privacy-requests'),
          { type: 'export', identifier: { type: 'user_id', value: 'x' } },
          asViewer,
        ),
        403,
        'auth.forbidden',
      );
      const noPii = await memberUser(t, 'admin', { pii: 'withdraw' });
      const asNoPii = (await signIn(t, noPii.email, GOOD_PASSWORD)).headers;
      expectError(
        await admin(t, 'GET', url(t, `/privacy-requests/${second.id}/export`), undefined, asNoPii),
        403,
        'auth.forbidden',
      );
    });
  });

  it('requests survive a restart: a pending one runs at the next start, a dead runner’s one after its lease', async () => {
    const shared = await store();
    let pendingId = '';
    let deadId = '';
    let workspaceId = '';
    let slug = '';
    await withApp(shared, {}, async (t) => {
      await seed(t);
      workspaceId = t.workspace.id;
      slug = t.workspace.slug;
      await t.app.services.privacyRequests.stop();
      const make = async (value: string) => {
        const res = await admin(t, 'POST', url(t, '/privacy-requests'), {
          type: 'export',
          identifier: { type: 'user_id', value },
        });
        assert.equal(res.statusCode, 202, res.body);
        return res.json<RequestView>().id;
      };
      pendingId = await make('exp-user');
      deadId = await make('someone-else');
      // Another process claimed this one, then died: it stays `running` until its lease ends.
      const claimed = await shared.privacyRequests.claim(Date.now(), 60_000, {
        workspaceId: t.workspace.id,
        id: deadId,
      });
      assert.equal(claimed?.status, 'running');
      await new Promise((r) => setTimeout(r, 200));
      const still = await admin(t, 'GET', url(t, `/privacy-requests/${pendingId}`));
      assert.equal(still.json<RequestView>().status, 'pending');
    });
    const clock = createManualClock(Date.now());
    const request = (id: string) => shared.privacyRequests.get(workspaceId, id);
    await withApp(shared, { clock, workspaceSlug: slug }, async (t) => {
      const done = await finished(t, pendingId);
      assert.equal(done.status, 'completed');
      const notYet = await admin(t, 'GET', url(t, `/privacy-requests/${deadId}`));
      assert.equal(notYet.json<RequestView>().status, 'running');
      clock.advance(61_000);
      t.app.services.privacyRequests.wake();
      const taken = await finished(t, deadId);
      assert.equal(taken.status, 'completed');
      assert.equal((await request(deadId))?.attempts, 2);
      assert.ok(await lookup(t, 'user_id', 'exp-user'));
      await eventually(
        async () => ((await request(pendingId))?.identifierValue === null ? true : undefined),
        'cleared',
      );
    });
  });
});
