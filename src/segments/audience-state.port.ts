import type { JsonValue } from './profile-snapshot.ts';

/** The per-profile writes of real-time evaluation. */
export interface AudienceStateRepository {
  /** Enters or leaves segments (recorded in the membership history), in one transaction. */
  setMemberships(
    workspaceId: string,
    profileId: string,
    changes: readonly { readonly segmentId: string; readonly member: boolean }[],
    nowMs: number,
  ): Promise<void>;
  /** Stores computed values; `undefined` removes the value (the trait has none). */
  setComputedValues(
    workspaceId: string,
    profileId: string,
    values: readonly {
      readonly name: string;
      readonly value: JsonValue | undefined;
      readonly nextChangeMs: number | null;
    }[],
    nowMs: number,
  ): Promise<void>;
  /** A profile merged away or erased: its memberships end, its values and schedule go. */
  removeProfile(workspaceId: string, profileId: string, nowMs: number): Promise<string[]>;
  /** When the profile must be evaluated again with no new event (null: never). */
  schedule(workspaceId: string, profileId: string, dueMs: number | null): Promise<void>;
  /** Profiles due at `nowMs`, earliest first, every workspace. */
  due(nowMs: number, limit: number): Promise<{ workspaceId: string; profileId: string; dueMs: number }[]>;
  /** Slugs of the segments the profile is a member of now. */
  membershipsOf(workspaceId: string, profileId: string): Promise<string[]>;
  /** The earliest due instant, or null. */
  nextDue(): Promise<number | null>;
}
