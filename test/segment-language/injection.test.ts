import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  collectDependencies,
  createPath,
  createCompare,
  parseSegmentDefinition,
  printDefinition,
  validateDefinition,
  type Expression,
} from '../../src/segment-language/index.ts';
import { cmp, str } from './builders.ts';

const HOSTILE = [
  '${process.exit(1)}',
  '`${1+1}`',
  "'; DROP TABLE profiles; --",
  '" OR 1=1 --',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  '</script><script>alert(1)</script>',
  '\u0000\u001b[31m',
  '{{7*7}}',
];

function parsed(text: string): Expression {
  const result = parseSegmentDefinition(text);
  if (!result.ok) assert.fail(result.error.message);
  return result.ast;
}

function quote(value: string): string {
  return JSON.stringify(value);
}

void describe('hostile input is plain data', () => {
  for (const value of HOSTILE) {
    void it(`as a value, key, event name and slug: ${quote(value)}`, () => {
      const text = `traits.${quote(value)} = ${quote(value)} and did ${quote(value)} where (properties.${quote(value)} exists) or in segment ${quote(value)}`;
      const ast = parsed(text);
      assert.equal(printDefinition(ast), printDefinition(parsed(printDefinition(ast))));
      const first =
        (ast.kind === 'or' && ast.operands[0].kind === 'and' && ast.operands[0].operands[0]) || undefined;
      assert.deepStrictEqual(first, createCompare(createPath('traits', [value]), '=', str(value)));
      const dependencies = collectDependencies(ast);
      assert.deepStrictEqual(dependencies.traitPaths, [[value]]);
      assert.deepStrictEqual(dependencies.events, [value]);
      assert.deepStrictEqual(dependencies.segments, [value]);
    });
  }

  void it('keeps __proto__ and constructor keys as array entries, never as object keys', () => {
    const ast = parsed('traits.__proto__.polluted = 1 and traits.constructor.prototype.polluted exists');
    assert.ok(ast.kind === 'and');
    const [first] = ast.operands;
    assert.ok(first.kind === 'compare');
    assert.deepStrictEqual(first.path.keys, ['__proto__', 'polluted']);
    assert.ok(Array.isArray(first.path.keys));
    validateDefinition(ast, { knownComputed: new Set(), knownSegments: new Set() });
    collectDependencies(ast);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted'), false);
  });

  void it('refuses template and SQL syntax outside strings instead of interpreting it', () => {
    const attempts = [
      'traits.plan = ${x}',
      "traits.plan = ''; DROP TABLE x; --",
      'traits.plan = "a"; DROP TABLE x; --',
      'traits.plan = "a" -- comment',
      'traits.plan = "a" /* c */',
      'traits[`x`] = 1',
    ];
    for (const text of attempts) {
      const result = parseSegmentDefinition(text);
      assert.ok(!result.ok, text);
      assert.equal(result.error.code, 'segment.parse_error');
    }
  });

  void it('reads a closing quote inside a value as data, not as the end of the string', () => {
    assert.deepStrictEqual(
      parsed(String.raw`traits.a = "x\" or traits.b exists"`),
      cmp('traits.a', '=', str('x" or traits.b exists')),
    );
  });

  void it('treats the names of Object.prototype members as unknown roots, not as lookups', () => {
    for (const root of ['constructor', 'toString', 'hasOwnProperty', '__proto__']) {
      const problems = validateDefinition(parsed(`${root}.x = 1`));
      assert.deepStrictEqual(
        problems.map((problem) => problem.code),
        ['segment.unknown_root'],
        root,
      );
    }
  });

  void it('returns frozen trees', () => {
    const ast = parsed('traits.a in (1, 2) and did "X" where (properties.b = "c") in last 2 days');
    const stack: unknown[] = [ast];
    for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
      if (typeof node !== 'object' || node === null) continue;
      assert.ok(Object.isFrozen(node), JSON.stringify(node));
      stack.push(...Object.values(node));
    }
    assert.throws(() => {
      (ast as { kind: string }).kind = 'or';
    }, TypeError);
  });
});
