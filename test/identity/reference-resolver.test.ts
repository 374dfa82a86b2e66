import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  DEFAULT_IDENTITY_SETTINGS,
  identitySettings,
  profileIdFor,
  resolveIdentities,
  type IdentityEvent,
} from '../../src/identity/index.ts';
import { clusters, storedEvent } from './identity-fixtures.ts';

const S = DEFAULT_IDENTITY_SETTINGS;

void describe('resolveIdentities: scenarios', () => {
  void it('anonymous browsing then identify: one profile, history re-attached', () => {
    const events = [
      storedEvent(1, { anonymousId: 'a1' }),
      storedEvent(2, { anonymousId: 'a1' }),
      storedEvent(3, { anonymousId: 'a1', userId: 'u1', email: 'Jane@Example.com' }),
      storedEvent(4, { userId: 'u1' }),
    ];
    const r = resolveIdentities(events, S);
    assert.deepStrictEqual(clusters(r.profiles), [
      ['anonymous_id:a1', 'email:jane@example.com', 'user_id:u1'],
    ]);
    const [profile] = r.profiles;
    assert.equal(profile?.id, profileIdFor('m000001', { type: 'anonymous_id', value: 'a1' }));
    assert.equal(profile?.createdFromSeq, 1);
    assert.ok(r.assignments.every((a) => a.profileId === profile?.id));
    assert.deepStrictEqual(
      r.links.map((l) => [l.identifier.type, l.event.seq]),
      [
        ['anonymous_id', 1],
        ['user_id', 3],
        ['email', 3],
      ],
    );
  });

  void it('two devices, one user: merged, the oldest profile survives', () => {
    const events = [
      storedEvent(1, { anonymousId: 'phone' }),
      storedEvent(2, { anonymousId: 'laptop' }),
      storedEvent(3, { anonymousId: 'laptop', userId: 'u1' }),
      storedEvent(4, { anonymousId: 'phone', userId: 'u1' }),
    ];
    const r = resolveIdentities(events, S);
    assert.deepStrictEqual(clusters(r.profiles), [
      ['anonymous_id:laptop', 'anonymous_id:phone', 'user_id:u1'],
    ]);
    const phoneProfile = profileIdFor('m000001', { type: 'anonymous_id', value: 'phone' });
    const laptopProfile = profileIdFor('m000002', { type: 'anonymous_id', value: 'laptop' });
    assert.equal(r.profiles[0]?.id, phoneProfile);
    assert.deepStrictEqual(r.profiles[0]?.mergedIds, [laptopProfile]);
    assert.deepStrictEqual(
      r.merges.map((m) => [m.survivorId, m.mergedId, m.event.seq]),
      [[phoneProfile, laptopProfile, 4]],
    );
    assert.ok(r.assignments.every((a) => a.profileId === phoneProfile));
  });

  void it('a shared kiosk used by 1,000 user ids does not merge them (user_id limit 1)', () => {
    const events: IdentityEvent[] = [];
    for (let i = 0; i < 1000; i += 1) {
      events.push(storedEvent(2 * i, { anonymousId: 'kiosk' }));
      events.push(
        storedEvent(2 * i + 1, { anonymousId: 'kiosk', userId: `u${i}`, email: `p${i}@example.com` }),
      );
    }
    const r = resolveIdentities(events, S);
    assert.equal(r.profiles.length, 1000);
    for (const profile of r.profiles) {
      assert.equal(profile.identifiers.filter((i) => i.type === 'user_id').length, 1);
      assert.equal(profile.identifiers.filter((i) => i.type === 'email').length, 1);
    }
    assert.equal(r.merges.length, 0);
    const demoted = r.decisions.filter((d) => d.kind === 'demoted');
    assert.equal(demoted.length, 999);
    assert.ok(demoted.every((d) => d.identifier.value === 'kiosk' && d.limitType === 'user_id'));
    // The kiosk stays with the first person who used it: later anonymous kiosk events go there.
    assert.ok(r.profiles[0]?.identifiers.some((i) => i.value === 'kiosk'));
  });

  void it('an e-mail shared by 6 people does not merge them', () => {
    const events = Array.from({ length: 6 }, (_, i) =>
      storedEvent(i, { userId: `u${i}`, anonymousId: `a${i}`, email: 'Family@Example.com' }),
    );
    const r = resolveIdentities(events, S);
    assert.equal(r.profiles.length, 6);
    // Each person's new device stays linked: only the conflicting e-mail is demoted.
    for (let i = 1; i < 6; i += 1) {
      assert.ok(
        clusters(r.profiles).some((c) => c.includes(`anonymous_id:a${i}`) && c.includes(`user_id:u${i}`)),
      );
    }
    assert.deepStrictEqual(
      r.decisions.map((d) => (d.kind === 'demoted' ? `${d.identifier.type}>${d.limitType}` : d.kind)),
      Array.from({ length: 5 }, () => 'email>user_id'),
    );
  });

  void it('e-mail limit: a 6th address is not linked to a profile', () => {
    const events = Array.from({ length: 6 }, (_, i) =>
      storedEvent(i, { userId: 'u1', email: `e${i}@example.com` }),
    );
    const r = resolveIdentities(events, S);
    assert.equal(r.profiles.length, 1);
    assert.equal(r.profiles[0]?.identifiers.filter((i) => i.type === 'email').length, 5);
    assert.deepStrictEqual(
      r.decisions.map((d) => d.kind === 'demoted' && [d.identifier.value, d.limitType]),
      [['e5@example.com', 'email']],
    );
  });

  void it('windowed limit: anonymous ids counted per window only', () => {
    const day = 86_400_000;
    const s = identitySettings({ limits: { anonymous_id: { max: 2, windowMs: 7 * day } } });
    const at = (d: number): number => Date.parse('2025-01-01T00:00:00Z') + d * day;
    const events = [
      storedEvent(1, { userId: 'u1', anonymousId: 'a1', at: at(0) }),
      storedEvent(2, { userId: 'u1', anonymousId: 'a2', at: at(1) }),
      storedEvent(3, { userId: 'u1', anonymousId: 'a3', at: at(2) }),
      storedEvent(4, { userId: 'u1', anonymousId: 'a4', at: at(30) }),
    ];
    const r = resolveIdentities(events, s);
    assert.deepStrictEqual(clusters(r.profiles), [
      ['anonymous_id:a1', 'anonymous_id:a2', 'anonymous_id:a4', 'user_id:u1'],
    ]);
  });

  void it('alias links the previous anonymous id to the user', () => {
    const events = [
      storedEvent(1, { anonymousId: 'a1' }),
      storedEvent(2, { type: 'alias', userId: 'u1', previousId: 'a1' }),
      storedEvent(3, { userId: 'u1' }),
    ];
    const r = resolveIdentities(events, S);
    assert.deepStrictEqual(clusters(r.profiles), [['anonymous_id:a1', 'user_id:u1']]);
  });

  void it('an identify with only an e-mail joins the profile of that e-mail', () => {
    const events = [
      storedEvent(1, { userId: 'u1', email: 'j@example.com' }),
      storedEvent(2, { anonymousId: 'a7', email: ' J@EXAMPLE.com' }),
    ];
    assert.deepStrictEqual(clusters(resolveIdentities(events, S).profiles), [
      ['anonymous_id:a7', 'email:j@example.com', 'user_id:u1'],
    ]);
  });

  void it('blocked and invalid identifiers never link, and are recorded', () => {
    const events = [
      storedEvent(1, { userId: 'null', anonymousId: 'a1' }),
      storedEvent(2, { userId: 'null', anonymousId: 'a2', email: 'not-an-email' }),
    ];
    const r = resolveIdentities(events, S);
    assert.equal(r.profiles.length, 2);
    assert.deepStrictEqual(
      r.decisions.map((d) => d.kind === 'rejected' && d.reason),
      ['identity.blocked', 'identity.blocked', 'identity.invalid_email'],
    );
  });

  void it('an event without identifiers belongs to no profile', () => {
    const r = resolveIdentities([storedEvent(1, { userId: 'undefined' })], S);
    assert.deepStrictEqual(r.profiles, []);
    assert.equal(r.assignments[0]?.profileId, null);
  });

  void it('priority decides which identifier is demoted', () => {
    // crm_id above user_id: the user_id of the conflicting event is the one dropped.
    const s = identitySettings({
      customTypes: ['crm_id'],
      priority: ['crm_id'],
      limits: { crm_id: { max: 1 } },
    });
    const ext = (id: string) => ({
      context: { externalIds: [{ id, type: 'crm_id', collection: 'users', encoding: 'none' }] },
    });
    const events = [
      storedEvent(1, { userId: 'u1', extra: ext('c1') }),
      storedEvent(2, { userId: 'u1', extra: ext('c2') }),
    ];
    const r = resolveIdentities(events, s);
    assert.deepStrictEqual(clusters(r.profiles), [['crm_id:c1', 'user_id:u1'], ['crm_id:c2']]);
  });

  void it('a merged id keeps resolving: merge chains point to the oldest', () => {
    const events = [
      storedEvent(1, { anonymousId: 'a' }),
      storedEvent(2, { anonymousId: 'b' }),
      storedEvent(3, { anonymousId: 'c' }),
      storedEvent(4, { anonymousId: 'b', email: 'x@example.com' }),
      storedEvent(5, { anonymousId: 'c', email: 'x@example.com' }),
      storedEvent(6, { anonymousId: 'a', email: 'x@example.com' }),
    ];
    const r = resolveIdentities(events, S);
    assert.equal(r.profiles.length, 1);
    assert.equal(r.profiles[0]?.createdFromSeq, 1);
    assert.equal(r.profiles[0]?.mergedIds.length, 2);
    assert.ok(r.links.every((l) => l.profileId === r.profiles[0]?.id));
  });
});
