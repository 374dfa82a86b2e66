import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import {
  measureNesting,
  parseEventFilter,
  parseSegmentDefinition,
  printDefinition,
  validateDefinition,
} from '../../src/segment-language/index.ts';
import { deepSegmentExpression, eventFilterExpression, segmentExpression } from './arbitraries.ts';

const RUNS = { numRuns: 1_000 };

void describe('printDefinition ∘ parse round trip', () => {
  void it('parse(print(ast)) deep-equals ast for segment definitions', () => {
    fc.assert(
      fc.property(segmentExpression, (ast) => {
        const text = printDefinition(ast);
        const result = parseSegmentDefinition(text);
        assert.ok(result.ok, `${text}\n${result.ok ? '' : result.error.message}`);
        assert.deepStrictEqual(result.ast, ast);
      }),
      RUNS,
    );
  });

  void it('parse(print(ast)) deep-equals ast for event filters', () => {
    fc.assert(
      fc.property(eventFilterExpression, (ast) => {
        const result = parseEventFilter(printDefinition(ast));
        assert.ok(result.ok);
        assert.deepStrictEqual(result.ast, ast);
      }),
      RUNS,
    );
  });

  void it('prints well-formed, single-line text that survives UTF-8 storage', () => {
    const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
    fc.assert(
      fc.property(segmentExpression, (ast) => {
        const text = printDefinition(ast);
        assert.doesNotMatch(text, loneSurrogate);
        const controls = [...text].filter((char) => char < ' ' || char === '\u2028' || char === '\u2029');
        assert.deepStrictEqual(controls, []);
        const stored = new TextDecoder().decode(new TextEncoder().encode(text));
        assert.deepStrictEqual(parseSegmentDefinition(stored), parseSegmentDefinition(text));
      }),
      RUNS,
    );
  });

  void it('prints the same text again after a round trip', () => {
    fc.assert(
      fc.property(segmentExpression, (ast) => {
        const text = printDefinition(ast);
        const result = parseSegmentDefinition(text);
        assert.ok(result.ok);
        assert.equal(printDefinition(result.ast), text);
      }),
      RUNS,
    );
  });

  void it('the validator and the parser measure nesting alike', () => {
    const limits = { maxNesting: 4 };
    fc.assert(
      fc.property(deepSegmentExpression, (ast) => {
        const tooDeepForValidator = validateDefinition(ast, { limits }).some(
          (problem) => problem.code === 'segment.too_deep',
        );
        const parsed = parseSegmentDefinition(printDefinition(ast), { limits });
        const tooDeepForParser = !parsed.ok && parsed.error.code === 'segment.too_deep';
        assert.equal(tooDeepForValidator, tooDeepForParser, `nesting ${measureNesting(ast)}`);
      }),
      RUNS,
    );
  });
});

const VOCABULARY = [
  'traits.a',
  'properties.b',
  'traits."x y"',
  'event',
  'did',
  '"E"',
  'where',
  '(',
  ')',
  ',',
  'and',
  'or',
  'not',
  'in',
  'segment',
  'last',
  '3',
  '-1.5e3',
  'days',
  'at',
  'least',
  'most',
  'exactly',
  'times',
  'since',
  'between',
  '2026-01-01',
  '2026-01-01T00:00:00Z',
  '=',
  '!=',
  '>=',
  'contains',
  'starts_with',
  'exists',
  'true',
  'null',
  '@',
  '"',
];

void describe('robustness on arbitrary input', () => {
  void it('never throws on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
        parseSegmentDefinition(text);
        parseEventFilter(text);
      }),
      RUNS,
    );
  });

  void it('on token soup, either fails with a position or round-trips', () => {
    const soup = fc.array(fc.constantFrom(...VOCABULARY), { maxLength: 25 }).map((words) => words.join(' '));
    fc.assert(
      fc.property(soup, (text) => {
        const result = parseSegmentDefinition(text);
        if (!result.ok) {
          assert.ok(result.error.line >= 1 && result.error.column >= 1);
          assert.ok(result.error.offset <= text.length);
          return;
        }
        validateDefinition(result.ast, { spans: result.spans });
        const reparsed = parseSegmentDefinition(printDefinition(result.ast));
        assert.ok(reparsed.ok);
        assert.deepStrictEqual(reparsed.ast, result.ast);
      }),
      { numRuns: 3_000 },
    );
  });
});
