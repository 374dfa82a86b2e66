import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import {
  DEFAULT_IDENTITY_SETTINGS,
  identitySettings,
  limitFor,
  resolveIdentities,
  type IdentityEvent,
  type IdentitySettings,
} from '../../src/identity/index.ts';
import { storedEvent } from './identity-fixtures.ts';

/** Small pools so that events collide on identifiers, timestamps and even messageIds. */
const eventArbitrary = fc.record({
  userId: fc.option(fc.constantFrom('u0', 'u1', 'u2', 'u3', 'null'), { nil: undefined }),
  anonymousId: fc.option(fc.constantFrom('a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'kiosk'), { nil: undefined }),
  email: fc.option(
    fc.constantFrom('e0@x.example', ' E0@X.example', 'e1@x.example', 'shared@x.example', 'bad'),
    {
      nil: undefined,
    },
  ),
  phone: fc.option(fc.constantFrom('+33 6 12 34 56 78', '+44 7911 123456', '12'), { nil: undefined }),
  second: fc.integer({ min: 0, max: 20 }),
  messageId: fc.constantFrom('m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8', 'm9'),
});

const eventsArbitrary = fc.array(eventArbitrary, { maxLength: 40 }).map((specs) =>
  specs.map((spec, i) =>
    storedEvent(i, {
      ...(spec.userId === undefined ? {} : { userId: spec.userId }),
      ...(spec.anonymousId === undefined ? {} : { anonymousId: spec.anonymousId }),
      ...(spec.email === undefined ? {} : { email: spec.email }),
      ...(spec.phone === undefined ? {} : { phone: spec.phone }),
      at: Date.parse('2025-01-01T00:00:00Z') + spec.second * 1000,
      messageId: `${spec.messageId}-${i % 7}`,
    }),
  ),
);

/** Events plus a permutation of them (keys sorted → a uniformly random order). */
const eventsAndShuffle = eventsArbitrary.chain((events) =>
  fc
    .array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: events.length, maxLength: events.length })
    .map((keys): [IdentityEvent[], IdentityEvent[]] => {
      const order = events.map((_, i) => i).sort((a, b) => (keys[a] ?? 0) - (keys[b] ?? 0) || a - b);
      return [events, order.map((i) => events[i] as IdentityEvent)];
    }),
);

const SETTINGS: [string, IdentitySettings][] = [
  ['default settings', DEFAULT_IDENTITY_SETTINGS],
  [
    'tight limits',
    identitySettings({ limits: { email: { max: 1 }, anonymous_id: { max: 2 }, phone: { max: 1 } } }),
  ],
  ['windowed limits', identitySettings({ limits: { anonymous_id: { max: 2, windowMs: 5_000 } } })],
];

void describe('order independence (property)', () => {
  for (const [name, settings] of SETTINGS) {
    void it(`any shuffle yields identical profiles, ids, merges and decisions: ${name}`, () => {
      fc.assert(
        fc.property(eventsAndShuffle, ([events, shuffled]) => {
          const a = resolveIdentities(events, settings);
          const b = resolveIdentities(shuffled, settings);
          assert.deepStrictEqual(b.profiles, a.profiles);
          assert.deepStrictEqual(b.merges, a.merges);
          assert.deepStrictEqual(b.decisions, a.decisions);
          assert.deepStrictEqual(b.links, a.links);
        }),
        { numRuns: 300 },
      );
    });

    void it(`no profile ever grows past a limit: ${name}`, () => {
      fc.assert(
        fc.property(eventsArbitrary, (events) => {
          for (const profile of resolveIdentities(events, settings).profiles) {
            const counts = new Map<string, number>();
            for (const i of profile.identifiers) counts.set(i.type, (counts.get(i.type) ?? 0) + 1);
            for (const [type, count] of counts) {
              const limit = limitFor(settings, type);
              if (limit.windowMs === undefined) assert.ok(count <= limit.max, `${type}: ${count}`);
            }
          }
        }),
        { numRuns: 300 },
      );
    });
  }

  void it('every identifier belongs to exactly one profile, and every link points to it', () => {
    fc.assert(
      fc.property(eventsArbitrary, (events) => {
        const r = resolveIdentities(events, DEFAULT_IDENTITY_SETTINGS);
        const owner = new Map<string, string>();
        for (const p of r.profiles) {
          for (const i of p.identifiers) {
            const key = `${i.type}:${i.value}`;
            assert.equal(owner.has(key), false, key);
            owner.set(key, p.id);
          }
        }
        for (const l of r.links)
          assert.equal(owner.get(`${l.identifier.type}:${l.identifier.value}`), l.profileId);
      }),
      { numRuns: 200 },
    );
  });
});
