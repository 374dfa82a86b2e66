/**
 * A preview's size answers questions about the values its conditions read: without PII access,
 * conditions on personal event properties and on computed traits that read them are refused,
 * like conditions on personal traits (docs/PERMISSIONS.md).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  isPersonalEventPath,
  revealsPersonalValues,
  showsPersonalValues,
} from '../../src/computed-traits/personal-values.ts';
import { piiPolicy } from '../../src/governance/pii-masking.ts';
import { createPath } from '../../src/segment-language/index.ts';
import { admin, drained, expectError, sendOk, wsUrl } from '../support/http-helpers.ts';
import { describeEachStore } from '../support/stores.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';

describe('personal computed traits', () => {
  const policy = piiPolicy(['nickname']);
  const pii = (name: string) => policy.isPiiTrait(name);
  const trait = (definition: Record<string, unknown>) => ({ definition: definition as never });

  it('event paths are personal when their key is a PII trait name', () => {
    assert.equal(isPersonalEventPath(createPath('properties', ['email']), pii), true);
    assert.equal(isPersonalEventPath(createPath('properties', ['Nick_Name', 'x']), pii), true);
    assert.equal(isPersonalEventPath(createPath('context', ['traits', 'phone']), pii), true);
    assert.equal(isPersonalEventPath(createPath('context', ['ip']), pii), true);
    assert.equal(isPersonalEventPath(createPath('properties', ['plan']), pii), false);
    assert.equal(isPersonalEventPath(createPath('context', ['page', 'email']), pii), false);
  });

  it('values of a personal property are masked; anything depending on one is refused in previews', () => {
    const lastEmail = trait({ kind: 'last_value', event: 'Signup', property: 'properties.email' });
    const emails = trait({ kind: 'distinct_values', event: 'Signup', property: 'context.traits.email' });
    const count = trait({ kind: 'distinct_count', event: 'Signup', property: 'properties.email' });
    const filtered = trait({
      kind: 'event_count',
      event: 'Signup',
      where: 'properties.email starts_with "a"',
    });
    const plans = trait({ kind: 'last_value', event: 'Signup', property: 'properties.plan' });
    assert.deepEqual(
      [lastEmail, emails, count, filtered, plans].map((t) => showsPersonalValues(t, pii)),
      [true, true, false, false, false],
    );
    assert.deepEqual(
      [lastEmail, emails, count, filtered, plans].map((t) => revealsPersonalValues(t, pii)),
      [true, true, true, true, false],
    );
  });
});

describeEachStore('segment preview without PII access', (fixture) => {
  let t: TestApp;
  let analyst: { authorization: string };
  const preview = (definition: string, auth = analyst) =>
    admin(t, 'POST', wsUrl(t, '/segments/preview'), { definition }, auth);

  before(async () => {
    t = await createTestApp((await fixture.fresh()).store);
    const res = await admin(t, 'POST', wsUrl(t, '/tokens'), { name: 'analyst', role: 'analyst' });
    assert.equal(res.statusCode, 201, res.body);
    analyst = { authorization: `Bearer ${res.json<{ token: string }>().token}` };
    for (const [name, definition] of [
      ['last_email', { kind: 'last_value', event: 'Signup', property: 'properties.email' }],
      ['secret_signups', { kind: 'event_count', event: 'Signup', where: 'properties.email starts_with "s"' }],
      ['signups', { kind: 'event_count', event: 'Signup' }],
    ] as const) {
      const created = await admin(t, 'POST', wsUrl(t, '/computed-traits'), { name, definition });
      assert.equal(created.statusCode, 201, created.body);
    }
    await sendOk(t, 'track', {
      userId: 'pii-1',
      event: 'Signup',
      properties: { email: 'secret.person@example.com', plan: 'pro' },
    });
    await drained(t);
  });
  after(() => t.close());

  it('refuses conditions on personal event properties and on computed traits reading them', async () => {
    for (const definition of [
      'did "Signup" where (properties.email starts_with "secret.p")',
      'did "Signup" where (properties.plan = "pro" and not context.traits.email exists)',
      'did "Signup" where (context.ip = "1.2.3.4")',
      'computed.last_email starts_with "secret.p"',
      'computed.secret_signups > 0',
    ]) {
      const error = expectError(await preview(definition), 403, 'auth.forbidden');
      assert.match(String(error['message']), /PII access/, definition);
    }
    // Conditions on what is not personal still preview, and PII access previews anything.
    const plan = await preview('did "Signup" where (properties.plan = "pro") and computed.signups >= 1');
    assert.equal(plan.statusCode, 200, plan.body);
    assert.equal(plan.json<{ size: number }>().size, 1);
    const owner = await preview(
      'did "Signup" where (properties.email starts_with "secret.p")',
      t.adminHeaders,
    );
    assert.equal(owner.statusCode, 200, owner.body);
    assert.equal(owner.json<{ size: number }>().size, 1);
  });

  it('shows the values of a computed trait of a personal property masked on the profile', async () => {
    await t.app.services.computedTraits.idle();
    const read = async (auth: Record<string, string>) => {
      const res = await admin(
        t,
        'GET',
        wsUrl(t, '/profiles/lookup?type=user_id&value=pii-1'),
        undefined,
        auth,
      );
      assert.equal(res.statusCode, 200, res.body);
      return res.json<{ computed: Record<string, unknown> }>().computed;
    };
    const full = await read(t.adminHeaders);
    assert.equal(full['last_email'], 'secret.person@example.com');
    const masked = await read(analyst);
    assert.notEqual(masked['last_email'], 'secret.person@example.com');
    assert.ok(!JSON.stringify(masked).includes('secret.person'), JSON.stringify(masked));
    // A count of the same events is not personal.
    assert.equal(masked['signups'], 1);
    assert.equal(masked['secret_signups'], full['secret_signups']);
  });
});
