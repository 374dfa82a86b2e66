import type { ConsentEntry, ConsentObservation } from './consent.ts';

/** A value of the history, as stored. */
export interface ConsentRecord extends ConsentEntry {
  readonly seq: number;
  readonly eventSeq: number | null;
  /** Who set it through the API (an actor label), null for events. */
  readonly actor: string | null;
  readonly atMs: number;
}

/** What one committed batch of the profiles stage means for consent. */
export interface ConsentBatch {
  /** Values carried by the batch's events, with the profile each event belongs to (or null). */
  readonly observations: readonly (ConsentObservation & { readonly profileId: string | null })[];
  readonly mergedProfiles: readonly { readonly id: string; readonly into: string }[];
  readonly deletedProfiles: readonly string[];
  /**
   * Profiles whose events may have moved (re-resolution, unmerge): values taken from events
   * follow their event to its current profile.
   */
  readonly changedProfiles: readonly string[];
}

/**
 * Consent storage: the history (every value with its source and time) and the current value
 * per category (`profile_consent`, read by segments), recomputed from the history with
 * `currentConsent` whenever a profile's history changes.
 */
export interface ConsentRepository {
  /** Idempotent: a redelivered batch changes nothing. */
  applyBatch(workspaceId: string, batch: ConsentBatch, nowMs: number): Promise<void>;
  /** Values set through the API for one profile. */
  record(
    workspaceId: string,
    profileId: string,
    entries: readonly Omit<ConsentRecord, 'seq' | 'eventSeq' | 'atMs' | 'messageId'>[],
    nowMs: number,
  ): Promise<void>;
  current(workspaceId: string, profileId: string): Promise<ConsentRecord[]>;
  /** The current value per category alone (no provenance): one small read, for profile views. */
  currentValues(workspaceId: string, profileId: string): Promise<Map<string, boolean>>;
  /** Newest first (by time, then by recording order). */
  history(
    workspaceId: string,
    profileId: string,
    query: {
      readonly category?: string | undefined;
      readonly before?: { readonly tsMs: number; readonly seq: number } | undefined;
      readonly limit: number;
    },
  ): Promise<ConsentRecord[]>;
}
