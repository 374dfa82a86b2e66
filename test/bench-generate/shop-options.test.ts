import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DEFAULT_END,
  InvalidShopOptionsError,
  generatePeople,
  generateShop,
  resolveShopOptions,
  validateShopOptions,
} from '../../bench/generate/index.ts';
import type { ShopOptions } from '../../bench/generate/index.ts';

const valid: ShopOptions = { people: 10, seed: 1 };

describe('shop options', () => {
  it('fills the documented defaults', () => {
    const options = resolveShopOptions(valid);
    assert.equal(options.end, DEFAULT_END.getTime());
    assert.equal(options.months, 6);
    assert.equal(options.start, Date.parse('2024-07-01T00:00:00.000Z'));
    assert.equal(options.activity, 1);
    assert.equal(options.order, 'person');
    assert.equal(options.superNode, null);
    assert.ok(Object.isFrozen(options));
  });

  it('computes start from end and months in calendar months', () => {
    const options = resolveShopOptions({ ...valid, end: new Date('2024-03-31T00:00:00Z'), months: 1 });
    assert.equal(new Date(options.start).toISOString(), '2024-03-02T00:00:00.000Z');
    const year = resolveShopOptions({ ...valid, end: new Date('2024-06-15T12:00:00Z'), months: 12 });
    assert.equal(new Date(year.start).toISOString(), '2023-06-15T12:00:00.000Z');
  });

  const invalid: [string, ShopOptions, RegExp][] = [
    ['zero people', { ...valid, people: 0 }, /people/],
    ['fractional people', { ...valid, people: 2.5 }, /people/],
    ['too many people', { ...valid, people: 10_000_001 }, /people/],
    ['negative seed', { ...valid, seed: -1 }, /seed/],
    ['huge seed', { ...valid, seed: 2 ** 32 }, /seed/],
    ['invalid end', { ...valid, end: new Date('nope') }, /end/],
    ['zero months', { ...valid, months: 0 }, /months/],
    ['zero activity', { ...valid, activity: 0 }, /activity/],
    ['unknown order', { ...valid, order: 'random' as never }, /order/],
    ['zero window', { ...valid, shuffleWindow: 0 }, /shuffleWindow/],
    [
      'super node larger than the shop',
      { ...valid, superNode: { size: 11, kind: 'email' } },
      /superNode.size/,
    ],
    ['super node of one', { ...valid, superNode: { size: 1, kind: 'email' } }, /superNode.size/],
    ['unknown super node kind', { ...valid, superNode: { size: 2, kind: 'ip' as never } }, /superNode.kind/],
    [
      'super node e-mail that is not one',
      { ...valid, superNode: { size: 2, kind: 'email', value: 'kiosk' } },
      /e-mail/,
    ],
  ];
  for (const [label, input, pattern] of invalid) {
    it(`rejects ${label}`, () => {
      const result = validateShopOptions(input);
      assert.equal(result.ok, false);
      if (!result.ok) assert.match(result.errors.join('\n'), pattern);
      assert.throws(() => resolveShopOptions(input), InvalidShopOptionsError);
    });
  }

  it('reports every problem at once', () => {
    const result = validateShopOptions({ people: 0, seed: -1, months: 0 });
    assert.equal(result.ok, false);
    if (!result.ok) assert.equal(result.errors.length, 3);
  });

  it('validates when the generators are called, not when first consumed', () => {
    assert.throws(() => generateShop({ people: -1, seed: 1 }), InvalidShopOptionsError);
    assert.throws(() => generatePeople({ people: -1, seed: 1 }), InvalidShopOptionsError);
  });

  it('normalizes a given super-node e-mail', () => {
    const options = resolveShopOptions({
      ...valid,
      superNode: { size: 2, kind: 'email', value: ' Info@Shop.Example ' },
    });
    assert.equal(options.superNode?.value, 'info@shop.example');
  });
});
