/**
 * Counts of what a run produced (messages per type, track events per name), for the CLI's
 * report and for benchmarks that want to print what they replayed.
 */
import type { SegmentMessage } from './segment-message.ts';

export interface ShopSummary {
  people: number;
  messages: number;
  readonly byType: Record<string, number>;
  /** Track calls by event name. */
  readonly byEvent: Record<string, number>;
}

export function createSummary(people: number): ShopSummary {
  return { people, messages: 0, byType: {}, byEvent: {} };
}

export function countMessage(summary: ShopSummary, message: SegmentMessage): void {
  summary.messages++;
  summary.byType[message.type] = (summary.byType[message.type] ?? 0) + 1;
  if (message.type === 'track') summary.byEvent[message.event] = (summary.byEvent[message.event] ?? 0) + 1;
}

/** A human-readable report; `elapsedMs` adds the generation rate. */
export function formatSummary(summary: ShopSummary, elapsedMs?: number): string {
  const lines = [`people:   ${summary.people}`, `messages: ${summary.messages}`];
  if (elapsedMs !== undefined) {
    const seconds = elapsedMs / 1000;
    const rate = seconds > 0 ? Math.round(summary.messages / seconds) : summary.messages;
    lines.push(`elapsed:  ${seconds.toFixed(2)} s (${rate} messages/s)`);
  }
  lines.push('by type:', ...table(summary.byType), 'track events:', ...table(summary.byEvent));
  return lines.join('\n');
}

function table(counts: Record<string, number>): string[] {
  return Object.entries(counts)
    .sort(([, a], [, b]) => b - a)
    .map(([name, count]) => `  ${name.padEnd(18)} ${String(count).padStart(10)}`);
}
