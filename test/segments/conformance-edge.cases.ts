import { DAY, NOW, type ConformanceCase } from './conformance.cases.ts';
import type { ProfileFixture } from './profile-fixtures.ts';

const signedUp = (id: string, atMs: number): ProfileFixture => ({
  id,
  events: [{ event: 'Signed Up', atMs }],
});

/** Events around the edge of a 7-day window ending now. */
const EDGE: readonly ProfileFixture[] = [
  signedUp('e1_exactly_7d', NOW - 7 * DAY),
  signedUp('e2_7d_and_1ms', NOW - 7 * DAY - 1),
  signedUp('e3_now', NOW),
  signedUp('e4_1ms_ahead', NOW + 1),
  signedUp('e5_30d', NOW - 30 * DAY),
  signedUp('e6_31d', NOW - 31 * DAY),
];

const windowCases: ConformanceCase[] = [
  ...['7 days', '168 hours', '10080 minutes', '1 week'].map((span): ConformanceCase => ({
    name: `window edge: in last ${span}`,
    definition: `did "Signed Up" in last ${span}`,
    profiles: EDGE,
    expected: ['e1_exactly_7d', 'e3_now', 'e4_1ms_ahead'],
  })),
  {
    name: 'window edge: 1 ms later the oldest event has left',
    definition: 'did "Signed Up" in last 7 days',
    nowMs: NOW + 1,
    profiles: EDGE,
    expected: ['e3_now', 'e4_1ms_ahead'],
  },
  {
    name: 'months are 30 days, not calendar months',
    definition: 'did "Signed Up" in last 1 month and not did "Signed Up" in last 29 days',
    profiles: EDGE,
    expected: ['e5_30d'],
  },
  {
    name: 'since now includes now',
    definition: 'did "Signed Up" since 2026-03-15T12:00:00Z',
    profiles: EDGE,
    expected: ['e3_now', 'e4_1ms_ahead'],
  },
  {
    name: 'since in another time zone',
    definition: 'did "Signed Up" since 2026-03-15T07:00:00.001-05:00',
    profiles: EDGE,
    expected: ['e4_1ms_ahead'],
  },
  {
    name: 'between in another time zone, end excluded',
    definition: 'did "Signed Up" between 2026-03-08T13:00:00+01:00 and 2026-03-15T13:00:00+01:00',
    profiles: EDGE,
    expected: ['e1_exactly_7d'],
  },
];

const dated = (id: string, value: unknown): ProfileFixture => ({ id, traits: { d: value } as never });

/** Trait values that are, or look like, dates. */
const DATES: readonly ProfileFixture[] = [
  dated('d01_date', '2026-01-01'),
  dated('d02_utc', '2026-01-01T10:00:00Z'),
  dated('d03_no_zone', '2026-01-01T10:00:00'),
  dated('d04_offset', '2026-01-01T15:30:00.123456789+05:30'),
  dated('d05_lower_case', '2026-01-01t10:00:00z'),
  dated('d06_space', '2026-01-01 10:00:00'),
  dated('d07_epoch_number', 1767261600000),
  dated('d08_feb_30', '2026-02-30'),
  dated('d09_24h', '2026-01-01T24:00:00Z'),
  dated('d10_zone_24', '2026-01-01T10:00:00+24:00'),
  dated('d11_year_zero', '0000-03-01'),
  dated('d12_leap_2000', '2000-02-29'),
  dated('d13_not_leap_1900', '1900-02-29'),
  dated('d14_no_seconds', '2026-01-01T10:00Z'),
  dated('d15_fraction_10', '2026-01-01T10:00:00.1234567890Z'),
  dated('d16_negative_zone', '2025-12-31T23:00:00-11:00'),
  dated('d17_compact_zone', '2026-01-01T10:00:00+0530'),
];

const dateCases: ConformanceCase[] = [
  {
    name: 'date shapes: what counts as a date',
    definition: 'traits.d exists and traits.d > 0001-01-01',
    profiles: DATES,
    expected: ['d01_date', 'd02_utc', 'd03_no_zone', 'd04_offset', 'd12_leap_2000', 'd16_negative_zone'],
  },
  {
    name: 'a timestamp without zone is UTC',
    definition: 'traits.d = 2026-01-01T10:00:00Z',
    profiles: DATES,
    expected: ['d02_utc', 'd03_no_zone', 'd16_negative_zone'],
  },
  {
    name: 'offsets and milliseconds (extra fraction digits dropped)',
    definition: 'traits.d = 2026-01-01T10:00:00.123Z',
    profiles: DATES,
    expected: ['d04_offset'],
  },
  { name: 'year zero', definition: 'traits.d < 1000-01-01', profiles: DATES, expected: ['d11_year_zero'] },
  {
    name: 'between dates of a value: > and <',
    definition: 'traits.d >= 2026-01-01 and traits.d < 2026-01-01T10:00:00.123Z',
    profiles: DATES,
    expected: ['d01_date', 'd02_utc', 'd03_no_zone', 'd16_negative_zone'],
  },
  {
    name: 'dates never equal non-dates (!=)',
    definition: 'traits.d != 2026-01-01',
    profiles: DATES,
    expected: ['d02_utc', 'd03_no_zone', 'd04_offset', 'd11_year_zero', 'd12_leap_2000', 'd16_negative_zone'],
  },
];

/** Hostile text is data everywhere: keys, values, event names, slugs. */
const HOSTILE: readonly ProfileFixture[] = [
  { id: "h1'; DROP TABLE profiles; --", traits: { name: "'; DROP TABLE profiles; --", n: 1 } },
  { id: 'h2', traits: { q: '${1+1}', pct: '100%', under: 'x_y' } },
  { id: 'h3', traits: JSON.parse('{"__proto__":{"polluted":true},"constructor":"c"}') },
  { id: 'h4', traits: { s: 'a\\b', quote: 'say "hi"', "a'b": 'x', 'k"q': 'kq' } },
  { id: 'h5', traits: { u: 'é🎉 ünïcödé', '🎉': 1, tab: 'a\tb', nl: 'a\nb' } },
  {
    id: 'h6',
    events: [
      {
        event: "'; DROP TABLE events; --",
        atMs: NOW - DAY,
        properties: JSON.parse('{"$key":"${x}","__proto__":"p","nested":{"\\\\":"backslash key"}}'),
      },
    ],
  },
  { id: 'h7', traits: { q: 'abc', pct: 'abc', under: 'xay' } },
];

const injectionCases: ConformanceCase[] = [
  {
    name: 'SQL in a value',
    definition: 'traits.name = "\'; DROP TABLE profiles; --"',
    profiles: HOSTILE,
    expected: ["h1'; DROP TABLE profiles; --"],
  },
  {
    name: 'template syntax in a value',
    definition: 'traits.q = "${1+1}"',
    profiles: HOSTILE,
    expected: ['h2'],
  },
  { name: '% is not a wildcard', definition: 'traits.pct contains "%"', profiles: HOSTILE, expected: ['h2'] },
  {
    name: '_ is not a wildcard',
    definition: 'traits.under starts_with "x_"',
    profiles: HOSTILE,
    expected: ['h2'],
  },
  {
    name: '__proto__ is an ordinary key',
    definition: 'traits.__proto__.polluted = true',
    profiles: HOSTILE,
    expected: ['h3'],
  },
  {
    name: 'constructor is an ordinary key',
    definition: 'traits.constructor exists',
    profiles: HOSTILE,
    expected: ['h3'],
  },
  {
    name: 'inherited names are missing',
    definition: 'traits.toString exists or traits.hasOwnProperty exists',
    profiles: HOSTILE,
    expected: [],
  },
  { name: 'backslashes', definition: 'traits.s = "a\\\\b"', profiles: HOSTILE, expected: ['h4'] },
  {
    name: 'double quotes in a value',
    definition: 'traits.quote = "say \\"hi\\""',
    profiles: HOSTILE,
    expected: ['h4'],
  },
  { name: 'single quote in a key', definition: 'traits."a\'b" = "x"', profiles: HOSTILE, expected: ['h4'] },
  { name: 'double quote in a key', definition: 'traits."k\\"q" = "kq"', profiles: HOSTILE, expected: ['h4'] },
  {
    name: 'unicode values',
    definition: 'traits.u starts_with "é🎉" and traits.u contains "ünï"',
    profiles: HOSTILE,
    expected: ['h5'],
  },
  { name: 'unicode keys', definition: 'traits."🎉" = 1', profiles: HOSTILE, expected: ['h5'] },
  {
    name: 'control characters',
    definition: 'traits.tab = "a\\tb" and traits.nl = "a\\nb"',
    profiles: HOSTILE,
    expected: ['h5'],
  },
  {
    name: 'SQL in an event name, template and __proto__ in properties',
    definition:
      'did "\'; DROP TABLE events; --" where (properties."$key" = "${x}" and properties.__proto__ = "p" and properties.nested."\\\\" exists)',
    profiles: HOSTILE,
    expected: ['h6'],
  },
  {
    name: 'a missing segment slug with hostile text matches nobody',
    definition: 'in segment "\'; DELETE FROM segment_memberships; --" or traits.n = 1',
    profiles: HOSTILE,
    expected: ["h1'; DROP TABLE profiles; --"],
  },
];

export const EDGE_CASES: readonly ConformanceCase[] = [...windowCases, ...dateCases, ...injectionCases];
