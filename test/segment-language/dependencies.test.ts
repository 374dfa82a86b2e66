import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  collectDependencies,
  collectSegmentRefs,
  findSegmentCycle,
  parseSegmentDefinition,
  type Expression,
} from '../../src/segment-language/index.ts';

function parsed(text: string): Expression {
  const result = parseSegmentDefinition(text);
  if (!result.ok) assert.fail(result.error.message);
  return result.ast;
}

void describe('collectDependencies', () => {
  void it('lists what a definition reads, once each, in order of appearance', () => {
    const ast = parsed(
      [
        'traits.plan = "pro" and traits.address.city = "Paris" and traits."first name" exists',
        'and group.plan = "enterprise" and computed.orders_90d > 3 and computed.orders_90d.extra exists',
        'and consent.marketing = true and traits.plan != "free"',
        'and did "Order Completed" where (properties.total > 10 and context.locale = "fr") since 2026-01-01',
        'and not did "Refund" and (in segment "vip" or in segment "gold" or in segment "vip")',
      ].join(' '),
    );
    assert.deepStrictEqual(collectDependencies(ast), {
      traitPaths: [['plan'], ['address', 'city'], ['first name']],
      groupTraitPaths: [['plan']],
      computed: ['orders_90d'],
      consentCategories: ['marketing'],
      events: ['Order Completed', 'Refund'],
      segments: ['vip', 'gold'],
      hasTimeWindow: true,
      hasRelativeWindow: false,
    });
  });

  void it('flags relative windows, which change membership as time passes', () => {
    const relative = collectDependencies(parsed('did "A" in last 7 days'));
    assert.deepStrictEqual([relative.hasTimeWindow, relative.hasRelativeWindow], [true, true]);
    const none = collectDependencies(parsed('traits.a exists or did "A" at least 3 times'));
    assert.deepStrictEqual([none.hasTimeWindow, none.hasRelativeWindow], [false, false]);
  });

  void it('does not count paths inside where clauses as profile traits', () => {
    const dependencies = collectDependencies(parsed('did "A" where (properties.plan = "x")'));
    assert.deepStrictEqual(dependencies.traitPaths, []);
    assert.deepStrictEqual(dependencies.events, ['A']);
  });

  void it('returns frozen lists', () => {
    const dependencies = collectDependencies(parsed('traits.a exists'));
    assert.ok(Object.isFrozen(dependencies) && Object.isFrozen(dependencies.traitPaths));
  });
});

void describe('collectSegmentRefs', () => {
  void it('lists distinct slugs in order', () => {
    const ast = parsed('in segment "b" and (in segment "a" or not in segment "b") and traits.x exists');
    assert.deepStrictEqual(collectSegmentRefs(ast), ['b', 'a']);
    assert.deepStrictEqual(collectSegmentRefs(parsed('traits.x exists')), []);
  });
});

void describe('findSegmentCycle', () => {
  const definitions = (entries: Record<string, string>): Map<string, Expression> =>
    new Map(Object.entries(entries).map(([slug, text]) => [slug, parsed(text)]));

  void it('finds no cycle in a DAG, including shared dependencies and unknown slugs', () => {
    const dag = definitions({
      a: 'in segment "b" and in segment "c"',
      b: 'in segment "c" or in segment "missing"',
      c: 'traits.x exists',
    });
    assert.equal(findSegmentCycle(dag), undefined);
  });

  void it('finds a self reference', () => {
    assert.deepStrictEqual(findSegmentCycle(definitions({ a: 'not in segment "a"' })), ['a', 'a']);
  });

  void it('finds a longer loop and names it from where it closes', () => {
    const looped = definitions({
      start: 'in segment "a"',
      a: 'traits.x exists and in segment "b"',
      b: 'in segment "c"',
      c: 'did "X" or in segment "a"',
    });
    assert.deepStrictEqual(findSegmentCycle(looped), ['a', 'b', 'c', 'a']);
  });

  void it('handles a chain of 20,000 segments without recursion', () => {
    const chain = new Map<string, Expression>();
    for (let i = 0; i < 20_000; i++) chain.set(`s${i}`, parsed(`in segment "s${i + 1}"`));
    chain.set('s20000', parsed('traits.x exists'));
    assert.equal(findSegmentCycle(chain), undefined);
    chain.set('s20000', parsed('in segment "s0"'));
    assert.equal(findSegmentCycle(chain)?.length, 20_002);
  });
});
