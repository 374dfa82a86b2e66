import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ParsedDefinitions } from '../../src/segments/audience-definitions.ts';

describe('parsed segment definitions', () => {
  it('parses a text once and serves the same immutable AST after; a changed text is parsed anew', () => {
    const parsed = new ParsedDefinitions();
    const first = parsed.parse('traits.plan = "pro" and did "Order Completed" where (properties.total > 10)');
    assert.ok(first !== null);
    assert.equal(
      parsed.parse('traits.plan = "pro" and did "Order Completed" where (properties.total > 10)'),
      first,
    );
    assert.ok(Object.isFrozen(first.ast));
    assert.deepEqual(first.filteredEvents, ['Order Completed']);
    const changed = parsed.parse('traits.plan = "gold"');
    assert.ok(changed !== null && changed !== first);
    assert.deepEqual(changed.filteredEvents, []);
  });

  it('remembers that a stored text does not parse (no evaluation uses it)', () => {
    const parsed = new ParsedDefinitions();
    assert.equal(parsed.parse('traits.plan ='), null);
    assert.equal(parsed.parse('traits.plan ='), null);
  });
});
