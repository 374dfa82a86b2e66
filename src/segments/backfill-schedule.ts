/**
 * The next instants a backfilled definition's answer changes by the clock alone, for the
 * profiles of one backfill step: what the real-time path schedules when it evaluates a profile,
 * so a member that entered by a backfill leaves when its window lapses, as one that entered
 * by an event does.
 */
import {
  collectFilteredEvents,
  createDid,
  createOr,
  forEachExpression,
  type Expression,
  type SegmentDependencies,
} from '../segment-language/index.ts';
import { nextChangeAt } from './next-change.ts';
import type { MatchQuery, SegmentRepository } from './segments.port.ts';

const SNAPSHOT_PAGE = 500;

/**
 * A definition true for the profiles with an event still inside one of the `in last …`
 * windows of `ast` (any count, no `where`: a superset). Only their answer can change with no
 * new event; null when `ast` has no such window.
 */
export function windowedEventsQuery(ast: Expression): Expression | null {
  const dids = new Map<string, Expression>();
  forEachExpression(ast, ({ node }) => {
    if (node.kind === 'did' && node.window.kind === 'last')
      dids.set(JSON.stringify([node.event, node.window]), createDid(node.event, { window: node.window }));
  });
  const [first, second, ...rest] = [...dids.values()];
  if (first === undefined) return null;
  return second === undefined ? first : createOr([first, second, ...rest]);
}

/** Profiles of the step's range whose answer to `ast` changes by itself, with that instant. */
export async function scheduleOfStep(
  segments: SegmentRepository,
  workspaceId: string,
  definition: { readonly ast: Expression; readonly dependencies: SegmentDependencies },
  query: MatchQuery,
): Promise<{ profileId: string; dueMs: number }[]> {
  const windowed = definition.dependencies.hasRelativeWindow ? windowedEventsQuery(definition.ast) : null;
  if (windowed === null) return [];
  const candidates = await segments.matchingIds(workspaceId, windowed, query);
  const options = {
    trackEvents: definition.dependencies.events,
    payloadEvents: collectFilteredEvents(definition.ast),
  };
  const schedule: { profileId: string; dueMs: number }[] = [];
  // A page of timelines in memory at a time, however large the step.
  for (let start = 0; start < candidates.length; start += SNAPSHOT_PAGE) {
    const page = candidates.slice(start, start + SNAPSHOT_PAGE);
    for (const [profileId, snapshot] of await segments.loadSnapshots(workspaceId, page, options)) {
      const dueMs = nextChangeAt(definition.ast, snapshot, query.nowMs);
      if (dueMs !== null) schedule.push({ profileId, dueMs });
    }
  }
  return schedule;
}
