/**
 * What privacy requests, the suppression list and retention need from storage. The erase is
 * one port method because it must reach every table of the schema in one transaction that
 * excludes the profiles stage of the workspace.
 */
import type { StoredEvent } from '../ingestion/message-types.ts';
import type { ProfileSettings } from '../profiles/profile-settings.ts';
import type { JsonObject } from '../shared/json.ts';

export const PRIVACY_REQUEST_TYPES = ['export', 'erase', 'suppress_and_erase', 'unsuppress'] as const;
export type PrivacyRequestType = (typeof PRIVACY_REQUEST_TYPES)[number];
export type PrivacyRequestStatus = 'pending' | 'running' | 'completed' | 'failed';

export interface PrivacyRequest {
  readonly workspaceId: string;
  readonly id: string;
  readonly type: PrivacyRequestType;
  readonly status: PrivacyRequestStatus;
  readonly identifierType: string;
  /** The normalized identifier while the request waits or runs; null once it finished. */
  readonly identifierValue: string | null;
  /** Keyed hash of the normalized identifier (see suppression-hasher.ts). */
  readonly identifierHash: string;
  /** Who asked (an actor label such as `token:tok_…`, `user:usr_…`, `cli`). */
  readonly requestedBy: string;
  readonly createdMs: number;
  readonly startedMs: number | null;
  readonly finishedMs: number | null;
  readonly leaseUntilMs: number | null;
  readonly attempts: number;
  /** Counts of what was found or deleted: never personal data. */
  readonly result: JsonObject | null;
  readonly error: { readonly code: string; readonly message: string } | null;
}

export interface PrivacyRequestRepository {
  create(request: PrivacyRequest): Promise<void>;
  get(workspaceId: string, id: string): Promise<PrivacyRequest | undefined>;
  /** Newest first. */
  list(
    workspaceId: string,
    query: {
      readonly before?: { readonly createdMs: number; readonly id: string } | undefined;
      readonly limit: number;
    },
  ): Promise<PrivacyRequest[]>;
  /**
   * Takes a request to run, atomically: the given one, or the oldest that is pending or whose
   * runner's lease expired (a process that died mid-way). Undefined when there is none.
   */
  claim(
    nowMs: number,
    leaseMs: number,
    which?: { readonly workspaceId: string; readonly id: string },
  ): Promise<PrivacyRequest | undefined>;
  renewLease(workspaceId: string, id: string, leaseUntilMs: number): Promise<void>;
  /**
   * Records a request's outcome and clears the identifier's value (its hash stays). The status
   * stays `running` until `settle`: the row's old bytes, with the identifier, are purged from
   * the files in between, and "completed" must mean they are gone.
   */
  recordOutcome(
    workspaceId: string,
    id: string,
    outcome: {
      readonly result: JsonObject | null;
      /** Set for a failed request, null for a completed one. */
      readonly error: { readonly code: string; readonly message: string } | null;
      readonly finishedMs: number;
    },
  ): Promise<void>;
  /** `completed` (or `failed`, when the recorded outcome has an error) once its outcome is recorded. */
  settle(workspaceId: string, id: string): Promise<void>;
  saveExport(
    workspaceId: string,
    requestId: string,
    document: string,
    nowMs: number,
    expiresMs: number,
  ): Promise<void>;
  readExport(workspaceId: string, requestId: string): Promise<string | undefined>;
  deleteExpiredExports(nowMs: number): Promise<number>;
}

export interface SuppressionRepository {
  /** Adds hashes (one group per request) and bumps the workspace's version. */
  add(workspaceId: string, hashes: readonly string[], requestId: string, nowMs: number): Promise<void>;
  /** Removes the whole group (request) the hash belongs to; returns how many hashes went. */
  removeGroupOf(workspaceId: string, hash: string, nowMs: number): Promise<number>;
  hashes(workspaceId: string): Promise<string[]>;
  /** Per workspace with a list: its version and the events dropped so far. */
  states(): Promise<Map<string, { readonly version: number; readonly droppedEvents: number }>>;
  addDropped(counts: ReadonlyMap<string, number>, nowMs: number): Promise<void>;
}

/** A person as stored: the profile an identifier belongs to, its merged ids and identifiers. */
export interface Subject {
  /** Live profile ids (one, unless the identifiers given belong to several). */
  readonly profileIds: readonly string[];
  /** Ids merged into them. */
  readonly mergedIds: readonly string[];
  readonly identifiers: readonly { readonly type: string; readonly value: string }[];
}

export interface SubjectQuery {
  /** Stored identifier keys (`type:value`, normalized) the person is known by. */
  readonly identifierKeys: readonly string[];
}

export interface EraseInput extends SubjectQuery {
  /**
   * Whether an event carries one of the person's identifiers (normalized as identity
   * resolution does): used for events the profiles stage did not link (not yet processed,
   * failed, unassigned).
   */
  readonly carries: (event: StoredEvent) => boolean;
  /** The profiles stage's cursor: later events are not linked yet and are read with `carries`. */
  readonly pendingAfterSeq: number;
  /** Hashes of the person's identifiers: their past privacy requests are scrubbed. */
  readonly identifierHashes: readonly string[];
  /** Other profiles that erased events contributed to (an account) are recomputed with these. */
  readonly profileSettings: ProfileSettings;
  readonly nowMs: number;
}

/** Rows deleted per table. */
export type EraseCounts = Readonly<Record<string, number>>;

/** Everything stored about a person, for an export (documents are built from this). */
export interface SubjectData {
  readonly subject: Subject;
  readonly profiles: readonly JsonObject[];
  readonly identifiers: readonly JsonObject[];
  readonly events: readonly StoredEvent[];
  readonly traitHistory: readonly JsonObject[];
  readonly merges: readonly JsonObject[];
  readonly decisions: readonly JsonObject[];
  readonly accounts: readonly JsonObject[];
  readonly consentHistory: readonly JsonObject[];
  readonly segments: readonly JsonObject[];
  readonly segmentHistory: readonly JsonObject[];
  readonly computed: readonly JsonObject[];
  /** Events delivered to destinations (which destination, which event, when). */
  readonly deliveries: readonly JsonObject[];
}

export interface SubjectRepository {
  find(workspaceId: string, query: SubjectQuery): Promise<Subject | undefined>;
  read(
    workspaceId: string,
    input: Omit<EraseInput, 'identifierHashes' | 'nowMs' | 'profileSettings'>,
  ): Promise<SubjectData>;
  erase(workspaceId: string, input: EraseInput): Promise<EraseCounts>;
  /**
   * Makes deleted bytes unrecoverable from the store's files where the store can: SQLite copies
   * the WAL into the database (whose deleted content is zeroed) and truncates it.
   */
  purgeFiles(): Promise<void>;
}

/** Retention: deleting a workspace's old events in small batches. */
export interface RetentionRepository {
  /**
   * Deletes up to `limit` events of the workspace received before `cutoffMs` (with their
   * timeline rows, identity decisions, failed-event and redelivery entries) and returns how
   * many went: 0 when nothing is older.
   */
  deleteEventsBefore(workspaceId: string, cutoffMs: number, limit: number): Promise<number>;
}
