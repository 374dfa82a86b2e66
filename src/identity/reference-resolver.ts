/**
 * The reference resolver: the specification of identity resolution as one pure function. Given
 * the same events (in any order) and settings, it returns the same profiles, ids, links, merges
 * and decisions. The incremental, persisted resolver of the pipeline must agree with it; tests
 * and the accuracy benchmark use it as the oracle.
 */
import type { StoredEvent } from '../ingestion/message-types.ts';
import { createBlockedValues } from './blocked-values.ts';
import { compareCanonical, type CanonicalPosition } from './canonical-order.ts';
import { extractIdentifiers, type ExtractedIdentifiers } from './extract-identifiers.ts';
import {
  compareIdentifiers,
  compareStrings,
  storedIdentifierKey,
  type Identifier,
} from './identifier-types.ts';
import { IdentityGraph, type EventRef } from './identity-graph.ts';
import { IDENTITY_REASONS, type IdentityReason } from './identity-reasons.ts';
import type { IdentitySettings } from './identity-settings.ts';

/** What the resolver reads from a log entry. */
export type IdentityEvent = Pick<
  StoredEvent,
  'seq' | 'messageId' | 'timestampMs' | 'type' | 'userId' | 'anonymousId' | 'message'
>;

export interface ResolvedProfile {
  readonly id: string;
  /** Sorted by type, then value. */
  readonly identifiers: readonly Identifier[];
  readonly createdFromSeq: number;
  readonly createdFromMessageId: string;
  /** Ids of the profiles merged into this one: they resolve to `id`. Sorted. */
  readonly mergedIds: readonly string[];
}

export interface LinkRecord {
  readonly identifier: Identifier;
  /** The profile that holds the identifier at the end (merges followed). */
  readonly profileId: string;
  readonly event: EventRef;
}

export interface MergeRecord {
  readonly survivorId: string;
  readonly mergedId: string;
  readonly event: EventRef;
}

export type IdentityDecision =
  | {
      readonly kind: 'rejected';
      readonly event: EventRef;
      readonly type: string;
      readonly value: string;
      readonly reason: IdentityReason;
    }
  | {
      readonly kind: 'demoted';
      readonly event: EventRef;
      readonly identifier: Identifier;
      readonly limitType: string;
      readonly reason: typeof IDENTITY_REASONS.limitExceeded;
    };

export interface EventAssignment {
  readonly event: EventRef;
  /** The profile the event belongs to at the end; null if it had no linkable identifier. */
  readonly profileId: string | null;
}

export interface IdentityResolution {
  /** In creation order (canonical order of the creating events). */
  readonly profiles: readonly ResolvedProfile[];
  readonly links: readonly LinkRecord[];
  readonly merges: readonly MergeRecord[];
  readonly decisions: readonly IdentityDecision[];
  readonly assignments: readonly EventAssignment[];
}

interface PreparedEvent {
  readonly ref: EventRef;
  readonly position: CanonicalPosition;
  readonly extracted: ExtractedIdentifiers;
}

export function resolveIdentities(
  events: Iterable<IdentityEvent>,
  settings: IdentitySettings,
): IdentityResolution {
  const prepared = prepareEvents(events, settings);
  const graph = new IdentityGraph(settings);
  const links: LinkRecord[] = [];
  const merges: MergeRecord[] = [];
  const decisions: IdentityDecision[] = [];
  const assignments: EventAssignment[] = [];
  for (const { ref, position, extracted } of prepared) {
    for (const rejected of extracted.rejected) decisions.push({ kind: 'rejected', event: ref, ...rejected });
    const outcome = graph.link(ref, position, extracted.identifiers);
    for (const { identifier, limitType } of outcome.demoted) {
      decisions.push({
        kind: 'demoted',
        event: ref,
        identifier,
        limitType,
        reason: IDENTITY_REASONS.limitExceeded,
      });
    }
    for (const { survivorId, mergedId, causedBy } of outcome.merges)
      merges.push({ survivorId, mergedId, event: causedBy });
    const profileId = outcome.profileId;
    if (profileId !== null)
      for (const identifier of outcome.linked) links.push({ identifier, profileId, event: ref });
    assignments.push({ event: ref, profileId });
  }
  const final = (id: string): string => graph.resolveProfileId(id) ?? id;
  return {
    profiles: resolvedProfiles(graph),
    links: links.map((link) => ({ ...link, profileId: final(link.profileId) })),
    merges,
    decisions,
    assignments: assignments.map((a) => ({
      ...a,
      profileId: a.profileId === null ? null : final(a.profileId),
    })),
  };
}

/** Extracts every event's identifiers, then sorts into canonical order. */
function prepareEvents(events: Iterable<IdentityEvent>, settings: IdentitySettings): PreparedEvent[] {
  const blocked = createBlockedValues(settings);
  const prepared: PreparedEvent[] = [];
  for (const event of events) {
    const extracted = extractIdentifiers(event, settings, blocked);
    const contentKey = [...extracted.identifiers]
      .sort(compareIdentifiers)
      .map(storedIdentifierKey)
      .join('\u0001');
    const ref: EventRef = { seq: event.seq, messageId: event.messageId, timestampMs: event.timestampMs };
    prepared.push({
      ref,
      position: { timestampMs: event.timestampMs, messageId: event.messageId, contentKey },
      extracted,
    });
  }
  // seq only separates events identical in identity terms: which one goes first changes no cluster.
  return prepared.sort((a, b) => compareCanonical(a.position, b.position) || a.ref.seq - b.ref.seq);
}

function resolvedProfiles(graph: IdentityGraph): ResolvedProfile[] {
  return [...graph.allProfiles()]
    .sort((a, b) => compareCanonical(a.createdAt, b.createdAt) || compareStrings(a.id, b.id))
    .map((profile) => ({
      id: profile.id,
      identifiers: [...profile.identifiers.values()].map((l) => l.identifier).sort(compareIdentifiers),
      createdFromSeq: profile.createdBy.seq,
      createdFromMessageId: profile.createdBy.messageId,
      mergedIds: [...profile.mergedIds].sort(compareStrings),
    }));
}
