// fast-check generators of segment-language trees, for property tests. They cover every node
// kind and hostile content (any UTF-16 unit, lone surrogates, keyword-like keys, extreme numbers).
import fc from 'fast-check';

import {
  createAnd,
  createBetweenWindow,
  createBooleanLiteral,
  createCompare,
  createCount,
  createDateLiteral,
  createDid,
  createExists,
  createIn,
  createInSegment,
  createLastWindow,
  createNot,
  createNullLiteral,
  createNumberLiteral,
  createOr,
  createPath,
  createSinceWindow,
  createStringLiteral,
  createAllTimeWindow,
  type DateLiteral,
  type Expression,
  type Literal,
  type Operands,
  type PathNode,
  type TimeWindow,
} from '../../src/segment-language/index.ts';

const anyCodeUnit = fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code));

export const anyText = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 8 }),
  fc.string({ unit: anyCodeUnit, maxLength: 8 }),
  fc.constantFrom(
    '__proto__',
    'constructor',
    'and',
    'not',
    'in',
    'did',
    '${x}',
    "'; DROP TABLE x; --",
    'a.b',
    '',
  ),
);

const identifier = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,6}$/);
const RESERVED_ROOTS = new Set(['not', 'did', 'in']);
const root = fc.oneof(
  fc.constantFrom(
    'traits',
    'group',
    'computed',
    'consent',
    'properties',
    'context',
    'event',
    'type',
    'userId',
  ),
  identifier.filter((name) => !RESERVED_ROOTS.has(name.toLowerCase())),
);

export const pathNode: fc.Arbitrary<PathNode> = fc
  .tuple(root, fc.array(fc.oneof(identifier, anyText), { maxLength: 3 }))
  .map(([name, keys]) => createPath(name, keys));

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const pad = (value: number, width = 2): string => String(value).padStart(width, '0');

export const dateLiteral: fc.Arbitrary<DateLiteral> = fc
  .record({
    year: fc.integer({ min: 0, max: 9999 }),
    month: fc.integer({ min: 1, max: 12 }),
    day: fc.integer({ min: 1, max: 31 }),
    time: fc.option(
      fc.record({
        hour: fc.integer({ min: 0, max: 23 }),
        minute: fc.integer({ min: 0, max: 59 }),
        second: fc.integer({ min: 0, max: 59 }),
        fraction: fc.option(fc.stringMatching(/^[0-9]{1,9}$/)),
        zone: fc.oneof(
          fc.constant('Z'),
          fc
            .tuple(
              fc.constantFrom('+', '-'),
              fc.integer({ min: 0, max: 23 }),
              fc.integer({ min: 0, max: 59 }),
            )
            .map(([sign, h, m]) => `${sign}${pad(h)}:${pad(m)}`),
        ),
      }),
    ),
  })
  .map(({ year, month, day, time }) => {
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
    const maxDay = month === 2 && !leap ? 28 : (DAYS_IN_MONTH[month - 1] ?? 28);
    const datePart = `${pad(year, 4)}-${pad(month)}-${pad(Math.min(day, maxDay))}`;
    if (time === null) return createDateLiteral(datePart);
    const fraction = time.fraction === null ? '' : `.${time.fraction}`;
    const clock = `${pad(time.hour)}:${pad(time.minute)}:${pad(time.second)}${fraction}`;
    return createDateLiteral(`${datePart}T${clock}${time.zone}`);
  });

const finiteNumber = fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }));

export const literal: fc.Arbitrary<Literal> = fc.oneof(
  anyText.map(createStringLiteral),
  finiteNumber.map(createNumberLiteral),
  fc.boolean().map(createBooleanLiteral),
  fc.constant(null).map(createNullLiteral),
  dateLiteral,
);

const compareOperator = fc.constantFrom('=', '!=', '>', '>=', '<', '<=', 'contains', 'starts_with' as const);

/** Conditions on one value: everything allowed in event filters and where clauses. */
const condition: fc.Arbitrary<Expression> = fc.oneof(
  fc.tuple(pathNode, compareOperator, literal).map(([path, op, value]) => createCompare(path, op, value)),
  fc
    .tuple(pathNode, fc.array(literal, { minLength: 1, maxLength: 4 }))
    .map(([path, values]) => createIn(path, values as [Literal, ...Literal[]])),
  pathNode.map(createExists),
);

export const timeWindow: fc.Arbitrary<TimeWindow> = fc.oneof(
  fc.constant(null).map(createAllTimeWindow),
  fc
    .tuple(
      fc.oneof(fc.nat(), finiteNumber),
      fc.constantFrom('minute', 'hour', 'day', 'week', 'month' as const),
    )
    .map(([amount, unit]) => createLastWindow(amount, unit)),
  dateLiteral.map(createSinceWindow),
  fc.tuple(dateLiteral, dateLiteral).map(([from, to]) => createBetweenWindow(from, to)),
);

/** Trees of `leaf` joined by and/or/not, at most `depth` operators deep. */
export function expressionOf(leaf: fc.Arbitrary<Expression>, depth: number): fc.Arbitrary<Expression> {
  if (depth === 0) return leaf;
  const inner = expressionOf(leaf, depth - 1);
  const operands = fc
    .array(inner, { minLength: 2, maxLength: 3 })
    .map((items) => items as unknown as Operands);
  return fc.oneof(
    { weight: 3, arbitrary: leaf },
    { weight: 1, arbitrary: operands.map(createAnd) },
    { weight: 1, arbitrary: operands.map(createOr) },
    { weight: 1, arbitrary: inner.map(createNot) },
  );
}

export const eventFilterExpression = expressionOf(condition, 3);

const did: fc.Arbitrary<Expression> = fc
  .record({
    event: anyText,
    where: fc.option(expressionOf(condition, 2)),
    op: fc.constantFrom('at_least', 'at_most', 'exactly' as const),
    n: fc.oneof(fc.nat(), finiteNumber),
    window: timeWindow,
  })
  .map(({ event, where, op, n, window }) => createDid(event, { where, count: createCount(op, n), window }));

export const segmentExpression = expressionOf(fc.oneof(condition, did, anyText.map(createInSegment)), 3);

/** Deeper trees, for checking that nesting is measured the same way by the parser and the validator. */
export const deepSegmentExpression = expressionOf(fc.oneof(condition, did), 6);
