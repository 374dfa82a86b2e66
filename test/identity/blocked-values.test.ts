import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  createBlockedValues,
  DEFAULT_IDENTITY_SETTINGS,
  identitySettings,
  isZeroesAndDashes,
  normalizeIdentifier,
} from '../../src/identity/index.ts';

void describe('blocked values', () => {
  const defaults = createBlockedValues(DEFAULT_IDENTITY_SETTINGS);
  const blocked = [
    '0',
    '000',
    '-',
    '--0-',
    '-1',
    'null',
    'NULL',
    ' Null ',
    'undefined',
    'anonymous',
    'Anonymous',
    'void',
    'abc123',
    'ABC123',
    'none',
    'nil',
    'N/A',
    'n/a',
    'test',
    '[object Object]',
    'NaN',
    'unknown',
  ];
  for (const value of blocked) {
    void it(`blocks ${JSON.stringify(value)} by default`, () =>
      assert.equal(defaults.isBlocked(value), true));
  }
  const allowed = ['1', '0-1', '10', 'crm_000001', 'nullable', 'tester', 'anonymous1', '-2', 'abc1234'];
  for (const value of allowed) {
    void it(`allows ${JSON.stringify(value)}`, () => assert.equal(defaults.isBlocked(value), false));
  }

  void it('implements ^[0-]*$ without a regex', () => {
    assert.equal(isZeroesAndDashes(''), true);
    assert.equal(isZeroesAndDashes('0-0-0'), true);
    assert.equal(isZeroesAndDashes('0-0-1'), false);
  });

  void it('adds workspace values as exact, case-insensitive strings, never as patterns', () => {
    const s = identitySettings({ blockedValues: ['Guest', 'demo@example.com', '.*', '(a+)+$'] });
    const b = createBlockedValues(s);
    assert.equal(b.isBlocked('guest'), true);
    assert.equal(b.isBlocked(' GUEST '), true);
    assert.equal(b.isBlocked('guest2'), false);
    assert.equal(b.isBlocked('.*'), true);
    assert.equal(b.isBlocked('anything'), false);
    assert.equal(b.isBlocked(`${'a'.repeat(5000)}!`), false);
    const result = normalizeIdentifier('email', ' Demo@Example.com', { settings: s, blocked: b });
    assert.deepStrictEqual(result, { ok: false, reason: 'identity.blocked' });
  });

  void it('can turn the defaults off', () => {
    const b = createBlockedValues(identitySettings({ useDefaultBlockedValues: false, blockedValues: ['x'] }));
    assert.equal(b.isBlocked('null'), false);
    assert.equal(b.isBlocked('0'), false);
    assert.equal(b.isBlocked('x'), true);
  });
});
