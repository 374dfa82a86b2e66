import type { JsonValue, SnapshotEvent } from '../segments/profile-snapshot.ts';
import type { ProfileIdRange } from '../segments/segments.port.ts';
import type { BackfillProgress } from '../segments/segment-types.ts';
import type { ComputedTraitDefinition } from './computed-trait-definition.ts';

export interface ComputedTrait {
  readonly id: string;
  readonly workspaceId: string;
  /** Read as `computed.<name>`. */
  readonly name: string;
  readonly definition: ComputedTraitDefinition;
  readonly version: number;
  readonly createdMs: number;
  readonly updatedMs: number;
  /** Where the last computation over every profile stands. */
  readonly backfill: BackfillProgress;
}

export interface ComputedValue {
  readonly profileId: string;
  readonly value: JsonValue;
  /** When the value changes by itself (window expiry), null when never. */
  readonly nextChangeMs: number | null;
}

export interface ComputedTraitRepository {
  /** Resolves false when the name is taken in the workspace. */
  create(trait: ComputedTrait): Promise<boolean>;
  find(workspaceId: string, name: string): Promise<ComputedTrait | undefined>;
  list(
    workspaceId: string,
    page: { afterName?: string | undefined; limit: number },
  ): Promise<ComputedTrait[]>;
  /** A new definition bumps the version and resets progress to `backfilling`. */
  redefine(
    workspaceId: string,
    id: string,
    definition: ComputedTraitDefinition,
    updatedMs: number,
  ): Promise<ComputedTrait | undefined>;
  /** Deletes the definition and its values. */
  delete(workspaceId: string, id: string, name: string): Promise<boolean>;
  setBackfill(workspaceId: string, id: string, version: number, progress: BackfillProgress): Promise<boolean>;
  /** Every definition still being computed, in every workspace (to resume after a restart). */
  listUnfinished(): Promise<ComputedTrait[]>;

  countLivePersons(workspaceId: string): Promise<number>;
  chunkBoundaries(workspaceId: string, chunkSize: number): Promise<string[]>;
  livePersonIds(workspaceId: string, range: ProfileIdRange): Promise<string[]>;
  /** Track events of one name of the live persons in the range, by profile, with payload fields. */
  eventsOf(
    workspaceId: string,
    range: ProfileIdRange,
    eventName: string,
  ): Promise<Map<string, SnapshotEvent[]>>;
  /**
   * Makes the stored values of `name` inside `range` exactly `values` (a value the real-time
   * path wrote after `updatedMs` stays), in one transaction with what the real-time stage is
   * owed: each written value that lapses by itself makes its profile due no later than then,
   * and with `dueOnChange` (segments read the trait) each profile whose value changed is due
   * at once. False (nothing written) when the trait `id` is gone or no longer at `version`.
   */
  replaceValues(
    workspaceId: string,
    trait: { readonly id: string; readonly name: string; readonly version: number },
    range: ProfileIdRange,
    values: readonly ComputedValue[],
    updatedMs: number,
    followUp?: { readonly dueOnChange: boolean },
  ): Promise<boolean>;
  valuesOf(workspaceId: string, profileId: string): Promise<Record<string, JsonValue>>;
}
