import {
  forEachExpression,
  WINDOW_UNIT_MS,
  type DidNode,
  type Expression,
} from '../segment-language/index.ts';
import { countSatisfies, didCandidates } from './event-conditions.ts';
import { evaluateSegment } from './evaluate-segment.ts';
import type { ProfileSnapshot } from './profile-snapshot.ts';

/**
 * The first instant after `nowMs` at which `evaluateSegment(definition, snapshot, t)` differs
 * from its value at `nowMs` while nothing but the clock moves; null when it never does.
 *
 * Only `in last N unit` windows depend on the clock: an event at `ts` is in the window while
 * `t − N·unit ≤ ts`, so it leaves at `ts + N·unit + 1` ms. Counts only fall as time passes, so a
 * `did` node flips at most twice (`exactly`). The candidates are the instants where some node
 * flips; the whole definition is evaluated at each, in order, and the first that changes the
 * answer is returned. `since`/`between` windows and date comparisons use fixed instants and never
 * change by themselves. Memberships of referenced segments and computed trait values are inputs:
 * when they change (their own schedules), the caller re-evaluates and asks again.
 */
export function nextChangeAt(
  definition: Expression,
  snapshot: ProfileSnapshot,
  nowMs: number,
): number | null {
  const candidates = new Set<number>();
  forEachExpression(definition, ({ node }) => {
    if (node.kind === 'did' && node.window.kind === 'last') {
      for (const instant of didFlips(node, snapshot, nowMs)) candidates.add(instant);
    }
  });
  if (candidates.size === 0) return null;
  const current = evaluateSegment(definition, snapshot, nowMs);
  for (const instant of [...candidates].sort((a, b) => a - b)) {
    if (evaluateSegment(definition, snapshot, instant) !== current) return instant;
  }
  return null;
}

/** Instants after `nowMs` where this `did`'s truth value changes as its window slides. */
function didFlips(node: DidNode, snapshot: ProfileSnapshot, nowMs: number): number[] {
  if (node.window.kind !== 'last') return [];
  const span = node.window.amount * WINDOW_UNIT_MS[node.window.unit];
  // Expiry instants of the events in the window now, ascending (ties leave together).
  const expiries = didCandidates(node, snapshot.events)
    .filter((ts) => ts >= nowMs - span)
    .map((ts) => ts + span + 1)
    .sort((a, b) => a - b);
  const flips: number[] = [];
  let remaining = expiries.length;
  let truth = countSatisfies(node.count, remaining);
  for (let i = 0; i < expiries.length;) {
    const instant = expiries[i] as number;
    while (i < expiries.length && expiries[i] === instant) {
      i++;
      remaining--;
    }
    const next = countSatisfies(node.count, remaining);
    if (next !== truth) flips.push(instant);
    truth = next;
  }
  return flips;
}
