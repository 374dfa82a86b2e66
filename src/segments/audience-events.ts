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
  let latestMs = snapshot.lastSeenMs ?? Number.NEGATIVE_INFINITY;
  for (const e of snapshot.events) if (e.timestampMs > latestMs) latestMs = e.timestampMs;
  return changes.map(({ member, segment }) =>
    audienceTransition(profileId, segment, member, nowMs, latestMs),
  );
}

/**
 * The event owed for one change decided at `nowMs`, for a profile whose latest event is at
 * `latestEventMs`. The message id is fixed by the change itself, so deciding it again (a batch
 * redelivered, a backfill step retried) owes the same event, which the log stores once.
 */
export function audienceTransition(
  profileId: string,
  segment: Pick<Segment, 'id' | 'slug' | 'name'>,
  member: boolean,
  nowMs: number,
  latestEventMs: number,
): AudienceTransition {
  // Strictly after the profile's own latest event (a client clock ahead of ours, or an event
  // at this very millisecond): the change follows what caused it, and an audience event at or
  // before the profile's events would be a late arrival in the person's history, re-resolved
  // and even taken as the profile's first event, which names the profile (a new id).
  const atMs = Math.max(nowMs, latestEventMs + 1);
  return {
    messageId: `aud-${segment.id}-${profileId}-${member ? 'in' : 'out'}-${nowMs}`,
    profileId,
    segmentId: segment.id,
    segmentSlug: segment.slug,
    segmentName: segment.name,
    member,
    atMs,
    decidedMs: nowMs,
  };
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
