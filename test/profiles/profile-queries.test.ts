/** Profile reads over HTTP: trait-history paging and identifier-prefix search. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { admin, drained, sendOk, sharedStore, withApp, wsUrl } from '../support/http-helpers.ts';
import { describeEachStore } from '../support/stores.ts';

interface Profile {
  id: string;
  identities: { type: string; value: string }[];
}

describeEachStore('profile queries', (fixture) => {
  const store = sharedStore(fixture);

  it('trait history pages one entry at a time through traits set by one event', async () => {
    await withApp(await store(), {}, async (t) => {
      await sendOk(t, 'identify', {
        userId: 'u-page',
        traits: { plan: 'free' },
        timestamp: '2026-03-01T00:00:00Z',
      });
      // Three traits at one timestamp, and another event at that same timestamp.
      await sendOk(t, 'identify', {
        userId: 'u-page',
        traits: { plan: 'pro', seats: 3, vip: true },
        timestamp: '2026-03-02T00:00:00Z',
      });
      await sendOk(t, 'identify', {
        userId: 'u-page',
        traits: { region: 'eu' },
        timestamp: '2026-03-02T00:00:00Z',
      });
      await drained(t);
      const lookup = await admin(t, 'GET', wsUrl(t, '/profiles/lookup?type=user_id&value=u-page'));
      const id = lookup.json<Profile>().id;
      const all = (await admin(t, 'GET', wsUrl(t, `/profiles/${id}/traits/history`))).json<{
        items: { trait: string; value: unknown }[];
      }>().items;
      assert.equal(all.length, 5);
      const paged: { trait: string; value: unknown }[] = [];
      let cursor: string | null = '';
      for (let pages = 0; cursor !== null && pages < 10; pages += 1) {
        const query: string = cursor === '' ? '' : `&cursor=${cursor}`;
        const res = await admin(t, 'GET', wsUrl(t, `/profiles/${id}/traits/history?limit=1${query}`));
        assert.equal(res.statusCode, 200, res.body);
        const page = res.json<{ items: { trait: string; value: unknown }[]; nextCursor: string | null }>();
        paged.push(...page.items);
        cursor = page.nextCursor;
      }
      assert.deepEqual(paged, all, 'one entry per page, none skipped, none twice');
      assert.deepEqual(paged.map((h) => h.trait).sort(), ['plan', 'plan', 'region', 'seats', 'vip']);
    });
  });

  it('an identifier prefix is normalized as e-mails are; other types match as sent', async () => {
    await withApp(await store(), {}, async (t) => {
      await sendOk(t, 'identify', { userId: 'u-alice', traits: { email: 'Alice@Example.com' } });
      await sendOk(t, 'identify', { userId: 'ALICE@home' });
      await sendOk(t, 'identify', { userId: 'u-bob', traits: { email: 'bob@example.com' } });
      await drained(t);
      const users = async (query: string) => {
        const res = await admin(t, 'GET', wsUrl(t, `/profiles?${query}`));
        assert.equal(res.statusCode, 200, res.body);
        return res
          .json<{ items: Profile[] }>()
          .items.map((p) => p.identities.find((i) => i.type === 'user_id')?.value)
          .sort();
      };
      assert.deepEqual(await users('identifier=ALICE@'), ['ALICE@home', 'u-alice']);
      assert.deepEqual(await users('identifier=%20ALICE@EX&identifierType=email'), ['u-alice']);
      assert.deepEqual(await users('identifier=alice@&identifierType=user_id'), []);
      assert.deepEqual(await users('identifier=ALICE@&identifierType=user_id'), ['ALICE@home']);
    });
  });
});
