import {
  resolveWindow,
  type CountNode,
  type DidNode,
  type Expression,
  type PathNode,
  type ResolvedWindow,
  type TimeWindow,
} from '../segment-language/index.ts';
import { compareValue, existsValue, inValues } from './compare-values.ts';
import { readPath } from './json-path.ts';
import type { SnapshotEvent } from './profile-snapshot.ts';

/** The value a `where (…)` path reads on one event: `properties.*` or `context.*`. */
export function eventPathValue(event: SnapshotEvent, path: PathNode): unknown {
  if (path.root === 'properties') return readPath(event.properties, path.keys);
  if (path.root === 'context') return readPath(event.context, path.keys);
  return undefined;
}

/**
 * Whether one event satisfies a `where (…)` clause (or a computed trait's filter). Only
 * conditions and `and`/`or`/`not` can appear there (the validator refuses `did` and `in segment`),
 * and a hand-built tree that has them anyway gets false for them.
 */
export function eventMatchesWhere(event: SnapshotEvent, where: Expression): boolean {
  return matchesOneEvent(where, (path) => eventPathValue(event, path));
}

/**
 * An expression over one event, whatever reads its paths (a `where (…)` clause reads
 * `properties`/`context`; a destination's event filter reads the whole message): the comparison
 * rules are the segment language's, in one place.
 */
export function matchesOneEvent(expression: Expression, valueOf: (path: PathNode) => unknown): boolean {
  switch (expression.kind) {
    case 'and':
      return expression.operands.every((operand) => matchesOneEvent(operand, valueOf));
    case 'or':
      return expression.operands.some((operand) => matchesOneEvent(operand, valueOf));
    case 'not':
      return !matchesOneEvent(expression.operand, valueOf);
    case 'compare':
      return compareValue(valueOf(expression.path), expression.op, expression.value);
    case 'in':
      return inValues(valueOf(expression.path), expression.values);
    case 'exists':
      return existsValue(valueOf(expression.path));
    case 'did':
    case 'in_segment':
      return false;
  }
}

export function inWindow(timestampMs: number, window: ResolvedWindow): boolean {
  return (
    (window.fromMs === null || timestampMs >= window.fromMs) &&
    (window.toMs === null || timestampMs < window.toMs)
  );
}

/** `did "E"` reads track events named exactly E (case-sensitive) that satisfy `where`. */
export function matchesDidEvent(event: SnapshotEvent, name: string, where: Expression | null): boolean {
  return (
    event.type === 'track' && event.event === name && (where === null || eventMatchesWhere(event, where))
  );
}

/** Timestamps of the events a `did` counts, ignoring its window. */
export function didCandidates(node: DidNode, events: readonly SnapshotEvent[]): number[] {
  const out: number[] = [];
  for (const event of events) if (matchesDidEvent(event, node.event, node.where)) out.push(event.timestampMs);
  return out;
}

export function countInWindow(timestamps: readonly number[], window: TimeWindow, nowMs: number): number {
  const resolved = resolveWindow(window, nowMs);
  let n = 0;
  for (const ts of timestamps) if (inWindow(ts, resolved)) n++;
  return n;
}

export function countSatisfies(count: CountNode, n: number): boolean {
  switch (count.op) {
    case 'at_least':
      return n >= count.n;
    case 'at_most':
      return n <= count.n;
    case 'exactly':
      return n === count.n;
  }
}
