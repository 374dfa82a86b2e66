import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_SUPER_NODE_EMAIL, generatePeople, generatePersons } from '../../bench/generate/index.ts';
import type { GeneratedMessage, GeneratedPerson, ShopOptions } from '../../bench/generate/index.ts';
import { identifiersOf, normalizeEmailForTest, truthMismatches } from './identifiers.ts';

const BASE = { people: 2000, seed: 123 };

function members(people: GeneratedPerson[]): GeneratedPerson[] {
  return people.filter((p) => p.truth.shared.anonymousIds.length + p.truth.shared.emails.length > 0);
}

describe('super-node scenario', () => {
  it('kiosk: M people with distinct userIds all log in on one shared anonymousId', () => {
    const people = [...generatePersons({ ...BASE, superNode: { size: 1000, kind: 'anonymousId' } })];
    const sharing = members(people);
    assert.equal(sharing.length, 1000);
    const kiosk = sharing[0]!.truth.shared.anonymousIds[0];
    assert.ok(kiosk !== undefined);
    assert.match(kiosk, /^[0-9a-f]{8}-[0-9a-f]{4}-4/);
    const userIdsOnKiosk = new Set<string>();
    for (const { truth, messages } of people) {
      const onKiosk: GeneratedMessage[] = messages.filter((m) => m.message.anonymousId === kiosk);
      if (truth.shared.anonymousIds.includes(kiosk)) assert.ok(onKiosk.length > 0, truth.personId);
      else assert.equal(onKiosk.length, 0, `${truth.personId} is not a member but used the kiosk`);
      for (const m of onKiosk) if (m.message.userId) userIdsOnKiosk.add(m.message.userId);
      assert.ok(!truth.anonymousIds.includes(kiosk), 'the kiosk must not be owned by anyone');
    }
    assert.equal(userIdsOnKiosk.size, 1000, 'each member should be linked to the kiosk by a login');
  });

  it('shared e-mail: M people with distinct userIds identify with the same address, noisily', () => {
    const people = [...generatePersons({ ...BASE, superNode: { size: 300, kind: 'email' } })];
    const sharing = members(people);
    assert.equal(sharing.length, 300);
    const typed = new Set<string>();
    const userIds = new Set<string>();
    for (const { truth, messages } of sharing) {
      assert.deepEqual(truth.shared.emails, [DEFAULT_SUPER_NODE_EMAIL]);
      const identifies = messages.filter((m) =>
        identifiersOf(m).emails.some((e) => normalizeEmailForTest(e) === DEFAULT_SUPER_NODE_EMAIL),
      );
      assert.ok(identifies.length > 0, `${truth.personId} never gave the shared address`);
      for (const m of identifies) {
        typed.add(identifiersOf(m).emails[0]!);
        if (m.message.userId) userIds.add(m.message.userId);
      }
    }
    assert.equal(userIds.size, 300);
    assert.ok(typed.size > 3, 'the shared address should come with the usual noise');
  });

  it('members are spread over the whole population and still consistent with the truth', () => {
    const people = [
      ...generatePersons({ people: 500, seed: 4, superNode: { size: 50, kind: 'anonymousId' } }),
    ];
    const indices = members(people).map((p) => Number(p.truth.personId.slice(2)));
    assert.equal(indices.length, 50);
    assert.ok(indices[0] === 0 && indices.at(-1)! >= 450, `members ${indices[0]}..${indices.at(-1)}`);
    const errors = people.flatMap(({ messages, truth }) =>
      messages.flatMap((m) => truthMismatches(m, truth)),
    );
    assert.deepEqual(errors.slice(0, 5), []);
  });

  it('leaves everyone else exactly as without the scenario', () => {
    const withNode: ShopOptions = {
      ...BASE,
      people: 400,
      superNode: { size: 40, kind: 'email', value: 'x@y.example' },
    };
    const plain = [...generatePeople({ ...BASE, people: 400 })];
    const changed = [...generatePeople(withNode)];
    const memberIds = new Set(changed.filter((t) => t.shared.emails.length > 0).map((t) => t.personId));
    assert.equal(memberIds.size, 40);
    changed.forEach((truth, i) => {
      if (!memberIds.has(truth.personId)) assert.deepEqual(truth, plain[i]);
    });
  });

  it('accepts a custom shared anonymousId', () => {
    const people = [
      ...generatePersons({
        people: 20,
        seed: 1,
        superNode: { size: 5, kind: 'anonymousId', value: 'kiosk-1' },
      }),
    ];
    for (const m of members(people)) assert.deepEqual(m.truth.shared.anonymousIds, ['kiosk-1']);
  });
});
