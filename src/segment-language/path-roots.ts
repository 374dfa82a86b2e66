import type { SegmentLimits } from './limits.ts';

/**
 * Which roots a path may start with depends on what the expression reads: a profile (segment
 * definitions), one event (event filters), or one event of a `did … where (…)` clause.
 */
export type PathScope = 'segment' | 'event_filter' | 'did_where';

export interface RootRule {
  readonly name: string;
  /** Number of keys after the root; `maxKeys: null` means up to the `maxPathKeys` limit. */
  readonly minKeys: number;
  readonly maxKeys: number | null;
  readonly example: string;
}

const nested = (name: string, example: string): RootRule => ({ name, minKeys: 1, maxKeys: null, example });
const scalar = (name: string, example: string): RootRule => ({ name, minKeys: 0, maxKeys: 0, example });

const ROOTS: ReadonlyMap<PathScope, readonly RootRule[]> = new Map([
  [
    'segment',
    [
      nested('traits', 'traits.plan'),
      nested('group', 'group.plan'),
      nested('computed', 'computed.orders_90d'),
      { name: 'consent', minKeys: 1, maxKeys: 1, example: 'consent.marketing' },
    ],
  ],
  [
    'event_filter',
    [
      scalar('event', 'event'),
      scalar('type', 'type'),
      scalar('userId', 'userId'),
      scalar('anonymousId', 'anonymousId'),
      nested('properties', 'properties.price'),
      nested('context', 'context.page.path'),
      nested('traits', 'traits.plan'),
    ],
  ],
  ['did_where', [nested('properties', 'properties.revenue'), nested('context', 'context.locale')]],
]);

export function rootsOf(scope: PathScope): readonly RootRule[] {
  return ROOTS.get(scope) ?? [];
}

export function findRoot(scope: PathScope, name: string): RootRule | undefined {
  return rootsOf(scope).find((rule) => rule.name === name);
}

export function maxKeysOf(rule: RootRule, limits: SegmentLimits): number {
  return rule.maxKeys ?? limits.maxPathKeys;
}

/** A likely intended root for a typo such as `Traits` or `property`, or undefined. */
export function suggestRoot(scope: PathScope, name: string): string | undefined {
  const lower = name.toLowerCase();
  const singular = (word: string): string =>
    word.replace(/(ies|s)$/, (ending) => (ending === 'ies' ? 'y' : ''));
  return rootsOf(scope).find(
    (rule) => rule.name.toLowerCase() === lower || singular(rule.name.toLowerCase()) === singular(lower),
  )?.name;
}

/** Where a root that is unknown here can be used instead, to explain the mistake. */
export function scopesWithRoot(name: string): readonly PathScope[] {
  return [...ROOTS.keys()].filter((scope) => findRoot(scope, name) !== undefined);
}
