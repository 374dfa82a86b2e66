import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { generatePersons } from '../../bench/generate/index.ts';
import type { GeneratedPerson } from '../../bench/generate/index.ts';
import { specViolations } from './segment-spec.ts';

interface OrderProperties {
  subtotal: number;
  discount: number;
  revenue: number;
  shipping: number;
  tax: number;
  total: number;
  products: { price: number; quantity: number }[];
}

const valid = {
  type: 'track',
  messageId: 'm1',
  timestamp: '2024-07-01T12:00:00.000Z',
  anonymousId: 'a1',
  event: 'Signed Up',
  properties: {},
  context: { library: { name: 'analytics.js', version: '1' }, ip: '192.0.2.1', locale: 'fr-FR' },
};

describe('the spec checker itself', () => {
  it('accepts a valid message', () => {
    assert.deepEqual(specViolations(valid), []);
  });

  const broken: [string, Record<string, unknown>, RegExp][] = [
    ['track without event', { ...valid, event: undefined }, /event/],
    ['no identity', { ...valid, anonymousId: undefined }, /userId or anonymousId/],
    ['bad timestamp', { ...valid, timestamp: '01/07/2024' }, /ISO 8601/],
    ['no messageId', { ...valid, messageId: '' }, /messageId/],
    [
      'alias without previousId',
      { ...valid, type: 'alias', event: undefined, properties: undefined },
      /alias/,
    ],
    [
      'group without groupId',
      { ...valid, type: 'group', event: undefined, properties: undefined },
      /groupId/,
    ],
    ['field of another type', { ...valid, traits: {} }, /unexpected field traits/],
    ['real IP address', { ...valid, context: { ...valid.context, ip: '8.8.8.8' } }, /documentation/],
    [
      'order without revenue',
      { ...valid, event: 'Order Completed', properties: { order_id: 'o' } },
      /revenue/,
    ],
  ];
  for (const [label, message, pattern] of broken) {
    it(`rejects ${label}`, () => {
      const cleaned = JSON.parse(JSON.stringify(message)) as unknown;
      assert.match(specViolations(cleaned).join('\n'), pattern);
    });
  }
});

describe('generated messages follow the Segment spec', () => {
  let people: GeneratedPerson[] = [];

  before(() => {
    people = [
      ...generatePersons({ people: 800, seed: 2024 }),
      ...generatePersons({ people: 100, seed: 7, superNode: { size: 20, kind: 'anonymousId' } }),
      ...generatePersons({ people: 100, seed: 8, superNode: { size: 20, kind: 'email' } }),
    ];
  });

  it('every message is valid, as an object and after a JSON round trip', () => {
    let count = 0;
    for (const { messages } of people) {
      for (const { message } of messages) {
        count++;
        const errors = [...specViolations(message), ...specViolations(JSON.parse(JSON.stringify(message)))];
        assert.deepEqual(errors, [], JSON.stringify(message));
      }
    }
    assert.ok(count > 10_000, `only ${count} messages`);
  });

  it('uses every call type and every funnel event', () => {
    const seen = new Set<string>();
    for (const { messages } of people) {
      for (const { message } of messages) seen.add(message.type === 'track' ? message.event : message.type);
    }
    const expected = ['identify', 'page', 'screen', 'group', 'alias', 'Product Viewed', 'Product Added'];
    for (const name of [...expected, 'Cart Viewed', 'Checkout Started', 'Order Completed']) {
      assert.ok(seen.has(name), `no ${name}`);
    }
  });

  it('messageIds are unique and timestamps agree with time', () => {
    const ids = new Set<string>();
    let count = 0;
    for (const { messages } of people) {
      for (const { message, time } of messages) {
        ids.add(message.messageId);
        count++;
        assert.equal(Date.parse(message.timestamp), time);
        assert.equal(new Date(time).toISOString(), message.timestamp);
      }
    }
    assert.equal(ids.size, count);
  });

  it('app devices send screen calls with app context, web devices page calls with a userAgent', () => {
    for (const { messages } of people) {
      for (const { message } of messages) {
        const library = message.context.library.name;
        if (message.type === 'screen') assert.match(library, /^analytics-(swift|kotlin)$/);
        if (message.type === 'page') {
          assert.equal(library, 'analytics.js');
          assert.ok(message.context.userAgent?.startsWith('Mozilla/5.0'));
        }
        if (library !== 'analytics.js') assert.ok(message.context.app && message.context.os);
      }
    }
  });

  it('orders add up: revenue = subtotal − discount, total = revenue + shipping + tax', () => {
    let orders = 0;
    for (const { messages } of people) {
      for (const { message } of messages) {
        if (message.type !== 'track' || message.event !== 'Order Completed') continue;
        orders++;
        const p = message.properties as unknown as OrderProperties;
        const subtotal = p.products.reduce((sum, line) => sum + line.price * line.quantity, 0);
        assert.ok(Math.abs(p.subtotal - subtotal) < 0.011, JSON.stringify(p));
        assert.ok(Math.abs(p.revenue - (p.subtotal - p.discount)) < 0.011);
        assert.ok(Math.abs(p.total - (p.revenue + p.shipping + p.tax)) < 0.011);
      }
    }
    assert.ok(orders > 50, `only ${orders} orders`);
  });

  it('sometimes carries consent preferences and campaigns in the context', () => {
    const all = people.flatMap((p) => p.messages.map((m) => m.message));
    const consent = all.filter((m) => m.context.consent !== undefined).length / all.length;
    const campaign = all.filter((m) => m.context.campaign !== undefined).length / all.length;
    assert.ok(consent > 0.1 && consent < 0.8, `consent on ${consent}`);
    assert.ok(campaign > 0.01 && campaign < 0.3, `campaign on ${campaign}`);
  });
});
