/**
 * The one order in which identity is resolved: the event's `timestamp`, then `messageId`, then
 * what the event says about identity. Arrival order and log position play no part, so a shuffled
 * delivery or a replay from zero resolves the same way.
 */
import { compareStrings } from './identifier-types.ts';

export interface CanonicalPosition {
  readonly timestampMs: number;
  readonly messageId: string;
  /**
   * Breaks the tie between two events sharing a timestamp and a messageId (a client reusing
   * ids): a serialization of the event's identifiers, so the order depends on content only.
   */
  readonly contentKey: string;
}

export function compareCanonical(a: CanonicalPosition, b: CanonicalPosition): number {
  if (a.timestampMs !== b.timestampMs) return a.timestampMs < b.timestampMs ? -1 : 1;
  return compareStrings(a.messageId, b.messageId) || compareStrings(a.contentKey, b.contentKey);
}
