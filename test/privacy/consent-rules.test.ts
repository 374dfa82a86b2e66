import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  consentOf,
  currentConsent,
  DEFAULT_CONSENT_SETTINGS,
  validateConsentSettings,
  type ConsentEntry,
} from '../../src/privacy/consent.ts';
import type { JsonObject } from '../../src/shared/json.ts';

const event = (context: unknown) => ({
  seq: 7,
  messageId: 'm-7',
  timestampMs: 1_000,
  receivedMs: 2_000,
  message: { type: 'track', context } as unknown as JsonObject,
});

const read = (context: unknown) =>
  consentOf(event(context), DEFAULT_CONSENT_SETTINGS).map(
    (o) => `${o.category}=${String(o.granted)}/${o.source}`,
  );

describe('consent rules', () => {
  const cases: [string, unknown, string[]][] = [
    ['no context', undefined, []],
    ['consent not an object', { consent: 'yes' }, []],
    ['no preferences', { consent: {} }, []],
    [
      "Segment's format, names matched without case",
      { consent: { categoryPreferences: { Marketing: true, ANALYTICS: false } } },
      ['marketing=true/event', 'analytics=false/event'],
    ],
    [
      'unknown categories and non-boolean values are ignored',
      {
        consent: {
          categoryPreferences: { C0004: true, marketing: 'yes', advertising: null, necessary: true },
        },
      },
      ['necessary=true/event'],
    ],
    [
      '__proto__ and constructor are plain (unknown) keys',
      { consent: { categoryPreferences: JSON.parse('{"__proto__":{"marketing":true},"constructor":true}') } },
      [],
    ],
    ['GPC refuses advertising', { consent: { gpc: true } }, ['advertising=false/gpc']],
    [
      'GPC wins over the same event’s preferences',
      { consent: { gpc: true, categoryPreferences: { advertising: true, marketing: true } } },
      ['advertising=false/gpc', 'marketing=true/event'],
    ],
    ['gpc must be true', { consent: { gpc: 'true' } }, []],
  ];
  for (const [name, context, expected] of cases)
    it(name, () => assert.deepEqual(read(context).sort(), [...expected].sort()));

  it('validates settings', () => {
    assert.deepEqual(validateConsentSettings({}), { ok: true, settings: DEFAULT_CONSENT_SETTINGS });
    assert.equal(validateConsentSettings({ categories: ['a', 'a'], gpcOptOut: [] }).ok, true);
    for (const bad of [
      null,
      [],
      { categories: 'marketing' },
      { categories: ['Marketing'] },
      { categories: ['x'.repeat(65)] },
      { categories: ['sale'], gpcOptOut: ['ads'] },
      { other: 1 },
      { categories: Array.from({ length: 51 }, (_, i) => `c${i}`) },
    ])
      assert.equal(validateConsentSettings(bad).ok, false, JSON.stringify(bad));
  });

  it('a value counts at the earlier of the timestamp and the receive time: no event claims the future', () => {
    const context = { consent: { categoryPreferences: { marketing: true } } };
    const at = (timestampMs: number, receivedMs: number) =>
      consentOf({ ...event(context), timestampMs, receivedMs }, DEFAULT_CONSENT_SETTINGS).map((o) => o.tsMs);
    assert.deepEqual(at(1_000, 2_000), [1_000], 'a past timestamp is kept (a late or offline batch)');
    assert.deepEqual(at(4_102_444_800_000, 2_000), [2_000], 'a future timestamp counts when received');
    assert.deepEqual(at(2_000, 2_000), [2_000]);
  });

  it('the current value depends only on the set of values, never on their order', () => {
    const entry = fc.record({
      category: fc.constantFrom('marketing', 'analytics'),
      granted: fc.boolean(),
      source: fc.constantFrom('event', 'gpc', 'api', 'import:crm'),
      tsMs: fc.integer({ min: 0, max: 5 }),
      messageId: fc.option(fc.constantFrom('a', 'b', 'c'), { nil: null }),
    });
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 12 }), fc.func(fc.integer()), (entries, key) => {
        const shuffled = [...entries].sort((a, b) => key(a) - key(b));
        const view = (m: Map<string, ConsentEntry>) =>
          JSON.stringify([...m.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
        assert.equal(view(currentConsent(shuffled)), view(currentConsent(entries)));
      }),
    );
  });

  it('the latest time wins; at the same time a refusal wins', () => {
    const at = (tsMs: number, granted: boolean, source = 'event'): ConsentEntry => ({
      category: 'marketing',
      granted,
      source,
      tsMs,
      messageId: null,
    });
    assert.equal(currentConsent([at(2, true), at(1, false)]).get('marketing')?.granted, true);
    assert.equal(currentConsent([at(1, true), at(1, false, 'api')]).get('marketing')?.granted, false);
  });
});
