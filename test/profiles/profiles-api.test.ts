/**
 * Profiles end to end over HTTP: events in through the Tracking API, the profiles stage running
 * in the app's pipeline, profiles out through the admin API.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import {
  admin,
  drained,
  eventually,
  expectError,
  sendOk,
  sharedStore,
  withApp,
} from '../support/http-helpers.ts';
import { describeEachStore } from '../support/stores.ts';
import type { TestApp } from '../support/test-app.ts';

interface Profile {
  id: string;
  identities: { type: string; value: string }[];
  traits: Record<string, unknown>;
  traitSources: Record<string, { sourceId: string }>;
  mergedIds: string[];
  accounts: string[];
  eventCount: number;
  computed: object;
  segments: string[];
  consent: object;
  createdAt: string;
  updatedAt: string;
}

const url = (t: TestApp, rest: string) => `/api/v1/workspaces/${t.workspace.slug}${rest}`;

async function lookup(t: TestApp, type: string, value: string, auth = t.adminHeaders) {
  return admin(
    t,
    'GET',
    url(t, `/profiles/lookup?type=${type}&value=${encodeURIComponent(value)}`),
    undefined,
    auth,
  );
}

async function profileWhen(
  t: TestApp,
  type: string,
  value: string,
  done: (p: Profile) => boolean,
): Promise<Profile> {
  return eventually(async () => {
    const res = await lookup(t, type, value);
    if (res.statusCode !== 200) return undefined;
    const profile = res.json<Profile>();
    return done(profile) ? profile : undefined;
  }, `${type}=${value}`);
}

async function token(t: TestApp, role: string): Promise<{ authorization: string }> {
  const res = await admin(t, 'POST', url(t, '/tokens'), { name: role, role });
  return { authorization: `Bearer ${res.json<{ token: string }>().token}` };
}

describeEachStore('profiles API', (fixture) => {
  const store = sharedStore(fixture);

  it('anonymous history joins the profile on identify; lookup by any identifier, normalized', async () => {
    await withApp(await store(), {}, async (t) => {
      await sendOk(t, 'page', { anonymousId: 'anon-1', name: 'Home', timestamp: '2026-01-01T10:00:00Z' });
      await sendOk(t, 'track', {
        anonymousId: 'anon-1',
        event: 'Product Viewed',
        timestamp: '2026-01-01T10:01:00Z',
      });
      await sendOk(t, 'identify', {
        anonymousId: 'anon-1',
        userId: 'user-1',
        traits: { email: '  Zoe@Example.FR ', name: 'Zoé', plan: 'free' },
        timestamp: '2026-01-01T10:02:00Z',
      });
      const profile = await profileWhen(t, 'user_id', 'user-1', (p) => p.eventCount === 3);
      assert.deepEqual(profile.identities.map((i) => `${i.type}:${i.value}`).sort(), [
        'anonymous_id:anon-1',
        'email:zoe@example.fr',
        'user_id:user-1',
      ]);
      assert.deepEqual(profile.traits, { email: '  Zoe@Example.FR ', name: 'Zoé', plan: 'free' });
      for (const key of ['computed', 'segments', 'consent', 'createdAt', 'updatedAt'])
        assert.ok(key in profile, key);
      const byEmail = await lookup(t, 'email', 'ZOE@example.fr');
      assert.equal(byEmail.json<Profile>().id, profile.id);
      const byAnon = await lookup(t, 'anonymous_id', 'anon-1');
      assert.equal(byAnon.json<Profile>().id, profile.id);
      const timeline = await admin(t, 'GET', url(t, `/profiles/${profile.id}/events?limit=2`));
      const page = timeline.json<{ items: { type: string }[]; nextCursor: string }>();
      assert.deepEqual(
        page.items.map((e) => e.type),
        ['identify', 'track'],
      );
      const rest = await admin(t, 'GET', url(t, `/profiles/${profile.id}/events?cursor=${page.nextCursor}`));
      assert.deepEqual(
        rest.json<{ items: { type: string }[] }>().items.map((e) => e.type),
        ['page'],
      );
      const tracks = await admin(t, 'GET', url(t, `/profiles/${profile.id}/events?type=track`));
      assert.equal(tracks.json<{ items: unknown[] }>().items.length, 1);
      const stats = await admin(t, 'GET', url(t, '/stats'));
      assert.equal(stats.json<{ profiles: number }>().profiles, 1);
    });
  });

  it('two devices of one user merge; the merged id resolves to the survivor; the graph shows why', async () => {
    await withApp(await store(), {}, async (t) => {
      await sendOk(t, 'track', { anonymousId: 'phone', event: 'A', timestamp: '2026-01-01T10:00:00Z' });
      await sendOk(t, 'track', { anonymousId: 'laptop', event: 'B', timestamp: '2026-01-01T11:00:00Z' });
      await drained(t);
      const laptop = (await lookup(t, 'anonymous_id', 'laptop')).json<Profile>();
      await sendOk(t, 'identify', { anonymousId: 'phone', userId: 'u-7', timestamp: '2026-01-01T12:00:00Z' });
      await sendOk(t, 'identify', {
        anonymousId: 'laptop',
        userId: 'u-7',
        timestamp: '2026-01-01T13:00:00Z',
      });
      const merged = await profileWhen(t, 'user_id', 'u-7', (p) => p.eventCount === 4);
      assert.notEqual(merged.id, laptop.id, 'the oldest profile (the phone) survives');
      assert.ok(merged.mergedIds.includes(laptop.id));
      const viaOld = await admin(t, 'GET', url(t, `/profiles/${laptop.id}`));
      assert.equal(viaOld.json<Profile>().id, merged.id);
      const graph = (await admin(t, 'GET', url(t, `/profiles/${merged.id}/graph`))).json<{
        identifiers: { type: string; value: string; linkedBy: { messageId: string } }[];
        merges: { survivorId: string; mergedId: string; event: { timestamp: string } }[];
      }>();
      assert.equal(graph.identifiers.length, 3);
      assert.deepEqual(
        graph.merges.map((m) => [m.survivorId, m.mergedId, m.event.timestamp]),
        [[merged.id, laptop.id, '2026-01-01T13:00:00.000Z']],
      );
    });
  });

  it('traits: latest timestamp wins whatever the arrival order; a source ranked first wins; history kept', async () => {
    await withApp(await store(), {}, async (t) => {
      await sendOk(t, 'identify', {
        userId: 'u-1',
        traits: { plan: 'pro' },
        timestamp: '2026-02-01T00:00:00Z',
      });
      await sendOk(t, 'identify', {
        userId: 'u-1',
        traits: { plan: 'free' },
        timestamp: '2026-01-01T00:00:00Z',
      });
      const profile = await profileWhen(t, 'user_id', 'u-1', (p) => p.eventCount === 2);
      assert.equal(profile.traits['plan'], 'pro', 'the older value arriving later does not win');
      const history = (
        await admin(t, 'GET', url(t, `/profiles/${profile.id}/traits/history?trait=plan`))
      ).json<{
        items: { value: string; timestamp: string }[];
      }>();
      assert.deepEqual(
        history.items.map((h) => [h.value, h.timestamp]),
        [
          ['pro', '2026-02-01T00:00:00.000Z'],
          ['free', '2026-01-01T00:00:00.000Z'],
        ],
      );

      // The CRM (another source) ranked first for `name`: its older value beats the web's newer one.
      const crm = (await admin(t, 'POST', url(t, '/sources'), { name: 'crm', type: 'http' })).json<{
        id: string;
        writeKey: string;
      }>();
      const put = await admin(t, 'PUT', url(t, '/settings/profiles'), { sourcePriority: { name: [crm.id] } });
      assert.equal(put.statusCode, 200, put.body);
      await sendOk(
        t,
        'identify',
        { userId: 'u-1', traits: { name: 'Zoé Martin' }, timestamp: '2026-01-05T00:00:00Z' },
        { auth: `Basic ${Buffer.from(`${crm.writeKey}:`).toString('base64')}` },
      );
      await sendOk(t, 'identify', {
        userId: 'u-1',
        traits: { name: 'zoe' },
        timestamp: '2026-03-01T00:00:00Z',
      });
      const after = await profileWhen(t, 'user_id', 'u-1', (p) => p.eventCount === 4);
      assert.equal(after.traits['name'], 'Zoé Martin');
      assert.equal(after.traitSources['name']?.sourceId, crm.id);
      const bad = await admin(t, 'PUT', url(t, '/settings/profiles'), { sourcePriority: { name: 'crm' } });
      expectError(bad, 400, 'settings.invalid');
    });
  });

  it('without PII access identities and PII traits are masked; with it, the read is audited', async () => {
    await withApp(await store(), {}, async (t) => {
      await sendOk(t, 'identify', {
        userId: 'u-9',
        traits: { email: 'zoe@example.fr', plan: 'pro', phone: '+33612345678' },
      });
      const profile = await profileWhen(t, 'user_id', 'u-9', () => true);
      const analyst = await token(t, 'analyst');
      const masked = (
        await admin(t, 'GET', url(t, `/profiles/${profile.id}`), undefined, analyst)
      ).json<Profile>();
      assert.equal(masked.traits['email'], 'z***@e***.fr');
      assert.equal(masked.traits['plan'], 'pro');
      assert.equal(masked.traits['phone'], '+33*******78');
      assert.ok(masked.identities.some((i) => i.type === 'email' && i.value === 'z***@e***.fr'));
      const marketer = await token(t, 'marketer');
      const clear = (
        await admin(t, 'GET', url(t, `/profiles/${profile.id}`), undefined, marketer)
      ).json<Profile>();
      assert.equal(clear.traits['email'], 'zoe@example.fr');
      const audit = (await admin(t, 'GET', url(t, '/audit-log'))).json<{
        items: { action: string; details: { kind: string } }[];
      }>();
      assert.ok(
        audit.items.some(
          (e) => e.action === 'GET /api/v1/workspaces/:ws/profiles/:id' && e.details.kind === 'read',
        ),
      );
      // Looking someone up by e-mail tells whether they are here, masked or not: audited for
      // every role, found or not, with the profile found and never the address. A lookup by a
      // user id without PII access reveals nothing personal and is not.
      const found = await lookup(t, 'email', ' Zoe@Example.fr ', analyst);
      assert.equal(found.statusCode, 200, found.body);
      assert.equal(found.json<Profile>().traits['email'], 'z***@e***.fr');
      expectError(await lookup(t, 'email', 'nobody@example.fr', analyst), 404, 'profile.not_found');
      assert.equal((await lookup(t, 'user_id', 'u-9', analyst)).statusCode, 200);
      const entries = (await admin(t, 'GET', url(t, '/audit-log?limit=200'))).json<{
        items: { action: string; target: string; actor: { role: string }; details: { kind: string } }[];
      }>().items;
      const lookups = entries.filter(
        (e) => e.action === 'GET /api/v1/workspaces/:ws/profiles/lookup' && e.actor.role === 'analyst',
      );
      assert.deepEqual(lookups.map((e) => [JSON.parse(e.target), e.details.kind]).reverse(), [
        [{ ws: t.workspace.slug, identifierType: 'email', profileId: profile.id }, 'read'],
        [{ ws: t.workspace.slug, identifierType: 'email', result: 'none' }, 'read'],
      ]);
      assert.ok(!/zoe|nobody/i.test(JSON.stringify(lookups)));
      // A viewer may not unmerge.
      const viewer = await token(t, 'viewer');
      const forbidden = await admin(
        t,
        'POST',
        url(t, `/profiles/${profile.id}/unmerge`),
        { identifier: { type: 'user_id', value: 'u-9' } },
        viewer,
      );
      expectError(forbidden, 403, 'auth.forbidden');
    });
  });

  it('unmerge: an over-merged shared device is unlinked and the profile splits, traits recomputed', async () => {
    await withApp(await store(), {}, async (t) => {
      // Two people on one tablet, each identified by e-mail only: the tablet merges them.
      await sendOk(t, 'identify', {
        anonymousId: 'tablet',
        traits: { email: 'ann@example.com', plan: 'pro' },
        timestamp: '2026-01-01T00:00:00Z',
      });
      await sendOk(t, 'identify', {
        anonymousId: 'tablet',
        traits: { email: 'bob@example.com', plan: 'free' },
        timestamp: '2026-01-02T00:00:00Z',
      });
      const merged = await profileWhen(t, 'email', 'ann@example.com', (p) => p.eventCount === 2);
      assert.equal((await lookup(t, 'email', 'bob@example.com')).json<Profile>().id, merged.id);
      const res = await admin(t, 'POST', url(t, `/profiles/${merged.id}/unmerge`), {
        identifier: { type: 'anonymous_id', value: 'tablet' },
      });
      assert.equal(res.statusCode, 200, res.body);
      const ann = (await lookup(t, 'email', 'ann@example.com')).json<Profile>();
      const bob = (await lookup(t, 'email', 'bob@example.com')).json<Profile>();
      assert.notEqual(ann.id, bob.id);
      assert.equal(ann.traits['plan'], 'pro');
      assert.equal(bob.traits['plan'], 'free');
      expectError(await lookup(t, 'anonymous_id', 'tablet'), 404, 'profile.not_found');
      // Later events with the tablet id never merge them again.
      await sendOk(t, 'identify', { anonymousId: 'tablet', traits: { email: 'ann@example.com' } });
      await sendOk(t, 'identify', { anonymousId: 'tablet', traits: { email: 'bob@example.com' } });
      await drained(t);
      assert.notEqual(
        (await lookup(t, 'email', 'ann@example.com')).json<Profile>().id,
        (await lookup(t, 'email', 'bob@example.com')).json<Profile>().id,
      );
      const again = await admin(t, 'POST', url(t, `/profiles/${ann.id}/unmerge`), {
        identifier: { type: 'email', value: 'bob@example.com' },
      });
      expectError(again, 409, 'profile.identifier_not_linked');
    });
  });

  it('group calls build account profiles with their members', async () => {
    await withApp(await store(), {}, async (t) => {
      await sendOk(t, 'group', { userId: 'u-a', groupId: 'acme', traits: { name: 'Acme', employees: 50 } });
      await sendOk(t, 'group', { userId: 'u-b', groupId: 'acme', traits: { employees: 55 } });
      const a = await profileWhen(t, 'user_id', 'u-a', (p) => p.accounts.length === 1);
      const accountId = a.accounts[0] ?? '';
      await profileWhen(t, 'user_id', 'u-b', (p) => p.accounts.length === 1);
      const account = (await admin(t, 'GET', url(t, `/profiles/${accountId}`))).json<
        Profile & { kind: string }
      >();
      assert.equal(account.kind, 'account');
      assert.deepEqual(account.traits, { employees: 55, name: 'Acme' });
      const members = (await admin(t, 'GET', url(t, `/accounts/${accountId}/members`))).json<{
        items: unknown[];
      }>();
      assert.equal(members.items.length, 2);
      const accounts = (await admin(t, 'GET', url(t, '/profiles?kind=account'))).json<{ items: Profile[] }>();
      assert.deepEqual(
        accounts.items.map((p) => p.id),
        [accountId],
      );
    });
  });

  it('search by identifier prefix and by trait values; bad input answers 4xx', async () => {
    await withApp(await store(), {}, async (t) => {
      await sendOk(t, 'identify', { userId: 'cust-1', traits: { plan: 'pro', seats: 3, vip: true } });
      await sendOk(t, 'identify', { userId: 'cust-2', traits: { plan: 'free', seats: 1, vip: false } });
      await sendOk(t, 'identify', { userId: 'other-3', traits: { plan: 'pro', seats: '3' } });
      await drained(t);
      const ids = async (query: string) =>
        (await admin(t, 'GET', url(t, `/profiles?${query}`)))
          .json<{ items: Profile[] }>()
          .items.map((p) => p.identities.find((i) => i.type === 'user_id')?.value)
          .sort();
      assert.deepEqual(await ids('identifier=cust-&identifierType=user_id'), ['cust-1', 'cust-2']);
      assert.deepEqual(await ids('identifier=cust-'), ['cust-1', 'cust-2']);
      assert.deepEqual(await ids('traits.plan=pro'), ['cust-1', 'other-3']);
      assert.deepEqual(await ids('traits.seats=3'), ['cust-1']);
      assert.deepEqual(await ids('traits.seats=%223%22'), ['other-3']);
      assert.deepEqual(await ids('traits.vip=true&traits.plan=pro'), ['cust-1']);
      assert.deepEqual(await ids("traits.plan=pro'%20OR%201=1--"), []);
      expectError(await admin(t, 'GET', url(t, '/profiles?plan=pro')), 400, 'request.invalid_body');
      expectError(await lookup(t, 'fingerprint', 'x'), 400, 'profile.invalid_identifier');
      expectError(await lookup(t, 'email', 'not-an-email'), 400, 'profile.invalid_identifier');
      expectError(await lookup(t, 'email', 'nobody@example.com'), 404, 'profile.not_found');
      expectError(await admin(t, 'GET', url(t, '/profiles/prf_nope')), 404, 'profile.not_found');
      expectError(
        await admin(t, 'PUT', url(t, '/settings/identity'), { limits: { email: { max: -1 } } }),
        400,
        'settings.invalid',
      );
    });
  });
});

describeEachStore(
  'profiles: bad input is bounded and recorded, never a crash or an over-merge',
  (fixture) => {
    const store = sharedStore(fixture);

    it('thousands of identifiers, 2 KB values, hundreds of traits, wrong shapes', async () => {
      await withApp(await store(), {}, async (t) => {
        // About as many identifiers as fit in one 32 KB event, then hundreds of traits.
        const externalIds = Array.from({ length: 800 }, (_, i) => ({ id: `d${i}`, type: 'anonymous_id' }));
        await sendOk(t, 'identify', { userId: 'bounded', context: { externalIds } });
        await sendOk(t, 'identify', {
          userId: 'bounded',
          traits: Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`t${i}`, i])),
        });
        await sendOk(t, 'identify', {
          userId: 'long-user',
          traits: { email: `${'x'.repeat(2048)}@example.com` },
        });
        await sendOk(t, 'identify', {
          anonymousId: 'shape-anon',
          traits: { email: ['a@b.co'], phone: { n: 1 } },
        });
        await sendOk(t, 'identify', { userId: 'big-trait', traits: { blob: 'y'.repeat(20_000), ok: 1 } });
        await drained(t);
        const bounded = (await lookup(t, 'user_id', 'bounded')).json<Profile>();
        assert.equal(Object.keys(bounded.traits).length, 200, 'traits bounded per event');
        assert.ok(bounded.identities.length <= 25, `${bounded.identities.length} identifiers linked`);
        expectError(
          await lookup(t, 'email', `${'x'.repeat(2048)}@example.com`),
          400,
          'profile.invalid_identifier',
        );
        const long = (await lookup(t, 'user_id', 'long-user')).json<Profile>();
        assert.deepEqual(
          long.identities.map((i) => i.type),
          ['user_id'],
          'the 2 KB e-mail never links',
        );
        const shape = (await lookup(t, 'anonymous_id', 'shape-anon')).json<Profile>();
        assert.deepEqual(
          shape.identities.map((i) => i.type),
          ['anonymous_id'],
        );
        const big = (await lookup(t, 'user_id', 'big-trait')).json<Profile>();
        assert.deepEqual(Object.keys(big.traits), ['ok']);
        const quality = (await admin(t, 'GET', url(t, '/identity/quality'))).json<{
          items: { reason: string; count: number }[];
        }>();
        const reasons = new Map(quality.items.map((q) => [q.reason, q.count]));
        for (const reason of [
          'identity.too_many_identifiers',
          'identity.too_long',
          'identity.invalid_shape',
          'traits.too_many',
          'traits.value_too_large',
        ])
          assert.ok((reasons.get(reason) ?? 0) > 0, `${reason} counted: ${JSON.stringify(quality.items)}`);
        assert.equal((await admin(t, 'GET', url(t, '/stats'))).json<{ profiles: number }>().profiles, 4);
      });
    });
  },
);
