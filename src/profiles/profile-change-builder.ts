/**
 * Collects what the resolver decided for every group of a batch (incremental links and
 * re-resolved components) into the one `ProfileChanges` the store writes: live profiles with
 * their folded traits and counters, merges, identifiers, assignments and decisions.
 */
import type { CanonicalPosition } from '../identity/canonical-order.ts';
import { compareCanonical } from '../identity/canonical-order.ts';
import type { RejectedIdentifier } from '../identity/extract-identifiers.ts';
import { storedIdentifierKey, type Identifier } from '../identity/identifier-types.ts';
import { IDENTITY_REASONS } from '../identity/identity-reasons.ts';
import type { EventRef, IdentityGraph, LinkOutcome } from '../identity/identity-graph.ts';
import type { StoredEvent } from '../ingestion/message-types.ts';
import { generateId } from '../shared/secrets.ts';
import type {
  Assignment,
  DecisionRow,
  GroupMembershipRow,
  MergeRow,
  ProfileChanges,
  ProfileStateReader,
  StoredComponent,
  StoredIdentifier,
  StoredProfile,
  TraitObservationRow,
} from './profile-state.port.ts';
import { accountIdFor } from './account-id.ts';
import type { ResolveContext } from './profile-resolver.ts';
import { applyObservation, emptyTraits, mergeTraits, observeTraits, type TraitMap } from './trait-values.ts';

export interface Prepared {
  readonly event: StoredEvent;
  readonly ref: EventRef;
  readonly position: CanonicalPosition;
  readonly identifiers: readonly Identifier[];
  readonly keys: readonly string[];
  readonly rejected: readonly RejectedIdentifier[];
}

export interface Recorded {
  readonly prepared: Prepared;
  readonly outcome: LinkOutcome;
}

interface ProfileAccumulator {
  firstSeenMs: number;
  lastSeenMs: number;
  eventCount: number;
  traits: TraitMap;
}

/** Collects the changes of every group of a batch into one `ProfileChanges`. */
export class ChangeBuilder {
  readonly #workspaceId: string;
  readonly #ctx: ResolveContext;
  readonly #absorbed: { id: string; into: string }[] = [];
  readonly #components: StoredComponent[] = [];
  readonly #identifiers = new Map<string, StoredIdentifier>();
  /**
   * Identifier rows as the store holds them (read for this batch): one decided again unchanged
   * is not written. A live profile's every identifier is decided on each of its events; writing
   * them all again would rewrite two index entries and seal the value again, per identifier.
   */
  readonly #asStored = new Map<string, StoredIdentifier>();
  readonly #profiles = new Map<string, StoredProfile>();
  readonly #merged = new Map<string, string>();
  readonly #deleted: string[] = [];
  readonly #assignments: Assignment[] = [];
  readonly #unassigned: number[] = [];
  readonly #merges: MergeRow[] = [];
  readonly #clearDemotions: number[] = [];
  readonly #reresolvedProfiles: string[] = [];
  readonly #decisions: DecisionRow[] = [];
  readonly #observations: TraitObservationRow[] = [];
  readonly #resetGroups: string[] = [];
  readonly #memberships: GroupMembershipRow[] = [];
  /** Account id → group events (in canonical order) setting its traits. */
  readonly #accountEvents = new Map<string, StoredEvent[]>();

  constructor(workspaceId: string, ctx: ResolveContext) {
    this.#workspaceId = workspaceId;
    this.#ctx = ctx;
  }

  /** Rows read from the store: what `build()` leaves out when decided again unchanged. */
  knownAsStored(rows: Iterable<StoredIdentifier>): void {
    for (const row of rows) this.#asStored.set(row.key, row);
  }

  unlinkedEvent(p: Prepared): void {
    this.#recordRejections(p, null);
  }

  incrementalGroup(
    events: readonly Prepared[],
    graph: IdentityGraph,
    recorded: readonly Recorded[],
    components: readonly StoredComponent[],
    owners: readonly StoredProfile[],
    stored: ReadonlyMap<string, StoredIdentifier>,
    approximate: boolean,
  ): void {
    const final = (id: string): string => graph.resolveProfileId(id) ?? id;
    const componentId = this.#componentFor(components, recorded, events);
    const accumulators = new Map<string, ProfileAccumulator>();
    for (const owner of owners) {
      const into = final(owner.id);
      foldProfile(this.#ctx, accumulators, into, owner);
      if (into !== owner.id) this.#merged.set(owner.id, into);
    }
    this.#applyRecorded(recorded, final, accumulators, (seq) => seq >= 0);
    for (const { outcome } of recorded)
      for (const m of outcome.merges)
        if (!this.#merged.has(m.mergedId)) this.#merged.set(m.mergedId, final(m.survivorId));
    this.#writeLiveProfiles(graph, accumulators, componentId, new Map(owners.map((o) => [o.id, o])));
    // Identifiers seen in the batch that no profile owns (demoted everywhere).
    for (const p of events)
      for (const [i, key] of p.keys.entries()) {
        if (this.#identifiers.has(key) || graph.ownerOf(p.identifiers[i] as Identifier) !== undefined)
          continue;
        const identifier = p.identifiers[i] as Identifier;
        const previous = stored.get(key);
        this.#identifiers.set(key, {
          key,
          ...identifier,
          profileId: null,
          componentId,
          linkedBy: previous?.linkedBy ?? null,
        });
      }
    const last = [...components.map((c) => c.last), ...events.map((p) => p.position)]
      .sort(compareCanonical)
      .at(-1);
    this.#components.push({
      id: componentId,
      last: last as CanonicalPosition,
      events: components.reduce((n, c) => n + c.events, 0) + events.length,
      demotions:
        components.reduce((n, c) => n + c.demotions, 0) +
        recorded.filter((r) => r.outcome.demoted.length > 0).length,
      stale: approximate || components.some((c) => c.stale),
    });
  }

  reresolvedGroup(input: {
    graph: IdentityGraph;
    recorded: readonly Recorded[];
    batchSeqs: ReadonlySet<number>;
    components: readonly StoredComponent[];
    previousIdentifiers: readonly StoredIdentifier[];
    previousProfiles: readonly StoredProfile[];
  }): void {
    const { graph, recorded } = input;
    const final = (id: string): string => graph.resolveProfileId(id) ?? id;
    const componentId = this.#componentFor(
      input.components,
      recorded,
      recorded.map((r) => r.prepared),
    );
    const accumulators = new Map<string, ProfileAccumulator>();
    this.#applyRecorded(recorded, final, accumulators, (seq) => input.batchSeqs.has(seq));
    for (const { outcome } of recorded)
      for (const m of outcome.merges) this.#merged.set(m.mergedId, final(m.survivorId));
    this.#clearDemotions.push(...recorded.map((r) => r.prepared.ref.seq));
    this.#writeLiveProfiles(
      graph,
      accumulators,
      componentId,
      new Map(input.previousProfiles.map((p) => [p.id, p])),
    );
    // Previous profiles that are no longer live: they resolve to where most of their identifiers went.
    const live = new Set(graph.allProfiles().map((p) => p.id));
    const byProfile = new Map<string, StoredIdentifier[]>();
    for (const row of input.previousIdentifiers) {
      if (row.profileId === null) continue;
      const list = byProfile.get(row.profileId) ?? [];
      list.push(row);
      byProfile.set(row.profileId, list);
    }
    for (const previous of input.previousProfiles) {
      if (live.has(previous.id)) continue;
      const votes = new Map<string, number>();
      for (const row of byProfile.get(previous.id) ?? []) {
        const owner = graph.ownerOf({ type: row.type, value: row.value });
        if (owner !== undefined) votes.set(owner, (votes.get(owner) ?? 0) + 1);
      }
      const [best] = [...votes].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
      if (best === undefined) this.#deleted.push(previous.id);
      else this.#merged.set(previous.id, best[0]);
    }
    this.#resetGroups.push(...input.previousProfiles.map((p) => p.id));
    this.#reresolvedProfiles.push(...input.previousProfiles.map((p) => p.id));
    for (const row of input.previousIdentifiers)
      if (!this.#identifiers.has(row.key))
        this.#identifiers.set(row.key, { ...row, profileId: null, componentId });
    for (const { prepared } of recorded)
      for (const [i, key] of prepared.keys.entries())
        if (!this.#identifiers.has(key))
          this.#identifiers.set(key, {
            key,
            ...(prepared.identifiers[i] as Identifier),
            profileId: null,
            componentId,
            linkedBy: null,
          });
    const unassigned = recorded.filter(
      (r) => r.outcome.profileId === null && !input.batchSeqs.has(r.prepared.ref.seq),
    );
    this.#unassigned.push(...unassigned.map((r) => r.prepared.ref.seq));
    const last = recorded
      .map((r) => r.prepared.position)
      .sort(compareCanonical)
      .at(-1);
    // No event reaches the component any more (an identifier relinked after the unlink that
    // left its events without a profile): the stored row stays as it is.
    if (last === undefined) return;
    this.#components.push({
      id: componentId,
      last,
      events: recorded.length,
      demotions: recorded.filter((r) => r.outcome.demoted.length > 0).length,
      stale: false,
    });
  }

  /** The component that absorbs the others: the largest stored one, or a new id. */
  #componentFor(
    components: readonly StoredComponent[],
    _recorded: readonly Recorded[],
    _events: readonly Prepared[],
  ): string {
    const [largest, ...others] = [...components].sort(
      (a, b) => b.events - a.events || (a.id < b.id ? -1 : 1),
    );
    const id = largest?.id ?? generateId('cmp');
    for (const other of others) this.#absorbed.push({ id: other.id, into: id });
    return id;
  }

  #applyRecorded(
    recorded: readonly Recorded[],
    final: (id: string) => string,
    accumulators: Map<string, ProfileAccumulator>,
    isNew: (seq: number) => boolean,
  ): void {
    for (const { prepared, outcome } of recorded) {
      const { event, ref } = prepared;
      const fresh = isNew(ref.seq);
      for (const m of outcome.merges)
        this.#merges.push({ survivorId: m.survivorId, mergedId: m.mergedId, event: m.causedBy });
      const profileId = outcome.profileId === null ? null : final(outcome.profileId);
      if (fresh) this.#recordRejections(prepared, profileId);
      const position = prepared.rejected.length;
      for (const [i, d] of outcome.demoted.entries())
        this.#decisions.push({
          seq: ref.seq,
          position: 1000 + position + i,
          kind: 'demoted',
          type: d.identifier.type,
          value: d.identifier.value,
          reason: IDENTITY_REASONS.limitExceeded,
          limitType: d.limitType,
          profileId,
        });
      if (profileId === null) continue;
      this.#assignments.push({
        seq: ref.seq,
        profileId,
        tsMs: ref.timestampMs,
        type: event.type,
        event: event.event,
      });
      const acc = accumulatorOf(accumulators, profileId);
      acc.eventCount += 1;
      acc.firstSeenMs = Math.min(acc.firstSeenMs, ref.timestampMs);
      acc.lastSeenMs = Math.max(acc.lastSeenMs, ref.timestampMs);
      if (event.type === 'identify') {
        const { observations, dropped } = observeTraits(event);
        for (const o of observations) {
          applyObservation(this.#ctx.profiles, acc.traits, o);
          this.#observations.push({ profileId, ...o });
        }
        if (fresh) this.#recordDroppedTraits(ref.seq, dropped, profileId);
      }
      if (event.type === 'group') {
        const groupId = Object.hasOwn(event.message, 'groupId') ? event.message['groupId'] : undefined;
        if (typeof groupId === 'string' || typeof groupId === 'number') {
          const accountId = accountIdFor(String(groupId));
          this.#memberships.push({ profileId, accountId, seq: ref.seq, tsMs: ref.timestampMs });
          if (fresh) {
            const list = this.#accountEvents.get(accountId) ?? [];
            list.push(event);
            this.#accountEvents.set(accountId, list);
          }
        }
      }
    }
  }

  #writeLiveProfiles(
    graph: IdentityGraph,
    accumulators: ReadonlyMap<string, ProfileAccumulator>,
    componentId: string,
    previous: ReadonlyMap<string, StoredProfile>,
  ): void {
    for (const node of graph.allProfiles()) {
      const acc = accumulators.get(node.id);
      const before = previous.get(node.id);
      this.#profiles.set(node.id, {
        id: node.id,
        kind: 'person',
        createdBy: node.createdBy,
        createdAt: node.createdAt,
        firstSeenMs: acc?.firstSeenMs ?? before?.firstSeenMs ?? node.createdBy.timestampMs,
        lastSeenMs: acc?.lastSeenMs ?? before?.lastSeenMs ?? node.createdBy.timestampMs,
        eventCount: acc?.eventCount ?? before?.eventCount ?? 0,
        traits: acc?.traits ?? before?.traits ?? emptyTraits(),
        mergedInto: null,
        updatedMs: this.#ctx.nowMs,
      });
      for (const linked of node.identifiers.values()) {
        const key = storedIdentifierKey(linked.identifier);
        this.#identifiers.set(key, {
          key,
          ...linked.identifier,
          profileId: node.id,
          componentId,
          linkedBy: linked.linkedBy,
        });
      }
    }
  }

  #recordRejections(p: Prepared, profileId: string | null): void {
    for (const [position, r] of p.rejected.entries())
      this.#decisions.push({
        seq: p.ref.seq,
        position,
        kind: 'rejected',
        type: r.type,
        value: r.value,
        reason: r.reason,
        limitType: null,
        profileId,
      });
  }

  #recordDroppedTraits(
    seq: number,
    dropped: readonly { trait: string; reason: string }[],
    profileId: string,
  ): void {
    for (const [i, d] of dropped.entries())
      this.#decisions.push({
        seq,
        position: 2000 + i,
        kind: 'trait_dropped',
        type: 'trait',
        value: d.trait,
        reason: d.reason,
        limitType: null,
        profileId,
      });
  }

  /** Account profiles: traits from `group` calls, folded into the stored account. */
  async loadAccounts(reader: ProfileStateReader): Promise<void> {
    if (this.#accountEvents.size === 0) return;
    const existing = new Map((await reader.profiles([...this.#accountEvents.keys()])).map((p) => [p.id, p]));
    for (const [accountId, events] of this.#accountEvents) {
      const before = existing.get(accountId);
      const traits = emptyTraits();
      if (before !== undefined) mergeTraits(this.#ctx.profiles, traits, before.traits);
      const [first] = events;
      if (first === undefined) continue;
      let firstSeen = before?.firstSeenMs ?? first.timestampMs;
      let lastSeen = before?.lastSeenMs ?? first.timestampMs;
      for (const event of events) {
        firstSeen = Math.min(firstSeen, event.timestampMs);
        lastSeen = Math.max(lastSeen, event.timestampMs);
        const { observations, dropped } = observeTraits(event);
        for (const o of observations) {
          applyObservation(this.#ctx.profiles, traits, o);
          this.#observations.push({ profileId: accountId, ...o });
        }
        if (dropped.length > 0) this.#recordDroppedTraits(event.seq, dropped, accountId);
      }
      const ref: EventRef = { seq: first.seq, messageId: first.messageId, timestampMs: first.timestampMs };
      this.#profiles.set(accountId, {
        id: accountId,
        kind: 'account',
        createdBy: before?.createdBy ?? ref,
        createdAt: before?.createdAt ?? {
          timestampMs: first.timestampMs,
          messageId: first.messageId,
          contentKey: '',
        },
        firstSeenMs: firstSeen,
        lastSeenMs: lastSeen,
        eventCount: (before?.eventCount ?? 0) + events.length,
        traits,
        mergedInto: null,
        updatedMs: this.#ctx.nowMs,
      });
    }
  }

  build(): ProfileChanges {
    const liveIds = new Set([...this.#profiles.keys()]);
    return {
      workspaceId: this.#workspaceId,
      absorbedComponents: this.#absorbed,
      components: this.#components,
      identifiers: [...this.#identifiers.values()].filter((row) => {
        const before = this.#asStored.get(row.key);
        return before === undefined || !sameIdentifierRow(before, row);
      }),
      profiles: [...this.#profiles.values()],
      mergedProfiles: [...this.#merged]
        .filter(([id, into]) => id !== into && !liveIds.has(id))
        .map(([id, into]) => ({ id, into })),
      deletedProfiles: this.#deleted,
      assignments: this.#assignments,
      unassignedSeqs: this.#unassigned,
      merges: this.#merges,
      clearDemotionsForSeqs: this.#clearDemotions,
      reresolvedProfiles: this.#reresolvedProfiles,
      decisions: this.#decisions,
      traitObservations: this.#observations,
      resetGroupsOf: this.#resetGroups,
      groupMemberships: this.#memberships,
    };
  }
}

function accumulatorOf(accumulators: Map<string, ProfileAccumulator>, id: string): ProfileAccumulator {
  let acc = accumulators.get(id);
  if (acc === undefined) {
    acc = { firstSeenMs: Infinity, lastSeenMs: -Infinity, eventCount: 0, traits: emptyTraits() };
    accumulators.set(id, acc);
  }
  return acc;
}

function foldProfile(
  ctx: ResolveContext,
  accumulators: Map<string, ProfileAccumulator>,
  into: string,
  profile: StoredProfile,
): void {
  const acc = accumulatorOf(accumulators, into);
  acc.eventCount += profile.eventCount;
  acc.firstSeenMs = Math.min(acc.firstSeenMs, profile.firstSeenMs);
  acc.lastSeenMs = Math.max(acc.lastSeenMs, profile.lastSeenMs);
  mergeTraits(ctx.profiles, acc.traits, profile.traits);
}

function sameIdentifierRow(a: StoredIdentifier, b: StoredIdentifier): boolean {
  return (
    a.profileId === b.profileId &&
    a.componentId === b.componentId &&
    a.linkedBy?.seq === b.linkedBy?.seq &&
    a.linkedBy?.messageId === b.linkedBy?.messageId &&
    a.linkedBy?.timestampMs === b.linkedBy?.timestampMs
  );
}
