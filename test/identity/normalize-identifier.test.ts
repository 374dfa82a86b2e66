import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  createBlockedValues,
  DEFAULT_IDENTITY_SETTINGS,
  identitySettings,
  normalizeIdentifier,
  regionFromLocale,
  type IdentitySettings,
} from '../../src/identity/index.ts';

function normalize(
  type: string,
  raw: unknown,
  settings: IdentitySettings = DEFAULT_IDENTITY_SETTINGS,
  locale?: string,
) {
  return normalizeIdentifier(type, raw, { settings, blocked: createBlockedValues(settings), locale });
}

function valueOf(result: ReturnType<typeof normalize>): string {
  return result.ok ? result.identifier.value : result.reason;
}

void describe('normalizeIdentifier: e-mail', () => {
  const cases: [unknown, string][] = [
    ['jane.doe@example.com', 'jane.doe@example.com'],
    ['  Jane.Doe@Example.COM ', 'jane.doe@example.com'],
    ['\tJOHN+news@Sub.Example.org\n', 'john+news@sub.example.org'],
    ['jane doe@example.com', 'identity.invalid_email'],
    ['jane@example', 'identity.invalid_email'],
    ['jane@@example.com', 'identity.invalid_email'],
    ['@example.com', 'identity.invalid_email'],
    ['jane@.example.com', 'identity.invalid_email'],
    ['not an email', 'identity.invalid_email'],
    ['', 'identity.empty'],
    ['   ', 'identity.empty'],
    [42, 'identity.invalid_email'],
    [{ email: 'x@example.com' }, 'identity.invalid_shape'],
    [['x@example.com'], 'identity.invalid_shape'],
    [true, 'identity.invalid_shape'],
    [NaN, 'identity.invalid_shape'],
    ['NULL', 'identity.blocked'],
    [`${'a'.repeat(1020)}@example.com`, 'identity.too_long'],
  ];
  for (const [raw, expected] of cases) {
    void it(`${JSON.stringify(raw)?.slice(0, 40)} → ${expected}`, () => {
      assert.equal(valueOf(normalize('email', raw)), expected);
    });
  }

  void it('keeps the value as sent when e-mail normalization is off', () => {
    const s = identitySettings({ normalize: { email: false } });
    assert.equal(valueOf(normalize('email', ' Jane@Example.com', s)), ' Jane@Example.com');
  });
});

void describe('normalizeIdentifier: phone', () => {
  const fr = identitySettings({ defaultPhoneRegion: 'FR' });
  const us = identitySettings({ defaultPhoneRegion: 'US' });
  const gb = identitySettings({ defaultPhoneRegion: 'GB' });
  const de = identitySettings({ defaultPhoneRegion: 'DE' });
  const none = DEFAULT_IDENTITY_SETTINGS;
  const cases: [string, IdentitySettings, string | undefined, string][] = [
    // France
    ['+33 6 12 34 56 78', none, undefined, '+33612345678'],
    ['06 12 34 56 78', fr, undefined, '+33612345678'],
    ['06.12.34.56.78', fr, undefined, '+33612345678'],
    ['0033612345678', fr, undefined, '+33612345678'],
    ['06 12 34 56 78', none, 'fr-FR', '+33612345678'],
    ['06 12 34 56 78', none, undefined, 'identity.invalid_phone'],
    ['06 12 34 56 78', none, 'fr', 'identity.invalid_phone'],
    ['0033612345678', none, undefined, 'identity.invalid_phone'],
    // United States
    ['(415) 555-0132', us, undefined, '+14155550132'],
    ['415.555.0132', us, undefined, '+14155550132'],
    ['+1 415-555-0132', none, undefined, '+14155550132'],
    ['1 (415) 555-0132', none, 'en-US', '+14155550132'],
    ['(415) 555-0132', none, undefined, 'identity.invalid_phone'],
    // Great Britain
    ['07911 123456', gb, undefined, '+447911123456'],
    ['+44 7911 123456', none, undefined, '+447911123456'],
    ['07911 123456', none, 'en_GB', '+447911123456'],
    // Germany
    ['0170 1234567', de, undefined, '+491701234567'],
    ['+49 (0)170 1234567', none, undefined, '+491701234567'],
    ['0170/1234567', none, 'de-DE', '+491701234567'],
    // The workspace region wins over the locale.
    ['06 12 34 56 78', us, 'fr-FR', 'identity.invalid_phone'],
    // Garbage
    ['abc', fr, undefined, 'identity.invalid_phone'],
    ['06 12', fr, undefined, 'identity.invalid_phone'],
    ['1-800-FLOWERS', us, undefined, 'identity.invalid_phone'],
    ['+999 123 456', none, undefined, 'identity.invalid_phone'],
    ['0000000000', fr, undefined, 'identity.blocked'],
    ['-1', fr, undefined, 'identity.blocked'],
    ['+'.repeat(200), fr, undefined, 'identity.invalid_phone'],
  ];
  for (const [raw, settings, locale, expected] of cases) {
    const label = `${raw.slice(0, 30)} (region ${settings.defaultPhoneRegion ?? '-'}, locale ${locale ?? '-'})`;
    void it(`${label} → ${expected}`, () => {
      assert.equal(valueOf(normalize('phone', raw, settings, locale)), expected);
    });
  }
});

void describe('normalizeIdentifier: ids', () => {
  void it('matches user and anonymous ids exactly, numbers stringified', () => {
    assert.equal(valueOf(normalize('user_id', ' Crm_1 ')), ' Crm_1 ');
    assert.equal(valueOf(normalize('user_id', 123)), '123');
    assert.equal(valueOf(normalize('anonymous_id', 'A-b')), 'A-b');
  });

  void it('trims custom ids', () => {
    const s = identitySettings({ customTypes: ['crm_id'] });
    assert.equal(valueOf(normalize('crm_id', '  C-42 ', s)), 'C-42');
  });

  void it('refuses values over 1 KB (UTF-8 bytes), accepts exactly 1 KB', () => {
    assert.equal(valueOf(normalize('user_id', 'x'.repeat(1024))), 'x'.repeat(1024));
    assert.equal(valueOf(normalize('user_id', 'x'.repeat(1025))), 'identity.too_long');
    assert.equal(valueOf(normalize('user_id', 'é'.repeat(513))), 'identity.too_long');
    assert.equal(valueOf(normalize('user_id', 'x'.repeat(2_000_000))), 'identity.too_long');
  });
});

void describe('regionFromLocale', () => {
  const cases: [unknown, string | undefined][] = [
    ['fr-FR', 'FR'],
    ['en_us', 'US'],
    ['zh-Hant-TW', 'TW'],
    ['de', undefined],
    ['en-XX', undefined],
    ['en-u-ca-gregory', undefined],
    [42, undefined],
    ['x'.repeat(100), undefined],
  ];
  for (const [locale, region] of cases) {
    void it(`${String(locale).slice(0, 20)} → ${region}`, () =>
      assert.equal(regionFromLocale(locale), region));
  }
});
