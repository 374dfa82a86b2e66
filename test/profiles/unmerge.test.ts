/**
 * Unmerge over HTTP: which side of a split keeps the profile's id, the merge records after it,
 * and undoing an unlink.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { admin, drained, expectError, sendOk, sharedStore, withApp, wsUrl } from '../support/http-helpers.ts';
import { describeEachStore } from '../support/stores.ts';
import type { TestApp } from '../support/test-app.ts';

interface Profile {
  id: string;
  identities: { type: string; value: string }[];
  traits: Record<string, unknown>;
  mergedIds: string[];
  eventCount: number;
}

interface Graph {
  mergedIds: string[];
  merges: { survivorId: string; mergedId: string }[];
}

async function lookup(t: TestApp, type: string, value: string) {
  return admin(t, 'GET', wsUrl(t, `/profiles/lookup?type=${type}&value=${encodeURIComponent(value)}`));
}

async function profile(t: TestApp, id: string): Promise<Profile> {
  const res = await admin(t, 'GET', wsUrl(t, `/profiles/${id}`));
  assert.equal(res.statusCode, 200, res.body);
  return res.json<Profile>();
}

async function graph(t: TestApp, id: string): Promise<Graph> {
  return (await admin(t, 'GET', wsUrl(t, `/profiles/${id}/graph`))).json<Graph>();
}

const anonIds = (p: Profile) => p.identities.filter((i) => i.type === 'anonymous_id').map((i) => i.value);

describeEachStore('unmerge', (fixture) => {
  const store = sharedStore(fixture);

  it('the side holding the event that created the profile keeps its id', async () => {
    await withApp(await store(), {}, async (t) => {
      await sendOk(t, 'identify', {
        anonymousId: 'D1',
        traits: { email: 'fam@x.com', name: 'Dad' },
        timestamp: '2026-11-10T10:00:00Z',
      });
      await sendOk(t, 'identify', {
        anonymousId: 'D2',
        traits: { email: 'FAM@x.com', name: 'Kid' },
        timestamp: '2026-11-11T10:00:00Z',
      });
      await drained(t);
      const family = (await lookup(t, 'email', 'fam@x.com')).json<Profile>();
      assert.deepEqual(anonIds(family).sort(), ['D1', 'D2']);

      const res = await admin(t, 'POST', wsUrl(t, `/profiles/${family.id}/unmerge`), {
        identifier: { type: 'email', value: 'Fam@X.com' },
      });
      assert.equal(res.statusCode, 200, res.body);
      const dad = await profile(t, family.id);
      assert.equal(dad.id, family.id, 'the old id is a live profile, not a redirect');
      assert.deepEqual(anonIds(dad), ['D1']);
      assert.equal(dad.traits['name'], 'Dad');
      const kid = (await lookup(t, 'anonymous_id', 'D2')).json<Profile>();
      assert.notEqual(kid.id, family.id);
      assert.equal(kid.traits['name'], 'Kid');
      assert.ok(!kid.mergedIds.includes(family.id));
      const body = res.json<{ profileId: string | null; profiles: string[] }>();
      assert.equal(body.profileId, family.id);
      assert.deepEqual(body.profiles, [family.id, kid.id].sort());
    });
  });

  it("a split revives a merged profile and drops the merge's record", async () => {
    await withApp(await store(), {}, async (t) => {
      await sendOk(t, 'identify', {
        anonymousId: 'E1',
        traits: { email: 'home@x.com', name: 'Mum' },
        timestamp: '2026-11-10T10:00:00Z',
      });
      // The second device is first seen anonymously: its profile merges on the e-mail.
      await sendOk(t, 'track', { anonymousId: 'E2', event: 'Viewed', timestamp: '2026-11-10T12:00:00Z' });
      await drained(t);
      const device = (await lookup(t, 'anonymous_id', 'E2')).json<Profile>();
      await sendOk(t, 'identify', {
        anonymousId: 'E2',
        traits: { email: 'home@x.com', name: 'Teen' },
        timestamp: '2026-11-11T10:00:00Z',
      });
      await drained(t);
      const home = (await lookup(t, 'email', 'home@x.com')).json<Profile>();
      assert.notEqual(home.id, device.id);
      assert.deepEqual(
        (await graph(t, home.id)).merges.map((m) => [m.survivorId, m.mergedId]),
        [[home.id, device.id]],
      );

      const res = await admin(t, 'POST', wsUrl(t, `/profiles/${home.id}/unmerge`), {
        identifier: { type: 'email', value: 'home@x.com' },
      });
      assert.equal(res.statusCode, 200, res.body);
      const mum = await profile(t, home.id);
      assert.equal(mum.id, home.id);
      assert.deepEqual(anonIds(mum), ['E1']);
      assert.deepEqual(mum.mergedIds, []);
      const teen = await profile(t, device.id);
      assert.equal(teen.id, device.id, 'the merged id is its own profile again');
      assert.equal(teen.traits['name'], 'Teen');
      assert.equal(teen.eventCount, 2);
      const after = await graph(t, home.id);
      assert.deepEqual([after.mergedIds, after.merges], [[], []]);
      assert.deepEqual((await graph(t, device.id)).merges, []);
    });
  });

  it('unlinking the only user_id leaves no profile, says so, and can be undone (audited)', async () => {
    await withApp(await store(), {}, async (t) => {
      await sendOk(t, 'identify', {
        userId: 'solo',
        traits: { plan: 'pro' },
        timestamp: '2026-11-01T00:00:00Z',
      });
      await sendOk(t, 'track', { userId: 'solo', event: 'Paid', timestamp: '2026-11-02T00:00:00Z' });
      await drained(t);
      const solo = (await lookup(t, 'user_id', 'solo')).json<Profile>();
      const res = await admin(t, 'POST', wsUrl(t, `/profiles/${solo.id}/unmerge`), {
        identifier: { type: 'user_id', value: 'solo' },
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json(), {
        profileId: solo.id,
        resolvesTo: null,
        profiles: [],
        deletedProfiles: [solo.id],
      });
      const listed = await admin(t, 'GET', wsUrl(t, '/identity/unlinked'));
      assert.deepEqual(
        listed
          .json<{ items: { type: string; value: string; profileId: string }[] }>()
          .items.map((u) => [u.type, u.value, u.profileId]),
        [['user_id', 'solo', solo.id]],
      );
      await sendOk(t, 'identify', { userId: 'solo', timestamp: '2026-11-03T00:00:00Z' });
      await drained(t);
      expectError(await lookup(t, 'user_id', 'solo'), 404, 'profile.not_found');

      const relink = `/identity/unlinked?type=user_id&value=solo`;
      const undone = await admin(t, 'DELETE', wsUrl(t, relink));
      assert.equal(undone.statusCode, 200, undone.body);
      assert.deepEqual(undone.json<{ identifier: object }>().identifier, { type: 'user_id', value: 'solo' });
      expectError(await admin(t, 'DELETE', wsUrl(t, relink)), 404, 'profile.identifier_not_unlinked');
      assert.deepEqual((await admin(t, 'GET', wsUrl(t, '/identity/unlinked'))).json(), {
        items: [],
        nextCursor: null,
      });
      // Later events link it again.
      await sendOk(t, 'track', { userId: 'solo', event: 'Back', timestamp: '2026-11-04T00:00:00Z' });
      await drained(t);
      assert.equal((await lookup(t, 'user_id', 'solo')).json<Profile>().eventCount, 1);
      // Events no profile held while it was unlinked come back with a rebuild.
      assert.equal((await admin(t, 'POST', wsUrl(t, '/profiles/rebuild'))).statusCode, 202);
      const deadline = Date.now() + 20_000;
      while (
        (await admin(t, 'GET', wsUrl(t, '/profiles/rebuild'))).json<{ status: string }>().status !== 'done'
      ) {
        if (Date.now() > deadline) throw new Error('rebuild did not finish');
        await new Promise((r) => setTimeout(r, 50));
      }
      const rebuilt = (await lookup(t, 'user_id', 'solo')).json<Profile>();
      assert.equal(rebuilt.id, solo.id, 'the id is derived from the same creating event');
      assert.equal(rebuilt.eventCount, 4);
      assert.equal(rebuilt.traits['plan'], 'pro');

      const audit = (await admin(t, 'GET', wsUrl(t, '/audit-log'))).json<{
        items: { action: string; target: string }[];
      }>();
      const entry = audit.items.find((e) => e.action === 'DELETE /api/v1/workspaces/:ws/identity/unlinked');
      assert.ok(entry, JSON.stringify(audit.items.map((e) => e.action)));
      assert.deepEqual(JSON.parse(entry.target), {
        ws: t.workspace.slug,
        identifierType: 'user_id',
        identifier: 'solo',
      });
    });
  });

  it('undoing an unlink merges the split profiles back at once', async () => {
    await withApp(await store(), {}, async (t) => {
      await sendOk(t, 'identify', {
        anonymousId: 'F1',
        traits: { email: 'pair@x.com' },
        timestamp: '2026-11-10T10:00:00Z',
      });
      await sendOk(t, 'identify', {
        anonymousId: 'F2',
        traits: { email: 'pair@x.com' },
        timestamp: '2026-11-11T10:00:00Z',
      });
      await drained(t);
      const pair = (await lookup(t, 'email', 'pair@x.com')).json<Profile>();
      const res = await admin(t, 'POST', wsUrl(t, `/profiles/${pair.id}/unmerge`), {
        identifier: { type: 'email', value: 'pair@x.com' },
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.notEqual((await lookup(t, 'anonymous_id', 'F2')).json<Profile>().id, pair.id);
      const undone = await admin(t, 'DELETE', wsUrl(t, '/identity/unlinked?type=email&value=%20Pair@X.com'));
      assert.equal(undone.statusCode, 200, undone.body);
      assert.deepEqual(undone.json(), {
        identifier: { type: 'email', value: 'pair@x.com' },
        reresolved: true,
        profiles: [pair.id],
      });
      const back = (await lookup(t, 'anonymous_id', 'F2')).json<Profile>();
      assert.equal(back.id, pair.id);
      assert.equal(back.eventCount, 2);
      assert.equal((await lookup(t, 'email', 'pair@x.com')).json<Profile>().id, pair.id);
    });
  });
});
