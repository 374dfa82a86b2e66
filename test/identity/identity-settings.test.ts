import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  DEFAULT_IDENTITY_SETTINGS,
  identitySettings,
  limitFor,
  priorityRank,
  validateIdentitySettings,
} from '../../src/identity/index.ts';

void describe('identity settings', () => {
  void it('has Segment-like defaults', () => {
    const s = DEFAULT_IDENTITY_SETTINGS;
    assert.deepStrictEqual(s.priority, ['user_id', 'email', 'phone', 'anonymous_id']);
    assert.deepStrictEqual(
      ['user_id', 'email', 'phone', 'anonymous_id'].map((t) => limitFor(s, t).max),
      [1, 5, 5, 100],
    );
    assert.equal(s.defaultPhoneRegion, undefined);
    assert.equal(s.maxIdentifiersPerEvent, 25);
    assert.deepStrictEqual(s.normalize, { user_id: false, anonymous_id: false, email: true, phone: true });
    assert.ok(Object.isFrozen(s) && Object.isFrozen(s.limits));
  });

  void it('places custom types between phone and anonymous_id, limit 5', () => {
    const s = identitySettings({ customTypes: ['crm_id', 'shopify_id'] });
    assert.deepStrictEqual(s.priority, ['user_id', 'email', 'phone', 'crm_id', 'shopify_id', 'anonymous_id']);
    assert.equal(limitFor(s, 'crm_id').max, 5);
    assert.equal(s.normalize.crm_id, true);
  });

  void it('puts listed types first and keeps the default order for the rest', () => {
    const s = identitySettings({ customTypes: ['crm_id'], priority: ['crm_id', 'email'] });
    assert.deepStrictEqual(s.priority, ['crm_id', 'email', 'user_id', 'phone', 'anonymous_id']);
    assert.equal(priorityRank(s, 'crm_id'), 0);
    assert.equal(priorityRank(s, 'nope'), 5);
  });

  void it('accepts windowed limits and a default region', () => {
    const s = identitySettings({
      limits: { anonymous_id: { max: 5, windowMs: 7 * 86_400_000 } },
      defaultPhoneRegion: 'FR',
    });
    assert.deepStrictEqual(s.limits.anonymous_id, { max: 5, windowMs: 604_800_000 });
    assert.equal(s.defaultPhoneRegion, 'FR');
  });

  const invalid: [string, Parameters<typeof validateIdentitySettings>[0], string[]][] = [
    ['built-in custom type', { customTypes: ['email'] }, ['customTypes.0']],
    ['bad custom name', { customTypes: ['CRM ID', 'ok'] }, ['customTypes.0']],
    ['duplicate custom', { customTypes: ['a', 'a'] }, ['customTypes.1']],
    ['unknown region', { defaultPhoneRegion: 'XX' }, ['defaultPhoneRegion']],
    ['lower-case region', { defaultPhoneRegion: 'fr' }, ['defaultPhoneRegion']],
    ['limit 0', { limits: { email: { max: 0 } } }, ['limits.email.max']],
    ['limit for unknown type', { limits: { crm_id: { max: 2 } } }, ['limits.crm_id']],
    ['bad window', { limits: { email: { max: 2, windowMs: -1 } } }, ['limits.email.windowMs']],
    ['unknown priority', { priority: ['user_id', 'x'] }, ['priority.1']],
    ['duplicate priority', { priority: ['email', 'email'] }, ['priority.1']],
    ['blank blocked value', { blockedValues: ['ok', '  '] }, ['blockedValues.1']],
    ['huge blocked value', { blockedValues: ['x'.repeat(300)] }, ['blockedValues.0']],
    [
      'too many blocked values',
      { blockedValues: Array.from({ length: 1001 }, (_, i) => `v${i}`) },
      ['blockedValues'],
    ],
    ['normalize unknown', { normalize: { crm_id: true } }, ['normalize.crm_id']],
    ['per-event bound', { maxIdentifiersPerEvent: 0 }, ['maxIdentifiersPerEvent']],
  ];
  for (const [name, input, paths] of invalid) {
    void it(`reports a problem: ${name}`, () => {
      const result = validateIdentitySettings(input);
      assert.equal(result.ok, false);
      if (!result.ok)
        assert.deepStrictEqual(
          result.problems.map((p) => p.path),
          paths,
        );
    });
  }

  void it('throws from identitySettings() on invalid input', () => {
    assert.throws(() => identitySettings({ customTypes: ['user_id'] }), /customTypes\.0/);
  });
});
