import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { describeChange, WITHHELD_VALUE } from '../../src/governance/audit-change.ts';
import { createSqliteStore } from '../../src/storage/sqlite/sqlite-store.ts';
import { admin, wsUrl } from '../support/http-helpers.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';

describe('what an audited change records', () => {
  it('keeps settings and names, withholds secrets and personal values, cuts URLs and long text', () => {
    const described = describeChange({
      name: 'CRM hook',
      role: 'owner',
      categories: ['marketing', 'analytics'],
      eventsDays: 30,
      enabled: false,
      config: { url: 'https://hooks.example.com/in/42?token=abc', secret: 'whsec_1', timeoutMs: 5000 },
      definition: 'traits.email = "zoe@example.com"',
      identifier: { type: 'email', value: 'zoe@example.com' },
      note: 'x'.repeat(500),
      comment: 'y'.repeat(500),
      segments: Array.from({ length: 60 }, (_, i) => `s${i}`),
      ['__proto__']: { polluted: true },
    });
    assert.ok(described);
    assert.equal(described['name'], 'CRM hook');
    assert.equal(described['role'], 'owner');
    assert.deepEqual(described['categories'], ['marketing', 'analytics']);
    assert.equal(described['eventsDays'], 30);
    assert.equal(described['enabled'], false);
    assert.deepEqual(described['config'], {
      url: 'https://hooks.example.com/in/42?…',
      secret: WITHHELD_VALUE,
      timeoutMs: 5000,
    });
    assert.equal(described['definition'], WITHHELD_VALUE);
    assert.equal(described['identifier'], WITHHELD_VALUE);
    assert.equal(described['note'], WITHHELD_VALUE);
    assert.equal((described['comment'] as string).length, 201);
    assert.equal(described['segments'], '[60 items]');
    assert.equal(Object.getPrototypeOf(described), Object.prototype);
    assert.deepEqual(Object.getOwnPropertyDescriptor(described, '__proto__')?.value, { polluted: true });
    assert.ok(!JSON.stringify(described).includes('zoe@') && !JSON.stringify(described).includes('whsec'));
    assert.equal(describeChange(undefined), undefined);
    assert.equal(describeChange({}), undefined);
  });
});

describe('audit entries of changes through the API', () => {
  let t: TestApp;
  before(async () => {
    const store = createSqliteStore({ filename: ':memory:' });
    await store.migrate();
    t = await createTestApp(store);
  });
  after(async () => {
    await t.close();
    await t.store.close();
  });

  it('say what was set: a token role, consent categories, a webhook moved elsewhere', async () => {
    const token = await admin(t, 'POST', wsUrl(t, '/tokens'), { name: 'ops', role: 'admin' });
    assert.equal(token.statusCode, 201, token.body);
    const consent = await admin(t, 'PUT', wsUrl(t, '/settings/consent'), {
      categories: ['analytics'],
      gpcOptOut: [],
    });
    assert.equal(consent.statusCode, 200, consent.body);
    const created = await admin(t, 'POST', wsUrl(t, '/destinations'), {
      type: 'webhook',
      name: 'Partner',
      config: { url: 'https://partner.example.com/hook', secret: 'partner-secret-1234567890' },
    });
    assert.equal(created.statusCode, 201, created.body);
    const id = created.json<{ id: string }>().id;
    const moved = await admin(t, 'PATCH', wsUrl(t, `/destinations/${id}`), {
      config: { url: 'https://elsewhere.example.net/collect?key=abc' },
    });
    assert.equal(moved.statusCode, 200, moved.body);

    const listed = await admin(t, 'GET', wsUrl(t, '/audit-log?limit=20'));
    assert.equal(listed.statusCode, 200, listed.body);
    const entries = listed.json<{ items: { action: string; details: Record<string, unknown> }[] }>().items;
    const changesOf = (action: string) => entries.find((e) => e.action === action)?.details['changes'];
    assert.deepEqual(changesOf('POST /api/v1/workspaces/:ws/tokens'), { name: 'ops', role: 'admin' });
    assert.deepEqual(changesOf('PUT /api/v1/workspaces/:ws/settings/consent'), {
      categories: ['analytics'],
      gpcOptOut: [],
    });
    assert.deepEqual(changesOf('PATCH /api/v1/workspaces/:ws/destinations/:id'), {
      config: { url: 'https://elsewhere.example.net/collect?…' },
    });
    const created2 = changesOf('POST /api/v1/workspaces/:ws/destinations') as { config: { secret: string } };
    assert.equal(created2.config.secret, WITHHELD_VALUE);
    assert.ok(!listed.body.includes('partner-secret'), 'no secret in the audit log');
    assert.deepEqual(await t.app.services.audit.verify(), { ok: true, entries: entries.length });
  });
});
