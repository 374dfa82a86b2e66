import type { ProfileFixture } from './profile-fixtures.ts';

/**
 * The conformance table: each case is a population, a definition, an instant and the members
 * it must have, checked through the in-memory evaluator and the SQL compiler on SQLite and
 * PostgreSQL (conformance.test.ts). Expected members are written by hand from the semantics in
 * src/segments/README.md, so the three engines are pinned to the documented meaning, not only
 * to each other.
 */
export interface ConformanceCase {
  readonly name: string;
  readonly definition: string;
  /** Defaults to NOW. */
  readonly nowMs?: number;
  /** Defaults to the shared population (BASE). */
  readonly profiles?: readonly ProfileFixture[];
  /** Segments referenced by `in segment`, in dependency order; memberships are their members at now. */
  readonly segments?: Readonly<Record<string, string>>;
  readonly expected: readonly string[];
}

export const DAY = 86_400_000;
export const NOW = Date.parse('2026-03-15T12:00:00.000Z');

const acc1: ProfileFixture = {
  id: 'acc1',
  kind: 'account',
  traits: { plan: 'enterprise', employees: 250, industry: 'retail' },
};
const acc2: ProfileFixture = { id: 'acc2', kind: 'account', traits: { plan: 'startup', employees: 12 } };

const order = (atMs: number, properties: ProfileFixture['traits'] = {}) => ({
  event: 'Order Completed',
  atMs,
  properties,
});
const viewed = (atMs: number, properties: ProfileFixture['traits'] = {}) => ({
  event: 'Product Viewed',
  atMs,
  properties,
});

/** Live persons: p01 p02 p03 p04 p05 p08. p06 is merged, acc1/acc2 are accounts. */
export const BASE: readonly ProfileFixture[] = [
  {
    id: 'p01',
    traits: {
      plan: 'pro',
      lifetime_value: 750,
      country: 'FR',
      email: 'ana@example.com',
      age: 34,
      vip: true,
      tags: ['beta', 'newsletter'],
      signup: '2025-06-01T10:00:00Z',
      address: { city: 'Paris', zip: '75001' },
      score: '42',
    },
    events: [
      order(NOW - DAY, { revenue: 120, currency: 'EUR', items: { count: 2 } }),
      order(NOW - 10 * DAY, { revenue: 80, currency: 'EUR' }),
      viewed(NOW - 2 * DAY, { category: 'shoes', price: 59.9 }),
      { type: 'page', event: 'Home', atMs: NOW - 3_600_000 },
    ],
    consent: { marketing: true, analytics: true },
    groups: ['acc1'],
    computed: { orders_90d: 5, favorite_category: 'shoes' },
  },
  {
    id: 'p02',
    traits: {
      plan: 'free',
      lifetime_value: 20,
      country: 'BE',
      email: 'ben@example.org',
      age: '29',
      vip: false,
      tags: 'beta',
      signup: '2026-01-15',
      address: { city: 'Brussels' },
    },
    events: [
      viewed(NOW - 3 * DAY, { category: 'shoes' }),
      viewed(NOW - 8 * DAY, { category: 'hats' }),
      order(NOW - 40 * DAY, { revenue: 300, currency: 'USD' }),
    ],
    consent: { marketing: false },
    computed: { orders_90d: 1 },
  },
  {
    id: 'p03',
    traits: {
      plan: 'pro',
      lifetime_value: 500,
      country: 'DE',
      email: null,
      age: 51,
      tags: [],
      signup: '2024-12-31T23:30:00-01:00',
      address: 'Berlin',
    },
    events: [
      order(NOW - 5 * DAY, { revenue: 50, currency: 'EUR' }),
      order(NOW - 6 * DAY, { revenue: 50, currency: 'EUR' }),
      order(NOW - 29 * DAY, { revenue: 50, currency: 'EUR' }),
    ],
    groups: ['acc2'],
    computed: { orders_90d: '3' },
  },
  { id: 'p04' },
  {
    id: 'p05',
    traits: {
      plan: 'PRO',
      lifetime_value: 500.5,
      country: 'fr',
      vip: 'true',
      tags: ['Beta'],
      signup: 'not a date',
      age: null,
    },
    events: [
      order(NOW - 30 * DAY, { revenue: '99', currency: 'EUR' }),
      viewed(NOW - 7 * DAY, { category: 'shoes' }),
    ],
    groups: ['acc1', 'acc2'],
    consent: { analytics: false },
  },
  { id: 'p06', mergedInto: 'p01', traits: { plan: 'pro', lifetime_value: 9999 }, events: [order(NOW - DAY)] },
  {
    id: 'p08',
    traits: {
      plan: 'pro',
      lifetime_value: 1_000_000,
      country: 'US',
      nested: { deep: { x: 1 } },
      'first name': 'Gus',
      'a.b': 'dot',
      tags: ['vip', 'beta'],
    },
    events: [
      order(NOW + DAY, { revenue: 10, currency: 'EUR' }),
      {
        event: 'Product Viewed',
        atMs: NOW - 60_000,
        properties: { category: 'shoes' },
        context: { page: { path: '/shoes' } },
      },
    ],
    consent: { marketing: true },
    groups: ['acc1'],
  },
  acc1,
  acc2,
];

const ALL = ['p01', 'p02', 'p03', 'p04', 'p05', 'p08'];
const VIP = { vip: 'traits.lifetime_value >= 700' };

const traitCases: ConformanceCase[] = [
  {
    name: 'string equality is exact and case-sensitive',
    definition: 'traits.plan = "pro"',
    expected: ['p01', 'p03', 'p08'],
  },
  { name: '!= is false on a missing value', definition: 'traits.plan != "pro"', expected: ['p02', 'p05'] },
  {
    name: 'not = is true on a missing value',
    definition: 'not traits.plan = "pro"',
    expected: ['p02', 'p04', 'p05'],
  },
  {
    name: '>= on numbers',
    definition: 'traits.lifetime_value >= 500',
    expected: ['p01', 'p03', 'p05', 'p08'],
  },
  {
    name: '> on numbers, decimals',
    definition: 'traits.lifetime_value > 500',
    expected: ['p01', 'p05', 'p08'],
  },
  { name: '= on a whole number', definition: 'traits.lifetime_value = 500', expected: ['p03'] },
  {
    name: 'contract: value and in',
    definition: 'traits.lifetime_value >= 500 and traits.country in ("FR", "BE")',
    expected: ['p01'],
  },
  { name: 'in on strings', definition: 'traits.country in ("FR", "BE")', expected: ['p01', 'p02'] },
  { name: 'in on numbers', definition: 'traits.lifetime_value in (20, 750)', expected: ['p01', 'p02'] },
  {
    name: 'in with null matches missing',
    definition: 'traits.plan in ("pro", null)',
    expected: ['p01', 'p03', 'p04', 'p08'],
  },
  { name: 'exists: present and not null', definition: 'traits.email exists', expected: ['p01', 'p02'] },
  {
    name: 'not exists: missing or null',
    definition: 'not traits.email exists',
    expected: ['p03', 'p04', 'p05', 'p08'],
  },
  { name: '= null is not exists', definition: 'traits.email = null', expected: ['p03', 'p04', 'p05', 'p08'] },
  { name: '!= null is exists', definition: 'traits.email != null', expected: ['p01', 'p02'] },
  { name: 'numbers never match numeric strings', definition: 'traits.age > 30', expected: ['p01', 'p03'] },
  { name: 'numeric strings stay strings', definition: 'traits.score = "42"', expected: ['p01'] },
  { name: 'a number literal ignores numeric strings', definition: 'traits.score = 42', expected: [] },
  { name: '!= needs the same type', definition: 'traits.age != 34', expected: ['p03'] },
  { name: 'booleans are JSON booleans, not strings', definition: 'traits.vip = true', expected: ['p01'] },
  { name: 'boolean !=', definition: 'traits.vip != true', expected: ['p02'] },
  { name: 'boolean false', definition: 'traits.vip = false', expected: ['p02'] },
  {
    name: 'contains: array element or substring',
    definition: 'traits.tags contains "beta"',
    expected: ['p01', 'p02', 'p08'],
  },
  {
    name: 'contains on arrays needs a whole element',
    definition: 'traits.tags contains "eta"',
    expected: ['p02'],
  },
  { name: 'contains in a string', definition: 'traits.email contains "@example."', expected: ['p01', 'p02'] },
  { name: 'contains the empty string', definition: 'traits.email contains ""', expected: ['p01', 'p02'] },
  { name: 'starts_with', definition: 'traits.email starts_with "ben"', expected: ['p02'] },
  { name: 'starts_with is false on arrays', definition: 'traits.tags starts_with "be"', expected: ['p02'] },
  {
    name: 'starts_with the empty string: any string',
    definition: 'traits.plan starts_with ""',
    expected: ['p01', 'p02', 'p03', 'p05', 'p08'],
  },
  { name: 'arrays equal nothing', definition: 'traits.tags = "beta"', expected: ['p02'] },
  {
    name: 'empty arrays exist',
    definition: 'traits.tags exists and not traits.tags contains "beta"',
    expected: ['p03', 'p05'],
  },
  { name: 'nested trait', definition: 'traits.address.city = "Paris"', expected: ['p01'] },
  {
    name: 'a key below a string is missing',
    definition: 'traits.address.city exists',
    expected: ['p01', 'p02'],
  },
  { name: 'objects exist', definition: 'traits.address exists', expected: ['p01', 'p02', 'p03'] },
  { name: 'objects equal nothing, strings do', definition: 'traits.address = "Berlin"', expected: ['p03'] },
  { name: 'deeply nested trait', definition: 'traits.nested.deep.x = 1', expected: ['p08'] },
  { name: 'quoted key with a space', definition: 'traits."first name" = "Gus"', expected: ['p08'] },
  { name: 'quoted key with a dot is one key', definition: 'traits."a.b" = "dot"', expected: ['p08'] },
  {
    name: 'dates: ISO strings by instant, offsets applied',
    definition: 'traits.signup > 2025-01-01',
    expected: ['p01', 'p02', 'p03'],
  },
  {
    name: 'dates: <= at the exact instant',
    definition: 'traits.signup <= 2025-01-01T00:30:00Z',
    expected: ['p03'],
  },
  {
    name: 'dates: a date-only value is midnight UTC',
    definition: 'traits.signup = 2026-01-15',
    expected: ['p02'],
  },
  {
    name: 'dates: equal instants in other zones',
    definition: 'traits.signup = 2026-01-15T01:00:00+01:00',
    expected: ['p02'],
  },
  {
    name: 'dates: in',
    definition: 'traits.signup in (2025-06-01T12:00:00+02:00, 2026-01-15)',
    expected: ['p01', 'p02'],
  },
  {
    name: 'parentheses and or',
    definition: '(traits.plan = "pro" or traits.plan = "free") and not traits.country = "US"',
    expected: ['p01', 'p02', 'p03'],
  },
  {
    name: 'not of an and',
    definition: 'not (traits.plan = "pro" and traits.lifetime_value > 600)',
    expected: ['p02', 'p03', 'p04', 'p05'],
  },
  { name: 'double not', definition: 'not not traits.vip = true', expected: ['p01'] },
  {
    name: 'merged profiles and accounts are never members',
    definition: 'traits.lifetime_value > 0 or not traits.lifetime_value > 0',
    expected: ALL,
  },
];

const eventCases: ConformanceCase[] = [
  {
    name: 'did, all time, includes future events',
    definition: 'did "Order Completed"',
    expected: ['p01', 'p02', 'p03', 'p05', 'p08'],
  },
  {
    name: 'contract: at least 2 in last 30 days',
    definition: 'did "Order Completed" at least 2 times in last 30 days',
    expected: ['p01', 'p03'],
  },
  {
    name: 'window start is inclusive (event exactly 30 days ago)',
    definition: 'did "Order Completed" in last 30 days',
    expected: ['p01', 'p03', 'p05', 'p08'],
  },
  {
    name: 'one millisecond later it has left',
    definition: 'did "Order Completed" in last 30 days',
    nowMs: NOW + 1,
    expected: ['p01', 'p03', 'p08'],
  },
  {
    name: 'a month is 30 days',
    definition: 'did "Order Completed" in last 1 month',
    expected: ['p01', 'p03', 'p05', 'p08'],
  },
  {
    name: '7 days, edge included',
    definition: 'did "Product Viewed" in last 7 days',
    expected: ['p01', 'p02', 'p05', 'p08'],
  },
  {
    name: 'contract: browse without buy',
    definition:
      'did "Product Viewed" where (properties.category = "shoes") in last 7 days and not did "Order Completed" in last 7 days',
    expected: ['p02', 'p05'],
  },
  {
    name: 'contract: at most 1 since a date, with a property filter',
    definition:
      'did "Order Completed" where (properties.revenue > 100 and properties.currency = "EUR") at most 1 time since 2026-01-01',
    expected: ALL,
  },
  {
    name: 'property filter, all time',
    definition: 'did "Order Completed" where (properties.revenue > 100)',
    expected: ['p01', 'p02'],
  },
  {
    name: 'at most 0 times: never did',
    definition: 'did "Order Completed" at most 0 times',
    expected: ['p04'],
  },
  { name: 'exactly', definition: 'did "Order Completed" exactly 3 times', expected: ['p03'] },
  {
    name: 'exactly in a window',
    definition: 'did "Order Completed" exactly 1 time in last 30 days',
    expected: ['p05', 'p08'],
  },
  { name: 'at least 0 times: everyone', definition: 'did "Order Completed" at least 0 times', expected: ALL },
  {
    name: 'between dates includes the whole end day',
    definition: 'did "Order Completed" between 2026-03-05 and 2026-03-10',
    expected: ['p01', 'p03'],
  },
  {
    name: 'between timestamps: start included',
    definition: 'did "Order Completed" between 2026-03-05T12:00:00Z and 2026-03-06T00:00:00Z',
    expected: ['p01'],
  },
  {
    name: 'between timestamps: end excluded',
    definition: 'did "Order Completed" between 2026-03-10T00:00:00Z and 2026-03-10T12:00:00Z',
    expected: [],
  },
  {
    name: 'between a one-millisecond window',
    definition: 'did "Order Completed" between 2026-03-10T12:00:00Z and 2026-03-10T12:00:00.001Z',
    expected: ['p03'],
  },
  {
    name: 'since a timestamp, inclusive',
    definition: 'did "Order Completed" since 2026-03-05T12:00:00Z',
    expected: ['p01', 'p03', 'p08'],
  },
  {
    name: 'since with an offset',
    definition: 'did "Order Completed" since 2026-03-05T13:00:00+01:00',
    expected: ['p01', 'p03', 'p08'],
  },
  {
    name: 'since one millisecond later',
    definition: 'did "Order Completed" at least 2 times since 2026-03-05T12:00:00.001Z',
    expected: ['p03'],
  },
  { name: 'did counts track events only', definition: 'did "Home"', expected: [] },
  { name: 'event names are case-sensitive', definition: 'did "order completed"', expected: [] },
  {
    name: 'where on context',
    definition: 'did "Product Viewed" where (context.page.path = "/shoes")',
    expected: ['p08'],
  },
  {
    name: 'where on a nested property',
    definition: 'did "Order Completed" where (properties.items.count = 2)',
    expected: ['p01'],
  },
  {
    name: 'where on a numeric string',
    definition: 'did "Order Completed" where (properties.revenue = "99")',
    expected: ['p05'],
  },
  {
    name: 'where with not exists',
    definition: 'did "Order Completed" where (not properties.coupon exists) at least 3 times',
    expected: ['p03'],
  },
  {
    name: 'where with in',
    definition: 'did "Order Completed" where (properties.currency in ("USD", "GBP"))',
    expected: ['p02'],
  },
  {
    name: 'not did in a window',
    definition: 'not did "Product Viewed" in last 7 days',
    expected: ['p03', 'p04'],
  },
  {
    name: 'the same did twice',
    definition:
      'did "Order Completed" in last 7 days or (did "Order Completed" in last 7 days and traits.plan = "free")',
    expected: ['p01', 'p03', 'p08'],
  },
];

const otherRootCases: ConformanceCase[] = [
  { name: 'contract: computed trait', definition: 'computed.orders_90d > 3', expected: ['p01'] },
  { name: 'computed exists', definition: 'computed.orders_90d exists', expected: ['p01', 'p02', 'p03'] },
  { name: 'computed string', definition: 'computed.favorite_category = "shoes"', expected: ['p01'] },
  {
    name: 'not computed, type mismatch',
    definition: 'not computed.orders_90d >= 1',
    expected: ['p03', 'p04', 'p05', 'p08'],
  },
  { name: 'contract: consent granted', definition: 'consent.marketing = true', expected: ['p01', 'p08'] },
  { name: 'consent refused', definition: 'consent.marketing = false', expected: ['p02'] },
  { name: 'consent never given is missing', definition: 'consent.marketing != true', expected: ['p02'] },
  { name: 'not consent', definition: 'not consent.marketing = true', expected: ['p02', 'p03', 'p04', 'p05'] },
  { name: 'consent exists', definition: 'consent.analytics exists', expected: ['p01', 'p05'] },
  {
    name: 'group trait: any account',
    definition: 'group.plan = "enterprise"',
    expected: ['p01', 'p05', 'p08'],
  },
  { name: 'group number', definition: 'group.employees < 100', expected: ['p03', 'p05'] },
  {
    name: 'group conditions are checked per condition',
    definition: 'group.plan = "enterprise" and group.employees < 100',
    expected: ['p05'],
  },
  { name: 'group = null: no account', definition: 'group.plan = null', expected: ['p02', 'p04'] },
  { name: 'not group exists', definition: 'not group.plan exists', expected: ['p02', 'p04'] },
  {
    name: 'group = null: an account without it',
    definition: 'group.industry = null',
    expected: ['p02', 'p03', 'p04', 'p05'],
  },
  { name: 'contract: in segment', definition: 'in segment "vip"', segments: VIP, expected: ['p01', 'p08'] },
  {
    name: 'in segment and a window',
    definition: 'in segment "vip" and did "Order Completed" in last 7 days',
    segments: VIP,
    expected: ['p01', 'p08'],
  },
  {
    name: 'not in segment',
    definition: 'not in segment "vip"',
    segments: VIP,
    expected: ['p02', 'p03', 'p04', 'p05'],
  },
  {
    name: 'nested segments',
    definition: 'in segment "vip_eu" or traits.plan = "free"',
    segments: { ...VIP, vip_eu: 'in segment "vip" and traits.country in ("FR", "BE", "DE")' },
    expected: ['p01', 'p02'],
  },
  {
    name: 'nested segment with a window',
    definition: 'in segment "recent_buyers" and not in segment "vip"',
    segments: { ...VIP, recent_buyers: 'did "Order Completed" in last 30 days' },
    expected: ['p03', 'p05'],
  },
];

export const BASE_CASES: readonly ConformanceCase[] = [...traitCases, ...eventCases, ...otherRootCases];
