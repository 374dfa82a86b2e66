import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkPassword, normalizePassword } from '../../src/access/password-policy.ts';

describe('password policy', () => {
  const cases: [password: string, problem: string | null, email?: string][] = [
    ['plum tractor sings at dawn', null],
    ['839201746512', null],
    ['Zx9!kq2#Lm4v', null],
    ['ünïcödé-pässwörd', null],
    ['short', 'too_short'],
    ['elevenchars', 'too_short'],
    ['😀😀😀😀😀😀😀😀😀😀😀', 'too_short'],
    ['x'.repeat(1025), 'too_long'],
    ['password1234', 'too_common'],
    ['Password2024!', 'too_common'],
    ['Welcome123456', 'too_common'],
    ['qwerty123456', 'too_common'],
    ['passwordpassword', 'too_common'],
    ['correcthorsebatterystaple', 'too_common'],
    ['aaaaaaaaaaaa', 'too_simple'],
    ['abcabcabcabc', 'too_simple'],
    ['121212121212', 'too_simple'],
    ['123456789012', 'too_simple'],
    ['abcdefghijklm', 'too_simple'],
    ['qwertyuiopasdf', 'too_simple'],
    ['1qaz2wsx3edc', 'too_simple'],
    ['abcdef123456', 'too_simple'],
    ['zoe.martin-2026!', 'contains_email', 'zoe.martin@example.com'],
    ['my zoe.martin@example.com pw', 'contains_email', 'zoe.martin@example.com'],
    ['bob is a builder!', null, 'bob@example.com'],
  ];
  for (const [password, problem, email] of cases) {
    it(`${JSON.stringify(password.slice(0, 30))} → ${problem ?? 'accepted'}`, () => {
      const verdict = checkPassword(password, email === undefined ? {} : { email });
      assert.equal(verdict.ok ? null : verdict.problem, problem);
      if (!verdict.ok) assert.ok(verdict.message.length > 10);
    });
  }

  it('accepts exactly 12 and 1024 characters, counted as characters, not bytes', () => {
    assert.equal(checkPassword('k7#mQ2pL9!xZ').ok, true);
    assert.equal(checkPassword('k7#mQ2pL9!xZ'.repeat(85) + 'abcd').ok, true);
    assert.equal([...'é'.repeat(12)].length, 12);
  });

  it('normalizes Unicode so the same text typed differently compares equal', () => {
    assert.equal(normalizePassword('e\u0301té'), normalizePassword('\u00e9té'));
  });
});
