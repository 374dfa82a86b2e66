/**
 * The `Audience Entered` / `Audience Exited` track events: what a membership change owes the
 * log (its id and instants fixed when decided), and the event built from it when it is sent.
 */
import type { AcceptedEvent } from '../ingestion/message-types.ts';
import type { AudienceTransition } from './audience-state.port.ts';
import type { ProfileSnapshot } from './profile-snapshot.ts';
import type { Segment } from './segment-types.ts';

export const AUDIENCE_SOURCE_ID = 'system:audiences';
export const AUDIENCE_ENTERED = 'Audience Entered';
export const AUDIENCE_EXITED = 'Audience Exited';

/** The events owed for a profile's membership changes, their ids and instants fixed now. */
export function transitionsOf(
  profileId: string,
  changes: readonly { member: boolean; segment: Segment }[],
  nowMs: number,
  snapshot: ProfileSnapshot,
): AudienceTransition[] {
  // Never before the profile's own latest event (a client clock ahead of ours): the change
  // follows what caused it, and an earlier audience event would be a late arrival in the
  // person's history, re-resolved and even taken as the profile's first event (a new id).
  let atMs = Math.max(nowMs, snapshot.lastSeenMs ?? nowMs);
  for (const e of snapshot.events) if (e.timestampMs > atMs) atMs = e.timestampMs;
  return changes.map(({ member, segment }) => ({
    messageId: `aud-${segment.id}-${profileId}-${member ? 'in' : 'out'}-${nowMs}`,
    profileId,
    segmentId: segment.id,
    segmentSlug: segment.slug,
    segmentName: segment.name,
    member,
    atMs,
    decidedMs: nowMs,
  }));
}

export function audienceEvent(
  workspaceId: string,
  t: AudienceTransition,
  { userId, anonymousId }: { userId: string | null; anonymousId: string | null },
): AcceptedEvent | undefined {
  // A profile with no id left to carry the event (erased meanwhile) gets none.
  if (userId === null && anonymousId === null) return undefined;
  const event = t.member ? AUDIENCE_ENTERED : AUDIENCE_EXITED;
  const timestamp = new Date(t.atMs).toISOString();
  const message = {
    type: 'track',
    event,
    messageId: t.messageId,
    ...(userId === null ? {} : { userId }),
    ...(anonymousId === null ? {} : { anonymousId }),
    timestamp,
    receivedAt: new Date(t.decidedMs).toISOString(),
    properties: {
      audience_key: t.segmentSlug,
      audience_name: t.segmentName,
      audience_id: t.segmentId,
      profile_id: t.profileId,
    },
    context: { library: { name: 'cdp-audiences', version: '1' } },
  };
  return {
    workspaceId,
    sourceId: AUDIENCE_SOURCE_ID,
    messageId: t.messageId,
    type: 'track',
    event,
    userId,
    anonymousId,
    timestampMs: t.atMs,
    receivedMs: t.decidedMs,
    payload: JSON.stringify(message),
  };
}
