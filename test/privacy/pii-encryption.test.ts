/**
 * Personal data at rest: after ingestion and processing, no table holds a person's e-mail,
 * phone, name, address or IP in clear (they are sealed with AES-256-GCM, keys of PII
 * identifiers are keyed hashes), yet the event API, lookups, search, segments and exports see
 * the values.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { it } from 'node:test';
import { rotateDataKey } from '../../src/privacy/key-rotation.ts';
import { admin, expectError, sendOk } from '../support/http-helpers.ts';
import { describeEachStore } from '../support/stores.ts';
import { createTestApp, TEST_ENCRYPTION_KEY, type TestApp } from '../support/test-app.ts';
import { drained, lookup, privacyRequest, url } from './privacy-helpers.ts';
import { dumpAll, findNeedles } from './store-dump.ts';

const ZOE = { email: 'zoe.sealed@example.fr', phone: '+33612345678', name: 'Zoe Sealedova', city: 'Paris' };
const BOB = { email: 'bob.sealed@example.com', name: 'Bob Sealedson', city: 'Lyon' };

async function seed(t: TestApp): Promise<void> {
  await sendOk(t, 'identify', {
    userId: 'zoe-1',
    timestamp: '2026-03-01T10:00:00Z',
    traits: { ...ZOE, plan: 'pro' },
  });
  // An e-mail that does not normalize: its identity decision is kept, sealed too.
  await sendOk(t, 'identify', {
    userId: 'zoe-1',
    timestamp: '2026-03-01T09:59:00Z',
    traits: { email: 'zoe.broken@@example.fr' },
  });
  await sendOk(t, 'identify', { userId: 'bob-1', timestamp: '2026-03-01T10:02:00Z', traits: BOB });
  // A server-side SDK's event: its own IP (replaced in the client's bytes) and context traits.
  await sendOk(t, 'track', {
    userId: 'zoe-1',
    event: 'Order Completed',
    timestamp: '2026-03-01T10:04:00Z',
    properties: { total: 42 },
    context: {
      library: { name: 'analytics-node' },
      ip: '198.51.100.7',
      traits: { email: ZOE.email, tier: 'gold' },
    },
  });
  await sendOk(t, 'group', {
    userId: 'bob-1',
    groupId: 'acme',
    timestamp: '2026-03-01T10:03:00Z',
    traits: { name: 'Acme Sealed Corp' },
  });
}

async function preview(t: TestApp, definition: string): Promise<number> {
  const res = await admin(t, 'POST', url(t, '/segments/preview'), { definition });
  assert.equal(res.statusCode, 200, res.body);
  return res.json<{ size: number }>().size;
}

async function search(t: TestApp, query: string, headers?: { authorization: string }): Promise<string[]> {
  const res = await admin(t, 'GET', url(t, `/profiles?${query}`), undefined, headers);
  assert.equal(res.statusCode, 200, res.body);
  return res.json<{ items: { id: string }[] }>().items.map((p) => p.id);
}

describeEachStore('PII encryption at rest', (fixture) => {
  it('seals personal values in every profile table and still finds, segments and exports them', async () => {
    const handle = await fixture.fresh();
    const t = await createTestApp(handle.store);
    try {
      await seed(t);
      await drained(t);
      const zoe = await lookup(t, 'email', ZOE.email);
      const bob = await lookup(t, 'phone', ZOE.phone).then(() => lookup(t, 'email', BOB.email));
      assert.ok(zoe && bob);
      assert.equal(zoe.traits['email'], ZOE.email);
      assert.equal(zoe.traits['city'], 'Paris');
      assert.ok(zoe.identities.some((i) => i.type === 'phone' && i.value === ZOE.phone));

      const dump = await dumpAll(handle);
      const profileTables = new Map(
        [...dump].filter(([table]) => table !== 'events' && table !== 'audit_log'),
      );
      const needles = [
        ZOE.email,
        ZOE.phone,
        ZOE.name,
        BOB.email,
        BOB.name,
        'Paris',
        'Lyon',
        'zoe.broken',
        'Acme Sealed',
      ];
      assert.deepEqual(findNeedles(profileTables, needles, []), []);
      const events = (dump.get('events') ?? []).join('\n');
      assert.ok(!events.includes('127.0.0.1'), 'the request IP is sealed in the event log');
      assert.ok(!events.includes('198.51.100.7'), "a client's own context.ip is sealed");
      assert.ok(events.includes('analytics-node') && events.includes('gold'), 'the rest is stored as sent');
      assert.ok(events.includes('enc:v1:k1:'));
      // The API reads the log as it was sent.
      const listed = await admin(t, 'GET', url(t, '/events?type=identify&limit=10'));
      assert.equal(listed.statusCode, 200, listed.body);
      assert.ok(listed.body.includes(ZOE.email) && listed.body.includes('127.0.0.1'), listed.body);
      assert.ok(!listed.body.includes('enc:v1:'));
      const tracked = await admin(t, 'GET', url(t, '/events?type=track&limit=10'));
      assert.equal(tracked.statusCode, 200, tracked.body);
      assert.ok(tracked.body.includes('198.51.100.7') && tracked.body.includes(ZOE.email), tracked.body);
      const sealed = (dump.get('profiles') ?? []).join('\n');
      assert.match(sealed, /enc:v1:k1:/);
      // What is not personal stays readable in SQL.
      assert.ok(sealed.includes('\\"plan\\":\\"pro\\"'), 'plan is stored in clear');

      assert.deepEqual(await search(t, 'identifier=zoe.sea&identifierType=email'), [zoe.id]);
      assert.deepEqual(await search(t, 'identifier=%2B336'), [zoe.id]);
      assert.deepEqual(await search(t, 'traits.city=Lyon'), [bob.id]);
      assert.deepEqual(await search(t, 'traits.plan=pro'), [zoe.id]);
      // Without PII access, searching by personal values is refused: even masked results
      // would tell whether an address exists (a prefix search spells it out).
      const minted = await admin(t, 'POST', url(t, '/tokens'), { name: 'analyst', role: 'analyst' });
      const analyst = { authorization: `Bearer ${minted.json<{ token: string }>().token}` };
      for (const query of ['identifier=zoe&identifierType=email', 'traits.city=Lyon', 'traits.email=x'])
        expectError(
          await admin(t, 'GET', url(t, `/profiles?${query}`), undefined, analyst),
          403,
          'auth.forbidden',
        );
      assert.deepEqual(await search(t, 'identifier=%2B336', analyst), [], 'phones are not searched');
      assert.deepEqual(await search(t, 'identifier=zoe-', analyst), [zoe.id], 'user ids are');
      assert.deepEqual(await search(t, 'traits.plan=pro', analyst), [zoe.id]);
      expectError(
        await admin(
          t,
          'POST',
          url(t, '/segments/preview'),
          { definition: 'traits.email starts_with "z"' },
          analyst,
        ),
        403,
        'auth.forbidden',
      );
      const allowed = await admin(
        t,
        'POST',
        url(t, '/segments/preview'),
        { definition: 'traits.plan = "pro"' },
        analyst,
      );
      assert.equal(allowed.statusCode, 200, allowed.body);

      assert.equal(await preview(t, 'traits.email contains "@example.fr"'), 1);
      assert.equal(await preview(t, 'traits.city = "Lyon" or traits.email starts_with "zoe."'), 2);
      assert.equal(await preview(t, 'not traits.city in ("Paris")'), 1);
      assert.equal(await preview(t, 'traits.plan = "pro" and not traits.phone exists'), 0);
      assert.equal(await preview(t, 'group.name contains "Sealed"'), 1);
      assert.equal(await preview(t, 'not group.name exists'), 1);

      const history = await admin(t, 'GET', url(t, `/profiles/${zoe.id}/traits/history?trait=email`));
      assert.equal(history.statusCode, 200, history.body);
      assert.ok(history.body.includes(ZOE.email));

      const exported = await privacyRequest(t, 'export', { type: 'email', value: ZOE.email });
      assert.equal(exported.status, 'completed');
      const doc = await admin(t, 'GET', exported.exportUrl ?? '');
      assert.equal(doc.statusCode, 200, doc.body);
      assert.ok(doc.body.includes(ZOE.email) && doc.body.includes(ZOE.name));
      assert.ok(!doc.body.includes('enc:v1:'), 'the export shows values, not ciphertext');
    } finally {
      await t.close();
    }
  });

  it('stores export documents sealed, re-seals them on a key rotation, and downloads them opened', async () => {
    const handle = await fixture.fresh();
    const t = await createTestApp(handle.store);
    try {
      await seed(t);
      await drained(t);
      const exported = await privacyRequest(t, 'export', { type: 'email', value: ZOE.email });
      assert.equal(exported.status, 'completed', JSON.stringify(exported));
      const download = async (): Promise<string> => {
        const doc = await admin(t, 'GET', exported.exportUrl ?? '');
        assert.equal(doc.statusCode, 200, doc.body);
        return doc.body;
      };
      const before = await download();
      for (const value of [ZOE.email, ZOE.phone, ZOE.name, '198.51.100.7'])
        assert.ok(before.includes(value), `the document lost ${value}`);

      const stored = (await dumpAll(handle)).get('privacy_exports') ?? [];
      assert.equal(stored.length, 1);
      assert.deepEqual(
        findNeedles(
          new Map([['privacy_exports', stored]]),
          [ZOE.email, ZOE.phone, ZOE.name, '198.51.100.7', 'Paris'],
          [],
        ),
        [],
      );
      assert.match(stored[0] ?? '', /"document":"enc:v1:k1:/);
      // On SQLite, every file of the store (the database files and their WALs) in bytes.
      const dir = handle.env['CDP_DATA_DIR'];
      const files = dir === undefined ? [] : readdirSync(dir).map((name) => path.join(dir, name));
      for (const file of files.filter((f) => statSync(f).isFile())) {
        const bytes: Buffer = readFileSync(file);
        for (const needle of [ZOE.email, ZOE.phone, ZOE.name])
          assert.equal(bytes.includes(Buffer.from(needle)), false, `${needle} in clear in ${file}`);
      }

      // A rotation re-seals the document under the new key; the old key can go.
      const rotated = await rotateDataKey({
        instance: handle.store.instance,
        encryptionKey: TEST_ENCRYPTION_KEY,
        store: handle.store.pii,
        sleep: async () => undefined,
      });
      assert.deepEqual(rotated.retired, ['k1']);
      assert.equal(rotated.counts['privacy_exports']?.changed, 1);
      const resealed = (await dumpAll(handle)).get('privacy_exports') ?? [];
      assert.match(resealed[0] ?? '', /"document":"enc:v1:k2:/);
      assert.equal(await download(), before);
    } finally {
      await t.close();
    }
  });
});
