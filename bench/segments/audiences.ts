import type { SqlDialectName } from '../../src/storage/sql-dialect.ts';
import { BENCH_WORKSPACE } from './load-shop.ts';

/**
 * Twenty typical audiences on generator data: traits, event counts in windows, funnel-like
 * "did A and not B", property filters, consent, accounts and nested segments. Each has its
 * definition and the SQL someone would write by hand for it (no type guards, idiomatic EXISTS /
 * GROUP BY … HAVING), so the compiler is measured against a fair baseline in the same run.
 */
export interface Audience {
  readonly slug: string;
  readonly definition: string;
  /** A WHERE condition on `profiles p` (live persons of the workspace are filtered around it). */
  readonly handWritten: (sql: HandSql) => string;
}

/** What differs between dialects in hand-written SQL. */
export interface HandSql {
  /** The text of a top-level trait. */
  trait(name: string): string;
  /** A top-level trait as a number. */
  number(name: string): string;
  /** A property of the joined event `e` as text / number. */
  property(name: string): string;
  propertyNumber(name: string): string;
  contextText(path: readonly string[]): string;
  /** The account's trait as a number. */
  accountNumber(name: string): string;
  readonly segmentIds: ReadonlyMap<string, string>;
}

const DAY = 86_400_000;
export const BENCH_NOW = Date.parse('2025-01-01T00:00:00Z');
const since = (days: number): number => BENCH_NOW - days * DAY;

const events = (name: string, extra = ''): string =>
  `pe.workspace_id = p.workspace_id AND pe.profile_id = p.id AND pe.type = 'track' AND pe.event = '${name}'${extra}`;
const did = (name: string, days: number): string =>
  `EXISTS (SELECT 1 FROM profile_events pe WHERE ${events(name, ` AND pe.ts_ms >= ${since(days)}`)})`;
const didAtLeast = (name: string, n: number, days: number): string =>
  `p.id IN (SELECT pe.profile_id FROM profile_events pe WHERE pe.workspace_id = '${BENCH_WORKSPACE}' AND pe.type = 'track' AND pe.event = '${name}' AND pe.ts_ms >= ${since(days)} GROUP BY pe.profile_id HAVING count(*) >= ${n})`;
const member = (s: HandSql, slug: string): string =>
  `EXISTS (SELECT 1 FROM segment_memberships m WHERE m.workspace_id = p.workspace_id AND m.segment_id = '${s.segmentIds.get(slug) ?? ''}' AND m.profile_id = p.id)`;

export const AUDIENCES: readonly Audience[] = [
  {
    slug: 'plan-premium',
    definition: 'traits.plan = "premium"',
    handWritten: (s) => `${s.trait('plan')} = 'premium'`,
  },
  {
    slug: 'benelux-france',
    definition: 'traits.country in ("FR", "BE", "NL")',
    handWritten: (s) => `${s.trait('country')} IN ('FR', 'BE', 'NL')`,
  },
  {
    slug: 'has-email',
    definition: 'traits.email exists',
    handWritten: (s) => `${s.trait('email')} IS NOT NULL`,
  },
  {
    slug: 'high-value',
    definition: 'traits.lifetime_value >= 150',
    handWritten: (s) => `${s.number('lifetime_value')} >= 150`,
  },
  {
    slug: 'high-value-south',
    definition: 'traits.lifetime_value >= 50 and traits.country in ("ES", "IT") and not traits.plan = "free"',
    handWritten: (s) =>
      `${s.number('lifetime_value')} >= 50 AND ${s.trait('country')} IN ('ES', 'IT') AND (${s.trait('plan')} IS NULL OR ${s.trait('plan')} <> 'free')`,
  },
  {
    slug: 'viewed-7d',
    definition: 'did "Product Viewed" in last 7 days',
    handWritten: () => did('Product Viewed', 7),
  },
  {
    slug: 'viewed-3x-30d',
    definition: 'did "Product Viewed" at least 3 times in last 30 days',
    handWritten: () => didAtLeast('Product Viewed', 3, 30),
  },
  {
    slug: 'buyers-30d',
    definition: 'did "Order Completed" in last 30 days',
    handWritten: () => did('Order Completed', 30),
  },
  {
    slug: 'repeat-buyers-90d',
    definition: 'did "Order Completed" at least 2 times in last 90 days',
    handWritten: () => didAtLeast('Order Completed', 2, 90),
  },
  {
    slug: 'browse-no-buy-7d',
    definition: 'did "Product Viewed" in last 7 days and not did "Order Completed" in last 7 days',
    handWritten: () => `${did('Product Viewed', 7)} AND NOT ${did('Order Completed', 7)}`,
  },
  {
    slug: 'cart-abandoners-14d',
    definition: 'did "Product Added" in last 14 days and not did "Checkout Started" in last 14 days',
    handWritten: () => `${did('Product Added', 14)} AND NOT ${did('Checkout Started', 14)}`,
  },
  {
    slug: 'checkout-abandoners-30d',
    definition: 'did "Checkout Started" in last 30 days and not did "Order Completed" in last 30 days',
    handWritten: () => `${did('Checkout Started', 30)} AND NOT ${did('Order Completed', 30)}`,
  },
  {
    slug: 'big-eur-orders',
    definition:
      'did "Order Completed" where (properties.revenue > 100 and properties.currency = "EUR") at least 1 time since 2024-10-01',
    handWritten: (s) =>
      `EXISTS (SELECT 1 FROM profile_events pe JOIN events e ON e.seq = pe.seq WHERE ${events('Order Completed', ` AND pe.ts_ms >= ${Date.parse('2024-10-01T00:00:00Z')}`)} AND ${s.propertyNumber('revenue')} > 100 AND ${s.property('currency')} = 'EUR')`,
  },
  {
    slug: 'shoe-lovers-60d',
    definition: 'did "Product Viewed" where (properties.category = "Shoes") at least 2 times in last 60 days',
    handWritten: (s) =>
      `p.id IN (SELECT pe.profile_id FROM profile_events pe JOIN events e ON e.seq = pe.seq WHERE pe.workspace_id = '${BENCH_WORKSPACE}' AND pe.type = 'track' AND pe.event = 'Product Viewed' AND pe.ts_ms >= ${since(60)} AND ${s.property('category')} = 'Shoes' GROUP BY pe.profile_id HAVING count(*) >= 2)`,
  },
  {
    slug: 'never-bought',
    definition: 'did "Order Completed" at most 0 times',
    handWritten: () => `NOT EXISTS (SELECT 1 FROM profile_events pe WHERE ${events('Order Completed')})`,
  },
  {
    slug: 'facebook-visitors-90d',
    definition: 'did "Product Viewed" where (context.campaign.source = "facebook") in last 90 days',
    handWritten: (s) =>
      `EXISTS (SELECT 1 FROM profile_events pe JOIN events e ON e.seq = pe.seq WHERE ${events('Product Viewed', ` AND pe.ts_ms >= ${since(90)}`)} AND ${s.contextText(['campaign', 'source'])} = 'facebook')`,
  },
  {
    slug: 'ads-consent',
    definition: 'consent.advertising = true and traits.email exists',
    handWritten: (s) =>
      `EXISTS (SELECT 1 FROM profile_consent c WHERE c.workspace_id = p.workspace_id AND c.profile_id = p.id AND c.category = 'advertising' AND c.granted = 1) AND ${s.trait('email')} IS NOT NULL`,
  },
  {
    slug: 'b2b-large',
    definition: 'group.employees >= 100',
    handWritten: (s) =>
      `EXISTS (SELECT 1 FROM profile_groups g JOIN profiles a ON a.workspace_id = g.workspace_id AND a.id = g.account_id WHERE g.workspace_id = p.workspace_id AND g.profile_id = p.id AND ${s.accountNumber('employees')} >= 100)`,
  },
  {
    slug: 'vip-active',
    definition: 'in segment "high-value" and did "Order Completed" in last 90 days',
    handWritten: (s) => `${member(s, 'high-value')} AND ${did('Order Completed', 90)}`,
  },
  {
    slug: 'win-back',
    definition: 'in segment "high-value" and not in segment "buyers-30d" and not in segment "viewed-7d"',
    handWritten: (s) =>
      `${member(s, 'high-value')} AND NOT ${member(s, 'buyers-30d')} AND NOT ${member(s, 'viewed-7d')}`,
  },
];

export function handSql(dialect: SqlDialectName, segmentIds: ReadonlyMap<string, string>): HandSql {
  if (dialect === 'sqlite') {
    return {
      trait: (name) => `json_extract(p.traits, '$.${name}')`,
      number: (name) => `json_extract(p.traits, '$.${name}')`,
      property: (name) => `json_extract(e.payload, '$.properties.${name}')`,
      propertyNumber: (name) => `json_extract(e.payload, '$.properties.${name}')`,
      contextText: (path) => `json_extract(e.payload, '$.context.${path.join('.')}')`,
      accountNumber: (name) => `json_extract(a.traits, '$.${name}')`,
      segmentIds,
    };
  }
  return {
    trait: (name) => `(p.traits::jsonb ->> '${name}')`,
    number: (name) => `(p.traits::jsonb ->> '${name}')::numeric`,
    property: (name) => `(e.payload::jsonb -> 'properties' ->> '${name}')`,
    propertyNumber: (name) => `(e.payload::jsonb -> 'properties' ->> '${name}')::numeric`,
    contextText: (path) => `(e.payload::jsonb #>> '{context,${path.join(',')}}')`,
    accountNumber: (name) => `(a.traits::jsonb ->> '${name}')::numeric`,
    segmentIds,
  };
}

/** The whole hand-written query: ids of live persons of the workspace matching the condition. */
export function handQuery(workspaceId: string, condition: string): string {
  return `SELECT p.id FROM profiles p WHERE p.workspace_id = '${workspaceId}' AND p.kind = 'person' AND p.merged_into IS NULL AND (${condition})`;
}
