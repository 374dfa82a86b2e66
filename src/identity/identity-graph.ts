/**
 * The in-memory identity graph: profiles, the identifiers each owns, the merged ids that point to
 * their survivor. `link` applies one event's identifiers with Segment's flat matching and
 * demotion rules. It holds only local state: the reference resolver builds one per call.
 */
import { compareCanonical, type CanonicalPosition } from './canonical-order.ts';
import { compareStrings, identifierKey, type Identifier } from './identifier-types.ts';
import { limitFor, priorityRank, type IdentitySettings } from './identity-settings.ts';
import { profileIdFor } from './profile-id.ts';

/** Which event did something: kept with every link, merge and decision. */
export interface EventRef {
  readonly seq: number;
  readonly messageId: string;
  readonly timestampMs: number;
}

export interface LinkedIdentifier {
  readonly identifier: Identifier;
  /** The event that first linked it to a profile: its timestamp is what windowed limits count. */
  readonly linkedBy: EventRef;
}

export interface ProfileNode {
  readonly id: string;
  readonly createdBy: EventRef;
  readonly createdAt: CanonicalPosition;
  readonly identifiers: Map<string, LinkedIdentifier>;
  readonly mergedIds: string[];
}

export interface Merge {
  readonly survivorId: string;
  readonly mergedId: string;
  readonly causedBy: EventRef;
}

export interface Demotion {
  readonly identifier: Identifier;
  /** The type whose limit would have been exceeded. */
  readonly limitType: string;
}

export interface LinkOutcome {
  /** The profile the event belongs to, or null if it carried no linkable identifier. */
  readonly profileId: string | null;
  readonly created: boolean;
  readonly linked: readonly Identifier[];
  readonly merges: readonly Merge[];
  readonly demoted: readonly Demotion[];
}

/** Event order for link provenance: timestamp, then messageId, then log position. */
export function compareRefs(a: EventRef, b: EventRef): number {
  if (a.timestampMs !== b.timestampMs) return a.timestampMs < b.timestampMs ? -1 : 1;
  return compareStrings(a.messageId, b.messageId) || a.seq - b.seq;
}

export interface IdentityGraphOptions {
  /**
   * The id of a profile this event creates, instead of the one derived from it; undefined keeps
   * the derived id. Re-resolving after an unmerge uses it: the identifier the id was derived
   * from may now be unlinked, yet the profile the event created must keep its known id.
   */
  readonly idFor?: (event: EventRef) => string | undefined;
}

export class IdentityGraph {
  private readonly profiles = new Map<string, ProfileNode>();
  private readonly owners = new Map<string, string>();
  private readonly redirects = new Map<string, string>();

  constructor(
    private readonly settings: IdentitySettings,
    private readonly options: IdentityGraphOptions = {},
  ) {}

  /** The survivor a (possibly merged) profile id now resolves to; undefined if never existed. */
  resolveProfileId(id: string): string | undefined {
    let current = id;
    for (let next = this.redirects.get(current); next !== undefined; next = this.redirects.get(current)) {
      current = next;
    }
    return this.profiles.has(current) ? current : undefined;
  }

  /**
   * Seeds the graph with a persisted profile, so the incremental resolver can continue from
   * stored state: only the profiles an event can reach need to be loaded.
   */
  restore(profile: {
    readonly id: string;
    readonly createdBy: EventRef;
    readonly createdAt: CanonicalPosition;
    readonly identifiers: readonly LinkedIdentifier[];
  }): void {
    if (this.profiles.has(profile.id)) return;
    const node: ProfileNode = {
      id: profile.id,
      createdBy: profile.createdBy,
      createdAt: profile.createdAt,
      identifiers: new Map(),
      mergedIds: [],
    };
    for (const linked of profile.identifiers) {
      const key = identifierKey(linked.identifier);
      node.identifiers.set(key, linked);
      this.owners.set(key, node.id);
    }
    this.profiles.set(node.id, node);
  }

  /**
   * True if linking these identifiers together with every profile they reach keeps each type
   * within its limit. When it holds for a late event in a component that never reached a limit,
   * no event of the component was ever demoted and none would be in canonical order either, so
   * the clusters are plain unions and `linkLate` gives the reference's answer.
   */
  unionWithinLimits(identifiers: readonly Identifier[]): boolean {
    const matched = this.matchedProfiles(identifiers);
    for (const type of this.typesInvolved(matched, identifiers)) {
      const limit = limitFor(this.settings, type);
      if (limit.windowMs !== undefined) return false;
      const values = new Set<string>();
      for (const profile of matched)
        for (const linked of profile.identifiers.values())
          if (linked.identifier.type === type) values.add(linked.identifier.value);
      for (const identifier of identifiers) if (identifier.type === type) values.add(identifier.value);
      if (values.size > limit.max) return false;
    }
    return true;
  }

  /**
   * Links an event that arrives after later events of the same profiles (a late event), when
   * `unionWithinLimits` holds: the result is the union; the survivor is the profile created by the
   * canonically first event, which is this one if it predates them all (the older ids then
   * resolve to it); each identifier keeps the earliest event that linked it.
   */
  linkLate(event: EventRef, position: CanonicalPosition, identifiers: readonly Identifier[]): LinkOutcome {
    const candidates = this.byPriority(identifiers);
    const [first] = candidates;
    if (first === undefined) return { profileId: null, created: false, linked: [], merges: [], demoted: [] };
    const matched = this.matchedProfiles(candidates);
    const oldest = matched.length === 0 ? undefined : this.oldest(matched);
    const created = oldest === undefined || compareCanonical(position, oldest.createdAt) < 0;
    const survivor = created ? this.createProfile(event, position, first) : oldest;
    const merges = matched.filter((p) => p !== survivor).map((p) => this.merge(survivor, p, event));
    const linked: Identifier[] = [];
    for (const identifier of candidates) {
      if (this.attach(survivor, identifier, event)) {
        linked.push(identifier);
        continue;
      }
      const key = identifierKey(identifier);
      const current = survivor.identifiers.get(key);
      if (current !== undefined && compareRefs(event, current.linkedBy) < 0)
        survivor.identifiers.set(key, { identifier, linkedBy: event });
    }
    return { profileId: survivor.id, created, linked, merges, demoted: [] };
  }

  ownerOf(identifier: Identifier): string | undefined {
    return this.owners.get(identifierKey(identifier));
  }

  profile(id: string): ProfileNode | undefined {
    const resolved = this.resolveProfileId(id);
    return resolved === undefined ? undefined : this.profiles.get(resolved);
  }

  allProfiles(): readonly ProfileNode[] {
    return [...this.profiles.values()];
  }

  /**
   * Links one event's identifiers: events must arrive in canonical order. While the link would
   * push the resulting profile over a limit, the event's lowest-priority identifier is demoted
   * (not linked) and the match is tried again, as Segment does.
   */
  link(event: EventRef, position: CanonicalPosition, identifiers: readonly Identifier[]): LinkOutcome {
    const candidates = this.byPriority(identifiers);
    const demoted: Demotion[] = [];
    let matched = this.matchedProfiles(candidates);
    for (let over = this.exceededType(matched, candidates, event); over !== undefined;) {
      const identifier = this.demote(candidates, over);
      if (identifier === undefined) break;
      demoted.push({ identifier, limitType: over });
      matched = this.matchedProfiles(candidates);
      over = this.exceededType(matched, candidates, event);
    }
    const [first] = candidates;
    if (first === undefined) return { profileId: null, created: false, linked: [], merges: [], demoted };
    const created = matched.length === 0;
    const survivor = created ? this.createProfile(event, position, first) : this.oldest(matched);
    const merges = matched.filter((p) => p !== survivor).map((p) => this.merge(survivor, p, event));
    const linked = candidates.filter((identifier) => this.attach(survivor, identifier, event));
    return { profileId: survivor.id, created, linked, merges, demoted };
  }

  /** Highest priority first; within a type by value, so demotion order never depends on input order. */
  private byPriority(identifiers: readonly Identifier[]): Identifier[] {
    const rank = (i: Identifier): number => priorityRank(this.settings, i.type);
    return [...identifiers].sort((a, b) => rank(a) - rank(b) || compareStrings(a.value, b.value));
  }

  /**
   * Removes the lowest-priority candidate that takes part in the conflict: one that brings a
   * profile into the merge, or a new value of the exceeded type. A new identifier of another type
   * cannot cause the excess; demoting it (as a literal reading of Segment's rule would) only
   * loses a correct link, e.g. the new device of a person who typed a shared e-mail.
   */
  private demote(candidates: Identifier[], exceeded: string): Identifier | undefined {
    for (let i = candidates.length - 1; i >= 0; i -= 1) {
      const candidate = candidates[i];
      if (candidate === undefined) continue;
      if (candidate.type === exceeded || this.owners.has(identifierKey(candidate))) {
        candidates.splice(i, 1);
        return candidate;
      }
    }
    return candidates.pop();
  }

  private matchedProfiles(candidates: readonly Identifier[]): ProfileNode[] {
    const matched = new Map<string, ProfileNode>();
    for (const identifier of candidates) {
      const owner = this.owners.get(identifierKey(identifier));
      const profile = owner === undefined ? undefined : this.profiles.get(owner);
      if (profile !== undefined) matched.set(profile.id, profile);
    }
    return [...matched.values()];
  }

  /**
   * The first type (in priority order) whose limit the merged profile would exceed. A profile
   * already over a limit (the limit was lowered later) is not punished: only growth counts.
   */
  private exceededType(matched: readonly ProfileNode[], candidates: readonly Identifier[], event: EventRef) {
    for (const type of this.typesInvolved(matched, candidates)) {
      const limit = limitFor(this.settings, type);
      const since = limit.windowMs === undefined ? -Infinity : event.timestampMs - limit.windowMs;
      const union = new Set<string>();
      let largestAlone = 0;
      for (const profile of matched) {
        let alone = 0;
        for (const linked of profile.identifiers.values()) {
          if (linked.identifier.type !== type || linked.linkedBy.timestampMs < since) continue;
          union.add(linked.identifier.value);
          alone += 1;
        }
        largestAlone = Math.max(largestAlone, alone);
      }
      // An owned candidate is already counted above (or linked before the window): only new ones.
      for (const c of candidates)
        if (c.type === type && !this.owners.has(identifierKey(c))) union.add(c.value);
      if (union.size > limit.max && union.size > largestAlone) return type;
    }
    return undefined;
  }

  private typesInvolved(matched: readonly ProfileNode[], candidates: readonly Identifier[]): string[] {
    const types = new Set(candidates.map((c) => c.type));
    for (const profile of matched)
      for (const linked of profile.identifiers.values()) types.add(linked.identifier.type);
    return [...types].sort((a, b) => priorityRank(this.settings, a) - priorityRank(this.settings, b));
  }

  /** The survivor of a merge is the oldest profile: its id is the one people already know. */
  private oldest(profiles: readonly ProfileNode[]): ProfileNode {
    const sorted = [...profiles].sort(
      (a, b) => compareCanonical(a.createdAt, b.createdAt) || compareStrings(a.id, b.id),
    );
    const [oldest] = sorted;
    if (oldest === undefined) throw new Error('oldest() needs at least one profile');
    return oldest;
  }

  private createProfile(event: EventRef, position: CanonicalPosition, first: Identifier): ProfileNode {
    const chosen = this.options.idFor?.(event);
    const taken = chosen !== undefined && (this.profiles.has(chosen) || this.redirects.has(chosen));
    const profile: ProfileNode = {
      id: chosen !== undefined && !taken ? chosen : profileIdFor(event.messageId, first),
      createdBy: event,
      createdAt: position,
      identifiers: new Map(),
      mergedIds: [],
    };
    this.profiles.set(profile.id, profile);
    return profile;
  }

  private merge(survivor: ProfileNode, merged: ProfileNode, event: EventRef): Merge {
    for (const [key, linked] of merged.identifiers) {
      survivor.identifiers.set(key, linked);
      this.owners.set(key, survivor.id);
    }
    survivor.mergedIds.push(merged.id, ...merged.mergedIds);
    this.profiles.delete(merged.id);
    this.redirects.set(merged.id, survivor.id);
    return { survivorId: survivor.id, mergedId: merged.id, causedBy: event };
  }

  /** True if the identifier was new to the profile. */
  private attach(profile: ProfileNode, identifier: Identifier, event: EventRef): boolean {
    const key = identifierKey(identifier);
    if (profile.identifiers.has(key)) return false;
    profile.identifiers.set(key, { identifier, linkedBy: event });
    this.owners.set(key, profile.id);
    return true;
  }
}
