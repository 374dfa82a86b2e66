import type { Expression } from '../segment-language/index.ts';
import type { ProfileSnapshot } from './profile-snapshot.ts';
import type { BackfillProgress, MembershipHistoryEntry, Segment, SegmentMember } from './segment-types.ts';

/** How `in segment "x"` is read when a definition is evaluated in the store. */
export type SegmentReferenceMode =
  | { readonly kind: 'membership'; readonly segmentIds: ReadonlyMap<string, string> }
  | { readonly kind: 'inline'; readonly definitions: ReadonlyMap<string, Expression> };

/** Evaluating a definition over the stored profiles, at one instant. */
export interface MatchQuery {
  readonly nowMs: number;
  readonly references: SegmentReferenceMode;
  /** Only profiles with `afterId < id <= untilId`. */
  readonly range?: ProfileIdRange;
}

export interface ProfileIdRange {
  readonly afterId?: string | undefined;
  readonly untilId?: string | undefined;
}

export interface SegmentDefinitionChanges {
  readonly name?: string;
  readonly description?: string;
  readonly definition?: string;
  readonly dependencies?: Segment['dependencies'];
  readonly updatedMs: number;
}

/**
 * Segment definitions, memberships and evaluation in the store. Evaluation methods take the
 * parsed, validated tree; the adapter compiles it to SQL for its dialect.
 */
export interface SegmentRepository {
  /** Resolves false when the slug is taken in the workspace. */
  create(segment: Segment): Promise<boolean>;
  find(workspaceId: string, slug: string): Promise<Segment | undefined>;
  list(workspaceId: string, page: { afterSlug?: string | undefined; limit: number }): Promise<Segment[]>;
  /** Applies changes; a new definition bumps the version and resets progress to `backfilling`. */
  update(workspaceId: string, id: string, changes: SegmentDefinitionChanges): Promise<Segment | undefined>;
  /** Deletes the definition and its memberships (history stays). */
  delete(workspaceId: string, id: string): Promise<boolean>;
  /** Records progress if the segment is still at `version`; false when it moved on. */
  setBackfill(workspaceId: string, id: string, version: number, progress: BackfillProgress): Promise<boolean>;
  /** Every segment still being backfilled, in every workspace (to resume after a restart). */
  listUnfinished(): Promise<Segment[]>;

  countMembers(workspaceId: string, segmentId: string): Promise<number>;
  listMembers(
    workspaceId: string,
    segmentId: string,
    page: { afterProfileId?: string | undefined; limit: number },
  ): Promise<SegmentMember[]>;
  /** A profile's membership changes, newest first. */
  membershipHistory(
    workspaceId: string,
    profileId: string,
    page: { beforeSeq?: number | undefined; limit: number },
  ): Promise<MembershipHistoryEntry[]>;

  /** Entries and exits of a segment per time bucket (`bucketMs` long, from the epoch), in order. */
  membershipChanges(
    workspaceId: string,
    segmentId: string,
    bucketMs: number,
  ): Promise<{ bucketStartMs: number; entered: number; exited: number }[]>;

  countLivePersons(workspaceId: string): Promise<number>;
  /** Ids of live person profiles at positions chunk, 2·chunk, … in id order: backfill chunk ends. */
  chunkBoundaries(workspaceId: string, chunkSize: number): Promise<string[]>;
  countMatching(workspaceId: string, definition: Expression, query: MatchQuery): Promise<number>;
  /** Matching profile ids in id order, at most `limit` (all when absent). */
  matchingIds(
    workspaceId: string,
    definition: Expression,
    query: MatchQuery & { readonly limit?: number },
  ): Promise<string[]>;
  /**
   * Makes the memberships of `segmentId` inside `range` exactly `memberIds` (which must lie in
   * the range), recording each entry and exit in the history, and what `followUp` asks, in one
   * transaction; null (and nothing written) when the segment is gone or no longer at `version`.
   */
  replaceMembers(
    workspaceId: string,
    segmentId: string,
    version: number,
    range: ProfileIdRange,
    memberIds: readonly string[],
    nowMs: number,
    followUp?: BackfillFollowUp,
  ): Promise<{ entered: number; exited: number } | null>;

  /**
   * What the in-memory evaluator needs about these profiles, read from the store in a few
   * queries per few hundred profiles; profiles that no longer exist are absent. With
   * `trackEvents`, the timeline holds only the track events of those names (all that `did`
   * conditions and computed traits read): a profile's page views need not be parsed for
   * segments that count orders. With `payloadEvents` as well, only the events of those names
   * carry their `properties` and `context`; the others come with their name and time alone
   * (reading and parsing every payload of a profile's history was the largest cost of a
   * real-time batch, and `did "E" in last 7 days` needs none of it).
   */
  loadSnapshots(
    workspaceId: string,
    profileIds: readonly string[],
    options?: SnapshotOptions,
  ): Promise<Map<string, ProfileSnapshot>>;
}

/**
 * What a backfill step owes the real-time stage, written in the step's own transaction so a
 * crash cannot separate it from the memberships or values it follows (a resumed backfill finds
 * nothing changed and would not owe it again).
 */
export interface BackfillFollowUp {
  /**
   * Each entry and exit owes an `Audience Entered` / `Audience Exited` event (the outbox of the
   * real-time stage): a backfill's members reach destinations like any other member.
   */
  readonly audience?: { readonly slug: string; readonly name: string };
  /**
   * Other segments read what changed: the profiles it changed for are due at once, so the
   * real-time stage evaluates them again (with history and events) as it would after an event.
   */
  readonly dueOnChange: boolean;
  /**
   * When these profiles can next change by the clock alone (a window lapsing): their due
   * instant becomes the earlier of this and the one they have.
   */
  readonly schedule: readonly { readonly profileId: string; readonly dueMs: number }[];
}

export interface SnapshotOptions {
  readonly trackEvents?: readonly string[];
  readonly payloadEvents?: readonly string[];
}
