/**
 * What the profile resolver reads and writes: the persisted identity graph and profiles of one
 * workspace. One writer per workspace at a time (the stage and admin actions go through
 * `ProfileStateStore.exclusive`), so a batch reads a state nobody else changes under it.
 */
import type { CanonicalPosition } from '../identity/canonical-order.ts';
import type { EventRef } from '../identity/identity-graph.ts';
import type { StoredEvent } from '../ingestion/message-types.ts';
import type { JsonValue } from '../shared/json.ts';
import type { TraitMap } from './trait-values.ts';

export type ProfileKind = 'person' | 'account';

export interface StoredIdentifier {
  readonly key: string;
  readonly type: string;
  readonly value: string;
  /** Null while the identifier never linked (it was only ever demoted). */
  readonly profileId: string | null;
  readonly componentId: string;
  readonly linkedBy: EventRef | null;
}

export interface ProfileStats {
  readonly firstSeenMs: number;
  readonly lastSeenMs: number;
  readonly eventCount: number;
}

export interface StoredProfile extends ProfileStats {
  readonly id: string;
  readonly kind: ProfileKind;
  readonly createdBy: EventRef;
  readonly createdAt: CanonicalPosition;
  readonly traits: TraitMap;
  readonly mergedInto: string | null;
  readonly updatedMs: number;
}

export interface StoredComponent {
  readonly id: string;
  readonly last: CanonicalPosition;
  readonly events: number;
  readonly demotions: number;
  /** A late event was applied in arrival order (component too large to re-resolve inline). */
  readonly stale: boolean;
}

export interface Assignment {
  readonly seq: number;
  readonly profileId: string;
  readonly tsMs: number;
  readonly type: string;
  readonly event: string | null;
}

export interface MergeRow {
  readonly survivorId: string;
  readonly mergedId: string;
  readonly event: EventRef;
}

export interface DecisionRow {
  readonly seq: number;
  readonly position: number;
  readonly kind: 'rejected' | 'demoted' | 'trait_dropped';
  readonly type: string;
  readonly value: string;
  readonly reason: string;
  readonly limitType: string | null;
  readonly profileId: string | null;
}

export interface TraitObservationRow {
  readonly profileId: string;
  readonly trait: string;
  readonly seq: number;
  readonly tsMs: number;
  readonly sourceId: string;
  readonly messageId: string;
  readonly value: JsonValue;
}

export interface GroupMembershipRow {
  readonly profileId: string;
  readonly accountId: string;
  readonly seq: number;
  readonly tsMs: number;
}

/** Everything one batch (or one re-resolution) changes, written in one transaction. */
export interface ProfileChanges {
  readonly workspaceId: string;
  /** Components absorbed by another: their identifiers are relabelled, their rows removed. */
  readonly absorbedComponents: readonly { readonly id: string; readonly into: string }[];
  readonly components: readonly StoredComponent[];
  readonly identifiers: readonly StoredIdentifier[];
  /** Live profiles and accounts, full state (upsert). */
  readonly profiles: readonly StoredProfile[];
  /** Profile ids that now resolve to another: their events, history and accounts move along. */
  readonly mergedProfiles: readonly { readonly id: string; readonly into: string }[];
  /** Profiles left without any identifier (an unlink took the last one): removed. */
  readonly deletedProfiles: readonly string[];
  readonly assignments: readonly Assignment[];
  /** Events that no longer belong to any profile. */
  readonly unassignedSeqs: readonly number[];
  readonly merges: readonly MergeRow[];
  /** Demotion decisions of these events are recomputed (re-resolution): old ones are removed. */
  readonly clearDemotionsForSeqs: readonly number[];
  /**
   * The live profiles of re-resolved components: the merge records into them (and into the ids
   * merged in them) are recomputed, so the old ones are removed. A split must not leave the
   * records of the merge it undid.
   */
  readonly reresolvedProfiles: readonly string[];
  readonly decisions: readonly DecisionRow[];
  readonly traitObservations: readonly TraitObservationRow[];
  /** Account memberships of these profiles are replaced by `groupMemberships` (re-resolution). */
  readonly resetGroupsOf: readonly string[];
  readonly groupMemberships: readonly GroupMembershipRow[];
}

/** Reads of one workspace's persisted state. */
export interface ProfileStateReader {
  assignedSeqs(seqs: readonly number[]): Promise<Set<number>>;
  /** seq → the profile each event belongs to now (events without a profile are absent). */
  assignmentsOf(seqs: readonly number[]): Promise<Map<number, string>>;
  identifiersByKey(keys: readonly string[]): Promise<StoredIdentifier[]>;
  identifiersOfProfiles(profileIds: readonly string[]): Promise<StoredIdentifier[]>;
  identifiersOfComponents(componentIds: readonly string[]): Promise<StoredIdentifier[]>;
  profiles(ids: readonly string[]): Promise<StoredProfile[]>;
  components(ids: readonly string[]): Promise<StoredComponent[]>;
  eventSeqsOfProfiles(profileIds: readonly string[]): Promise<number[]>;
  readEvents(seqs: readonly number[]): Promise<StoredEvent[]>;
  /** Components waiting for a deferred re-resolution, oldest first. */
  staleComponents(limit: number): Promise<string[]>;
  /** Keys of identifiers an admin unlinked. */
  unlinkedKeys(): Promise<Set<string>>;
}

export interface ProfileStateSession extends ProfileStateReader {
  write(changes: ProfileChanges): Promise<void>;
  /** Records an admin's unlink of an identifier (it never links again in the workspace). */
  unlink(entry: {
    key: string;
    type: string;
    value: string;
    profileId: string;
    actor: string;
  }): Promise<void>;
  /**
   * Takes an identifier out of the unlinked set (an admin undoing an unlink): events link it
   * again. False if it was not unlinked.
   */
  relink(key: string): Promise<boolean>;
  /**
   * Deletes up to `limit` rows of the workspace's derived profile state (the first step of a
   * rebuild, in short transactions); fewer than `limit` once nothing is left.
   */
  clearSome(limit: number): Promise<number>;
  /**
   * The workspace's logged events after `afterSeq`, in log order, read in this transaction;
   * with `maxBytes`, bounded by the bytes of their payloads as the log's `readAfter` is.
   */
  logAfter(afterSeq: number, limit: number, maxBytes?: number): Promise<StoredEvent[]>;
  /** The workspace's rebuild, as of this transaction. */
  rebuild(): Promise<ProfileRebuildState | undefined>;
  saveRebuild(state: ProfileRebuildState): Promise<void>;
  /**
   * Up to `limit` of the profiles the rebuild's clearing deleted, forgotten: `taken` of them,
   * of which `gone` were not brought back by the replay.
   */
  takeGoneProfiles(limit: number): Promise<{ readonly taken: number; readonly gone: string[] }>;
  /** Records, with this transaction's writes, a change the listeners are owed (see `settleChange`). */
  oweChange(id: string, change: OwedProfileChange): Promise<void>;
}

/** Which profiles a change touched, and how (see ProfileBatchChange). */
export type ProfileChangeIds = Pick<
  ProfileBatchChange,
  'changedProfiles' | 'mergedProfiles' | 'deletedProfiles' | 'reassignedProfiles'
>;

/** What an admin action (an unmerge) changed, kept until the listeners have taken it. */
export interface OwedProfileChange extends ProfileChangeIds {
  readonly nowMs: number;
}

/**
 * A rebuild of one workspace's profiles from its log, stored so that it survives a restart.
 * `clearing`: the old derived state is being deleted; `replaying`: the log is applied page by
 * page after `afterSeq`; `pruning`: profiles that the replay did not bring back are reported
 * deleted to the listeners; `done`. Until it is done, the profiles stage leaves the workspace's
 * events to the rebuild, which reads the log to its end.
 */
export interface ProfileRebuildState {
  readonly status: 'clearing' | 'replaying' | 'pruning' | 'done';
  readonly afterSeq: number;
  /** Events applied so far, and what the workspace's log held when the rebuild started. */
  readonly done: number;
  readonly total: number;
  readonly startedMs: number;
  readonly finishedMs: number | null;
  /** The last applied page's change, until the listeners have taken it (told again after a crash). */
  readonly pending: PendingRebuildChange | null;
}

export interface PendingRebuildChange extends ProfileChangeIds {
  /** Which step made it: only that step's runner (or one that found it after a crash) clears it. */
  readonly id: string;
  /** The page's events are those after this sequence number, up to the rebuild's `afterSeq`. */
  readonly fromSeq: number;
}

/** What a batch of the profiles stage did, for the modules that react to profile changes. */
export interface ProfileBatchChange {
  readonly workspaceId: string;
  readonly nowMs: number;
  /** The batch's events (also those a redelivery had already applied), in log order. */
  readonly events: readonly StoredEvent[];
  /** seq → profile, for the batch's events that belong to a profile. */
  readonly profileOf: ReadonlyMap<number, string>;
  /** Profiles (and accounts) whose state was written. */
  readonly changedProfiles: readonly string[];
  readonly mergedProfiles: readonly { readonly id: string; readonly into: string }[];
  readonly deletedProfiles: readonly string[];
  /**
   * Profiles whose events may have moved to another profile other than by a merge (a component
   * re-resolved, an unmerge): what was derived from those events must follow them. Empty for
   * the usual batch, where events only join profiles.
   */
  readonly reassignedProfiles: readonly string[];
}

/**
 * Reacts after the profiles stage committed a batch (consent, computed traits, segments…). It
 * is called again with the same events if the batch is redelivered: it must be idempotent.
 * Throwing makes the stage retry the batch.
 */
export interface ProfileChangeListener {
  readonly name: string;
  profilesChanged(change: ProfileBatchChange): Promise<void>;
}

export interface ProfileStateStore {
  /**
   * Runs `work` as the only writer of the workspace's profile state (in-process mutex; on
   * PostgreSQL also a transaction-scoped advisory lock, for several worker processes).
   */
  exclusive<T>(
    workspaceId: string,
    nowMs: number,
    work: (session: ProfileStateSession) => Promise<T>,
    /** `replayable`: only derived state is written (the stage): see storage's WriteOptions. */
    options?: { readonly replayable?: boolean },
  ): Promise<T>;
  /** The workspace's latest rebuild, if one ever ran. */
  rebuildOf(workspaceId: string): Promise<ProfileRebuildState | undefined>;
  /** Workspaces whose rebuild a previous process left unfinished. */
  unfinishedRebuilds(): Promise<string[]>;
  /** Changes still owed to the listeners (a process stopped between an action and them), oldest first. */
  owedChanges(
    limit: number,
  ): Promise<{ readonly workspaceId: string; readonly id: string; readonly change: OwedProfileChange }[]>;
  /** The listeners have taken the change. */
  settleChange(workspaceId: string, id: string): Promise<void>;
}
