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

/** The writes of real-time evaluation, and what the scheduler reads. */
export interface AudienceStateRepository {
  /**
   * One round of evaluation in one transaction (one commit for a whole pipeline batch):
   * profiles merged away or erased (`removed`) leave their segments and lose their values and
   * schedule; the others get their updates.
   */
  apply(
    workspaceId: string,
    round: { readonly removed: readonly string[]; readonly updates: readonly ProfileAudienceUpdate[] },
    nowMs: number,
  ): Promise<void>;
  /** Profiles due at `nowMs`, earliest first, every workspace. */
  due(nowMs: number, limit: number): Promise<{ workspaceId: string; profileId: string; dueMs: number }[]>;
  /** Slugs of the segments the profile is a member of now. */
  membershipsOf(workspaceId: string, profileId: string): Promise<string[]>;
  /** The earliest due instant, or null. */
  nextDue(): Promise<number | null>;
}
