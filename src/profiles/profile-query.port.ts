import type { EventRef } from '../identity/identity-graph.ts';
import type { StoredEvent } from '../ingestion/message-types.ts';
import type { JsonValue } from '../shared/json.ts';
import type { ProfileKind, StoredIdentifier, StoredProfile } from './profile-state.port.ts';

export interface ProfileListQuery {
  readonly kind: ProfileKind;
  readonly limit: number;
  readonly afterId?: string | undefined;
  /** Profiles holding an identifier whose value starts with this (of `identifierType` if set). */
  readonly identifierPrefix?: string | undefined;
  readonly identifierType?: string | undefined;
  /** The prefix for values of these types, in their normalized form (e-mail: lower-case). */
  readonly identifierPrefixByType?: Readonly<Record<string, string>> | undefined;
  /** Without a type, whether identifiers of PII types (e-mail, phone) are searched too. */
  readonly personalIdentifiers?: boolean;
  /** Every trait must equal its value (JSON equality of scalars). */
  readonly traitEquals?: readonly (readonly [string, string | number | boolean])[] | undefined;
}

export interface TimelineQuery {
  readonly profileId: string;
  readonly type?: string | undefined;
  readonly event?: string | undefined;
  readonly sinceMs?: number | undefined;
  readonly untilMs?: number | undefined;
  /** Paging, newest first: only events strictly before this (timestamp, seq). */
  readonly before?: { readonly tsMs: number; readonly seq: number } | undefined;
  readonly limit: number;
}

/** Newest first: by timestamp, then seq (both descending), then trait name. */
export interface TraitHistoryQuery {
  readonly trait?: string | undefined;
  readonly limit: number;
  /**
   * Paging: only entries after this one in that order. One event sets several traits at one
   * timestamp, so the timestamp alone would skip the rest of them. Without `seq` (a cursor of
   * an older version), entries strictly before `tsMs`.
   */
  readonly before?: { readonly tsMs: number; readonly seq?: number; readonly trait?: string } | undefined;
}

export interface MergeRecordView {
  readonly survivorId: string;
  readonly mergedId: string;
  readonly event: EventRef;
  readonly atMs: number;
}

export interface DecisionView {
  readonly seq: number;
  readonly kind: string;
  readonly type: string;
  readonly value: string;
  readonly reason: string;
  readonly limitType: string | null;
  readonly atMs: number;
}

export interface TraitObservationView {
  readonly trait: string;
  readonly value: JsonValue;
  readonly sourceId: string;
  readonly seq: number;
  readonly messageId: string;
  readonly tsMs: number;
}

export interface AccountLink {
  readonly accountId: string;
  readonly profileId: string;
  readonly seq: number;
  readonly tsMs: number;
}

/** An identifier an admin unlinked: it links nothing until the unlink is undone. */
export interface UnlinkedIdentifierView {
  readonly type: string;
  readonly value: string;
  /** The profile it was unlinked from (it may since have been split, merged or deleted). */
  readonly profileId: string;
  readonly actor: string;
  readonly atMs: number;
  /** Paging position (opaque: a PII type's key is a keyed hash). */
  readonly key: string;
}

/** Reads for the profile API and the console. */
export interface ProfileQueryRepository {
  /** The id a profile id resolves to now (itself when live), or undefined. */
  resolve(workspaceId: string, id: string): Promise<string | undefined>;
  ownerOf(workspaceId: string, identifierKey: string): Promise<string | undefined>;
  get(workspaceId: string, id: string): Promise<StoredProfile | undefined>;
  /** The live profile a profile id resolves to now, or undefined: resolve and get in one. */
  resolved(workspaceId: string, id: string): Promise<StoredProfile | undefined>;
  identifiers(workspaceId: string, profileId: string): Promise<StoredIdentifier[]>;
  list(workspaceId: string, query: ProfileListQuery): Promise<StoredProfile[]>;
  timeline(workspaceId: string, query: TimelineQuery): Promise<StoredEvent[]>;
  /** Merges whose survivor is this profile or any id merged into it. */
  merges(workspaceId: string, profileId: string): Promise<MergeRecordView[]>;
  /** Ids that resolve to this profile. */
  mergedIds(workspaceId: string, profileId: string): Promise<string[]>;
  decisions(workspaceId: string, profileId: string, limit: number): Promise<DecisionView[]>;
  traitHistory(
    workspaceId: string,
    profileId: string,
    query: TraitHistoryQuery,
  ): Promise<TraitObservationView[]>;
  accountsOf(workspaceId: string, profileId: string): Promise<AccountLink[]>;
  membersOf(workspaceId: string, accountId: string, limit: number, afterId?: string): Promise<AccountLink[]>;
  count(workspaceId: string, kind: ProfileKind): Promise<number>;
  /** The workspace's unlinked identifiers, by stored key, after `afterKey`. */
  unlinked(workspaceId: string, limit: number, afterKey?: string): Promise<UnlinkedIdentifierView[]>;
  /** Data quality: how many identifiers were rejected or demoted, and traits dropped, by reason. */
  decisionCounts(workspaceId: string): Promise<{ kind: string; reason: string; count: number }[]>;
}
