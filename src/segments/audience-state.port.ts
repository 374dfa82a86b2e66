import type { JsonValue } from './profile-snapshot.ts';

/** What real-time evaluation decided for one profile. */
export interface ProfileAudienceUpdate {
  readonly profileId: string;
  /** Enters or leaves segments (recorded in the membership history). */
  readonly memberships: readonly { readonly segmentId: string; readonly member: boolean }[];
  /** Computed values that changed; `undefined` removes the value (the trait has none). */
  readonly computed: readonly {
    readonly name: string;
    readonly value: JsonValue | undefined;
    readonly nextChangeMs: number | null;
  }[];
  /** When the profile must be evaluated again with no new event (null: never). */
  readonly dueMs: number | null;
}

/**
 * A membership change whose `Audience Entered` / `Audience Exited` event is owed to the log.
 * Written with the change itself, deleted once the event is appended: a crash in between
 * leaves it here to be sent again (same message id, so the log stores it once), never lost.
 */
export interface AudienceTransition {
  readonly messageId: string;
  readonly profileId: string;
  readonly segmentId: string;
  readonly segmentSlug: string;
  readonly segmentName: string;
  readonly member: boolean;
  /** The event's timestamp. */
  readonly atMs: number;
  /** When it was decided (the event's receivedAt). */
  readonly decidedMs: number;
}

/** The writes of real-time evaluation, and what the scheduler reads. */
export interface AudienceStateRepository {
  /**
   * One round of evaluation in one transaction (one commit for a whole pipeline batch):
   * profiles merged away or erased (`removed`) leave their segments and lose their values and
   * schedule; the others get their updates; `transitions` are the events owed for them.
   */
  apply(
    workspaceId: string,
    round: {
      readonly removed: readonly string[];
      readonly updates: readonly ProfileAudienceUpdate[];
      readonly transitions?: readonly AudienceTransition[];
    },
    nowMs: number,
  ): Promise<void>;
  /**
   * Transitions still owed, decided at or before `decidedBeforeMs`, oldest first, of every
   * workspace or of one.
   */
  pendingTransitions(
    decidedBeforeMs: number,
    limit: number,
    workspaceId?: string,
  ): Promise<(AudienceTransition & { readonly workspaceId: string })[]>;
  /** The transitions' events are in the log. */
  transitionsSent(workspaceId: string, messageIds: readonly string[]): Promise<void>;
  /** Profiles due at `nowMs`, earliest first, every workspace. */
  due(nowMs: number, limit: number): Promise<{ workspaceId: string; profileId: string; dueMs: number }[]>;
  /** Profiles of one workspace due at `nowMs`, in id order, one page. */
  dueIn(
    workspaceId: string,
    nowMs: number,
    page: { readonly afterId: string | undefined; readonly limit: number },
  ): Promise<string[]>;
  /**
   * Which of these profiles were created by one of these events (their first event): profiles
   * that were never evaluated, so no dependency index can say what of theirs changed.
   */
  createdBy(
    workspaceId: string,
    profileIds: readonly string[],
    seqs: readonly number[],
  ): Promise<Set<string>>;
  /** Slugs of the segments the profile is a member of now. */
  membershipsOf(workspaceId: string, profileId: string): Promise<string[]>;
  /**
   * The profile's computed values and memberships as of one instant (one statement): a reader
   * never sees a membership without the computed value the same evaluation wrote with it.
   */
  audienceOf(
    workspaceId: string,
    profileId: string,
  ): Promise<{ computed: Record<string, JsonValue>; segments: string[] }>;
  /**
   * Live person profiles written at or after `sinceMs` (by the profiles stage), in id order:
   * what a backfill that began then may have computed from an older state.
   */
  profilesUpdatedSince(
    workspaceId: string,
    sinceMs: number,
    page: { readonly afterId: string | undefined; readonly limit: number },
  ): Promise<string[]>;
  /** The earliest due instant, or null. */
  nextDue(): Promise<number | null>;
}
