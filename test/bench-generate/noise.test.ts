import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { CountryCode } from '../../bench/generate/countries.ts';
import { asciiSlug, buildEmail, noisyEmail } from '../../bench/generate/email.ts';
import { generatePersons } from '../../bench/generate/index.ts';
import type { GeneratedPerson } from '../../bench/generate/index.ts';
import { formatPhone, phoneCapacity, phoneForIndex, phoneFormatCount } from '../../bench/generate/phone.ts';
import { createPrng } from '../../bench/generate/prng.ts';
import { identifiersOf, normalizeEmailForTest, normalizePhoneForTest } from './identifiers.ts';

const COUNTRIES: CountryCode[] = ['FR', 'BE', 'DE', 'US', 'GB', 'ES', 'IT', 'NL'];
const E164 = /^\+[1-9]\d{7,14}$/;

describe('phone numbers', () => {
  it('every format of every number normalizes back to its E.164 form', () => {
    fc.assert(
      fc.property(fc.constantFrom(...COUNTRIES), fc.nat(9_999_999), fc.nat(), (country, index, salt) => {
        const phone = phoneForIndex(country, index, salt);
        assert.match(phone.e164, E164);
        for (let variant = 0; variant < phoneFormatCount(country); variant++) {
          const typed = formatPhone(phone, variant);
          assert.equal(normalizePhoneForTest(typed, country), phone.e164, `${country} "${typed}"`);
        }
      }),
    );
  });

  it('gives distinct numbers to distinct people and can serve ten million of them', () => {
    for (const country of COUNTRIES) {
      assert.ok(phoneCapacity(country) >= 10_000_000, country);
      const numbers = new Set<string>();
      for (let i = 0; i < 20_000; i++) numbers.add(phoneForIndex(country, i, 77).e164);
      assert.equal(numbers.size, 20_000, country);
    }
  });

  it('writes the formats people really type', () => {
    const fr = phoneForIndex('FR', 123, 0);
    const formats = Array.from({ length: phoneFormatCount('FR') }, (_, v) => formatPhone(fr, v));
    assert.ok(
      formats.some((f) => /^\+33 [67]( \d\d){4}$/.test(f)),
      formats.join(' | '),
    );
    assert.ok(formats.some((f) => /^0[67]( \d\d){4}$/.test(f)));
    assert.ok(formats.some((f) => /^0033[67]\d{8}$/.test(f)));
    const us = phoneForIndex('US', 123, 0);
    const usFormats = Array.from({ length: phoneFormatCount('US') }, (_, v) => formatPhone(us, v));
    assert.ok(
      usFormats.some((f) => /^\(\d{3}\) \d{3}-\d{4}$/.test(f)),
      usFormats.join(' | '),
    );
    assert.ok(usFormats.some((f) => /^\+1 \d{3}-\d{3}-\d{4}$/.test(f)));
  });
});

describe('e-mail addresses', () => {
  it('noise only changes case and surrounding spaces', () => {
    fc.assert(
      fc.property(fc.nat(1_000_000), fc.nat(), (index, seed) => {
        const email = buildEmail({
          firstName: 'Hélène',
          lastName: "D'Almeida",
          uniqueIndex: index,
          salt: 3,
          domain: 'example.com',
          style: index,
        });
        assert.equal(email, email.toLowerCase());
        const typed = noisyEmail(email, createPrng(seed));
        assert.equal(normalizeEmailForTest(typed), email);
      }),
    );
  });

  it('strips accents and punctuation from names', () => {
    assert.equal(asciiSlug("Hélène D'Almeida"), 'helenedalmeida');
    assert.equal(asciiSlug('Größer'), 'groer');
  });
});

describe('noise in the generated stream', () => {
  let people: GeneratedPerson[] = [];
  const emails: string[] = [];
  const phones: { raw: string; country: string }[] = [];

  before(() => {
    people = [...generatePersons({ people: 1500, seed: 11 })];
    for (const { messages, truth } of people) {
      for (const generated of messages) {
        const ids = identifiersOf(generated);
        emails.push(...ids.emails);
        for (const raw of ids.phones) phones.push({ raw, country: truth.country });
      }
    }
  });

  it('has e-mails with stray spaces, capitals, and clean ones', () => {
    assert.ok(emails.length > 500, `only ${emails.length} e-mails`);
    const spaced = emails.filter((e) => e !== e.trim());
    const cased = emails.filter((e) => e.trim() !== e.trim().toLowerCase());
    const clean = emails.filter((e) => e === normalizeEmailForTest(e));
    for (const [label, list] of [
      ['spaced', spaced],
      ['mixed case', cased],
      ['clean', clean],
    ] as const) {
      const share = list.length / emails.length;
      assert.ok(share > 0.1 && share < 0.8, `${label} e-mails: ${(share * 100).toFixed(1)}%`);
    }
    assert.ok(
      emails.some((e) => /^ +\S+ +$/.test(e)),
      'no e-mail with both leading and trailing spaces',
    );
  });

  it('has phones in many shapes, national and international, per country', () => {
    const shapes = new Set(phones.map((p) => p.raw.replace(/\d/g, '9')));
    assert.ok(shapes.size >= 25, `only ${shapes.size} phone shapes`);
    assert.ok(phones.some((p) => p.raw.startsWith('+')));
    assert.ok(phones.some((p) => p.raw.startsWith('00')));
    assert.ok(phones.some((p) => /^0[1-9]/.test(p.raw)));
    const countries = new Set(phones.map((p) => p.country));
    assert.equal(countries.size, 8, [...countries].join());
  });

  it('phone numbers carry the country of their owner', () => {
    for (const { raw, country } of phones) {
      assert.match(normalizePhoneForTest(raw, country), E164, raw);
    }
    for (const { truth } of people) {
      for (const phone of truth.phones) {
        const code = {
          FR: '+33',
          BE: '+32',
          DE: '+49',
          US: '+1',
          GB: '+44',
          ES: '+34',
          IT: '+39',
          NL: '+31',
        };
        assert.ok(phone.startsWith(code[truth.country]), `${phone} for ${truth.country}`);
      }
    }
  });
});
