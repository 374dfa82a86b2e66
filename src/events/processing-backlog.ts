import type { EventLogRepository } from '../ingestion/event-log.port.ts';

/**
 * How many of a workspace's entries are counted at most: the count is an index range read on
 * every stats request (~0.8 µs an entry on SQLite here: 8 ms at this limit, 77 ms at 100,000,
 * on the one connection), so a backlog past this shows as this many. The delay says the rest.
 */
export const BACKLOG_COUNT_LIMIT = 10_000;

/** How far processing (identity, profiles, segments, destinations) is behind ingestion. */
export interface ProcessingBacklog {
  /** Entries acknowledged but not yet processed (at most BACKLOG_COUNT_LIMIT). */
  readonly events: number;
  /** How long the oldest of them has waited; 0 when there is none. */
  readonly delayMs: number;
}

/**
 * The workspace's backlog behind `processedThrough`, the log position every pipeline stage has
 * passed (its consumers' committed cursors). A growing delay under steady traffic says the
 * pipeline does not keep up (docs/PERFORMANCE.md: on the main thread it gives way to the acks).
 */
export async function processingBacklog(
  log: Pick<EventLogRepository, 'backlog'>,
  workspaceId: string,
  processedThrough: number,
  nowMs: number,
): Promise<ProcessingBacklog> {
  const { events, oldestReceivedMs } = await log.backlog(workspaceId, processedThrough, BACKLOG_COUNT_LIMIT);
  return { events, delayMs: oldestReceivedMs === null ? 0 : Math.max(0, nowMs - oldestReceivedMs) };
}
