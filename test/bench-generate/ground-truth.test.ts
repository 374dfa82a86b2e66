import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { generatePeople, generatePersons, resolveShopOptions } from '../../bench/generate/index.ts';
import type { GeneratedPerson, ShopOptions } from '../../bench/generate/index.ts';
import { identifiersOf, normalizeEmailForTest, truthMismatches } from './identifiers.ts';

const OPTIONS: ShopOptions = { people: 1000, seed: 31 };

describe('ground truth', () => {
  let people: GeneratedPerson[] = [];

  before(() => {
    people = [...generatePersons(OPTIONS)];
  });

  it('every identifier in a message belongs to the person it is attributed to', () => {
    const errors = people.flatMap(({ messages, truth }) =>
      messages.flatMap((m) => truthMismatches(m, truth)),
    );
    assert.deepEqual(errors.slice(0, 10), []);
  });

  it('the check above catches a message attributed to the wrong person', () => {
    const [a, b] = people.filter((p) => p.messages.some((m) => m.message.type === 'identify'));
    assert.ok(a && b);
    const identify = a.messages.find((m) => m.message.type === 'identify');
    assert.ok(identify);
    assert.notDeepEqual(truthMismatches(identify, b.truth), []);
  });

  it('no identifier is owned by two people', () => {
    const owner = new Map<string, string>();
    for (const { truth } of people) {
      const ids = [
        ...truth.anonymousIds,
        ...truth.emails,
        ...truth.phones,
        ...(truth.userId ? [truth.userId] : []),
      ];
      for (const id of ids) {
        const previous = owner.get(id);
        assert.ok(
          previous === undefined || previous === truth.personId,
          `${id}: ${previous} and ${truth.personId}`,
        );
        owner.set(id, truth.personId);
      }
    }
  });

  it('truth identifiers are normalized', () => {
    for (const { truth } of people) {
      for (const email of truth.emails) assert.equal(email, normalizeEmailForTest(email));
      for (const phone of truth.phones) assert.match(phone, /^\+[1-9]\d{7,14}$/);
      if (truth.userId !== null) assert.match(truth.userId, /^crm_\d{6,}$/);
      assert.match(truth.personId, /^p_\d{7}$/);
    }
  });

  it('every device of the truth shows up in the events', () => {
    for (const { truth, messages } of people) {
      const seen = new Set(messages.flatMap((m) => identifiersOf(m).anonymousIds));
      for (const id of truth.anonymousIds) assert.ok(seen.has(id), `${truth.personId} never uses ${id}`);
    }
  });

  it('messages of a person are in time order and inside the simulated period', () => {
    const { start, end } = resolveShopOptions(OPTIONS);
    for (const { messages } of people) {
      for (let i = 0; i < messages.length; i++) {
        const { time, personId } = messages[i]!;
        assert.ok(time >= start && time < end, `${personId} at ${new Date(time).toISOString()}`);
        if (i > 0) assert.ok(time >= messages[i - 1]!.time);
      }
    }
  });

  it('a device sends the userId only after logging in on it, and keeps sending it', () => {
    for (const { messages } of people) {
      const loggedIn = new Set<string>();
      for (const { message } of messages) {
        if (message.type === 'alias' || message.anonymousId === undefined) continue;
        if (message.type === 'identify' && message.userId !== undefined) loggedIn.add(message.anonymousId);
        if (loggedIn.has(message.anonymousId)) assert.ok(message.userId !== undefined, message.messageId);
        else assert.equal(message.userId, undefined, message.messageId);
      }
    }
  });

  it('generatePeople streams the same truth without simulating behaviour', () => {
    assert.deepEqual(
      [...generatePeople(OPTIONS)],
      people.map((p) => p.truth),
    );
  });
});
