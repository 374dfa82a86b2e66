import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { generatePersons, resolveShopOptions } from '../../bench/generate/index.ts';
import type { GeneratedPerson, SegmentMessage } from '../../bench/generate/index.ts';

const OPTIONS = { people: 3000, seed: 77 };

const share = (count: number, total: number): number => count / total;
const assertNear = (actual: number, expected: number, tolerance: number, label: string): void => {
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${label}: ${actual.toFixed(3)}, expected ~${expected}`,
  );
};
const isEvent = (message: SegmentMessage, event: string): boolean =>
  message.type === 'track' && message.event === event;

describe('distribution sanity', () => {
  let people: GeneratedPerson[] = [];
  const n = OPTIONS.people;

  before(() => {
    people = [...generatePersons(OPTIONS)];
  });

  it('people have 1–4 devices, about 1.9 on average', () => {
    const counts = people.map((p) => p.truth.anonymousIds.length);
    assert.deepEqual([...new Set(counts)].sort(), [1, 2, 3, 4]);
    assertNear(counts.reduce((a, b) => a + b, 0) / n, 1.88, 0.1, 'devices per person');
  });

  it('people have 0–2 e-mails, a phone for ~40%, a CRM id for ~80%, a company for ~10%', () => {
    const emails = people.map((p) => p.truth.emails.length);
    assert.deepEqual([...new Set(emails)].sort(), [0, 1, 2]);
    assertNear(share(emails.filter((c) => c === 0).length, n), 0.12, 0.03, 'no e-mail');
    assertNear(share(people.filter((p) => p.truth.phones.length === 1).length, n), 0.4, 0.04, 'phone');
    assert.ok(people.every((p) => p.truth.phones.length <= 1));
    assertNear(share(people.filter((p) => p.truth.userId !== null).length, n), 0.8, 0.04, 'userId');
    const groups = people.map((p) => p.truth.groupId).filter((g) => g !== null);
    assertNear(share(groups.length, n), 0.1, 0.03, 'company');
    assert.ok(groups.length - new Set(groups).size > 20, 'companies should have several employees');
  });

  it('covers every country, with a locale of that country', () => {
    const countries = new Set(people.map((p) => p.truth.country));
    assert.equal(countries.size, 8);
    for (const { truth, messages } of people) {
      for (const { message } of messages) assert.ok(message.context.locale?.endsWith(`-${truth.country}`));
    }
  });

  it('some people never buy, some buy often', () => {
    const orders = people.map((p) => p.messages.filter((m) => isEvent(m.message, 'Order Completed')).length);
    const buyers = orders.filter((o) => o > 0).length;
    assertNear(share(buyers, n), 0.25, 0.12, 'buyers');
    assert.ok(orders.filter((o) => o >= 3).length > 30, 'too few frequent buyers');
    people.forEach((p, i) => {
      if (p.truth.profile === 'never') assert.equal(orders[i], 0, `${p.truth.personId} should never buy`);
    });
  });

  it('the funnel narrows at every step with plausible drop-offs', () => {
    const steps = ['Product Viewed', 'Product Added', 'Cart Viewed', 'Checkout Started', 'Order Completed'];
    const all = people.flatMap((p) => p.messages.map((m) => m.message));
    const counts = steps.map((step) => all.filter((m) => isEvent(m, step)).length);
    for (let i = 1; i < counts.length; i++)
      assert.ok(counts[i]! < counts[i - 1]!, `${steps[i]} ≥ ${steps[i - 1]}`);
    const [viewed = 0, added = 0, cart = 0, checkout = 0, ordered = 0] = counts;
    assert.ok(share(added, viewed) > 0.05 && share(added, viewed) < 0.4, `add rate ${share(added, viewed)}`);
    assert.ok(share(cart, added) > 0.4 && share(cart, added) < 0.9, `cart rate ${share(cart, added)}`);
    assert.ok(share(checkout, cart) > 0.3 && share(checkout, cart) < 0.8);
    assert.ok(share(ordered, checkout) > 0.4 && share(ordered, checkout) < 0.95);
  });

  it('identifies with a userId, and sometimes with only an e-mail', () => {
    const identifies = people
      .flatMap((p) => p.messages.map((m) => m.message))
      .filter((m) => m.type === 'identify');
    const anonymous = identifies.filter((m) => m.userId === undefined);
    assert.ok(
      share(anonymous.length, identifies.length) > 0.05 && share(anonymous.length, identifies.length) < 0.5,
    );
    for (const m of anonymous) assert.ok(m.type === 'identify' && typeof m.traits.email === 'string');
    const withUserId = people.filter((p) =>
      p.messages.some((m) => m.message.type === 'identify' && m.message.userId),
    );
    assert.ok(share(withUserId.length, n) > 0.5, 'most people with a CRM id should log in');
  });

  it('spreads activity over the whole period', () => {
    const { start, end } = resolveShopOptions(OPTIONS);
    const month = (end - start) / 6;
    const times = people.flatMap((p) => p.messages.map((m) => m.time));
    const first = times.filter((t) => t < start + month).length;
    const last = times.filter((t) => t >= end - month).length;
    assert.ok(share(first, times.length) > 0.05, `first month ${share(first, times.length)}`);
    assert.ok(share(last, times.length) > 0.1, `last month ${share(last, times.length)}`);
  });

  it('produces a few dozen messages per person on average', () => {
    const perPerson = people.reduce((sum, p) => sum + p.messages.length, 0) / n;
    assert.ok(perPerson > 10 && perPerson < 80, `${perPerson} messages per person`);
  });
});
