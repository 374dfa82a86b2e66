/**
 * The incremental, persisted identity resolver: applies a batch of log entries to the stored
 * graph and profiles and returns the changes to write. It must agree with the reference
 * resolver (`identity/reference-resolver.ts`) whatever the arrival order:
 *
 * - An event later (in canonical order) than every event already applied to the components it
 *   touches is linked incrementally, exactly as the reference would.
 * - A late event in components that never reached a limit is linked by union (`linkLate`): with
 *   no demotion anywhere, clusters are unions whatever the order, and the survivor is the profile
 *   of the canonically first event.
 * - Any other late event re-resolves its whole component (every identifier that ever co-occurred
 *   with it, linked or demoted) from the log, in canonical order: order mattered there.
 *
 * Traits and counters are order-independent folds (see trait-values.ts), computed at the end
 * from the stored state and the batch, or from all events of a re-resolved component.
 */
import type { BlockedValues } from '../identity/blocked-values.ts';
import { compareCanonical, type CanonicalPosition } from '../identity/canonical-order.ts';
import { extractIdentifiers, type RejectedIdentifier } from '../identity/extract-identifiers.ts';
import { compareIdentifiers, storedIdentifierKey, type Identifier } from '../identity/identifier-types.ts';
import { IdentityGraph, type EventRef, type LinkOutcome } from '../identity/identity-graph.ts';
import { IDENTITY_REASONS } from '../identity/identity-reasons.ts';
import type { IdentitySettings } from '../identity/identity-settings.ts';
import type { StoredEvent } from '../ingestion/message-types.ts';
import type { ProfileSettings } from './profile-settings.ts';
import type {
  ProfileChanges,
  ProfileStateReader,
  StoredComponent,
  StoredIdentifier,
  StoredProfile,
} from './profile-state.port.ts';
import { ChangeBuilder, type Prepared, type Recorded } from './profile-change-builder.ts';

export interface ResolveContext {
  readonly identity: IdentitySettings;
  readonly blocked: BlockedValues;
  readonly profiles: ProfileSettings;
  readonly unlinked: ReadonlySet<string>;
  readonly nowMs: number;
  /**
   * A late event needing a re-resolution of a component with more events than this is linked
   * in arrival order instead, and the component marked stale for a deferred re-resolution: a
   * shared kiosk id must not make every late event re-read thousands of events.
   */
  readonly maxInlineReresolveEvents?: number;
}

export const DEFAULT_MAX_INLINE_RERESOLVE_EVENTS = 5_000;

export { ACCOUNT_ID_PREFIX, accountIdFor } from './account-id.ts';

/** See ProfileBatchChange.reassignedProfiles: only re-resolution moves events between profiles. */
export function reassignedProfilesOf(changes: ProfileChanges): string[] {
  if (changes.resetGroupsOf.length === 0) return [];
  return [
    ...new Set([...changes.resetGroupsOf, ...changes.profiles.map((p) => p.id), ...changes.deletedProfiles]),
  ];
}

/** Extracts identifiers and sorts into canonical order (the reference's order). */
export function prepareEvents(events: readonly StoredEvent[], ctx: ResolveContext): Prepared[] {
  const prepared: Prepared[] = [];
  for (const event of events) {
    const extracted = extractIdentifiers(event, ctx.identity, ctx.blocked);
    const identifiers: Identifier[] = [];
    const rejected: RejectedIdentifier[] = [...extracted.rejected];
    for (const identifier of extracted.identifiers) {
      if (ctx.unlinked.has(storedIdentifierKey(identifier)))
        rejected.push({
          ...identifier,
          value: identifier.value.slice(0, 64),
          reason: IDENTITY_REASONS.unlinked,
        });
      else identifiers.push(identifier);
    }
    // The same content key as the reference resolver's, so ties sort the same way.
    const sortedKeys = [...identifiers].sort(compareIdentifiers).map(storedIdentifierKey);
    prepared.push({
      event,
      ref: { seq: event.seq, messageId: event.messageId, timestampMs: event.timestampMs },
      position: {
        timestampMs: event.timestampMs,
        messageId: event.messageId,
        contentKey: sortedKeys.join('\u0001'),
      },
      identifiers,
      keys: identifiers.map(storedIdentifierKey),
      rejected,
    });
  }
  return prepared.sort((a, b) => compareCanonical(a.position, b.position) || a.ref.seq - b.ref.seq);
}

/** Union-find over string nodes. */
class Partition {
  readonly #parent = new Map<string, string>();
  find(node: string): string {
    let root = node;
    for (let up = this.#parent.get(root); up !== undefined && up !== root; up = this.#parent.get(root))
      root = up;
    this.#parent.set(node, root);
    return root;
  }
  union(a: string, b: string): string {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.#parent.set(rb, ra);
    return ra;
  }
}

export async function resolveBatch(
  reader: ProfileStateReader,
  ctx: ResolveContext,
  workspaceId: string,
  entries: readonly StoredEvent[],
): Promise<ProfileChanges> {
  const done = await reader.assignedSeqs(entries.map((e) => e.seq));
  const fresh = entries.filter((e) => !done.has(e.seq));
  const builder = new ChangeBuilder(workspaceId, ctx);
  if (fresh.length === 0) return builder.build();
  const prepared = prepareEvents(fresh, ctx);
  const stored = new Map<string, StoredIdentifier>();
  for (const row of await reader.identifiersByKey([...new Set(prepared.flatMap((p) => p.keys))]))
    stored.set(row.key, row);
  builder.knownAsStored(stored.values());

  // Groups: events connected through identifiers or stored components. Each is independent.
  const partition = new Partition();
  const nodeOf = (key: string): string => {
    const row = stored.get(key);
    return row === undefined ? `k:${key}` : `c:${row.componentId}`;
  };
  for (const p of prepared) {
    const [first, ...rest] = p.keys;
    if (first === undefined) continue;
    for (const key of rest) partition.union(nodeOf(first), nodeOf(key));
    partition.find(nodeOf(first));
  }
  const groups = new Map<string, Prepared[]>();
  for (const p of prepared) {
    const [first] = p.keys;
    if (first === undefined) {
      builder.unlinkedEvent(p);
      continue;
    }
    const root = partition.find(nodeOf(first));
    const list = groups.get(root) ?? [];
    list.push(p);
    groups.set(root, list);
  }

  const componentIds = [...new Set([...stored.values()].map((row) => row.componentId))];
  const components = new Map((await reader.components(componentIds)).map((c) => [c.id, c]));
  const ownerIds = [
    ...new Set([...stored.values()].flatMap((row) => (row.profileId === null ? [] : [row.profileId]))),
  ];
  const owners = new Map((await reader.profiles(ownerIds)).map((p) => [p.id, p]));
  const ownerIdentifiers = new Map<string, StoredIdentifier[]>();
  const ownerRows = await reader.identifiersOfProfiles(ownerIds);
  builder.knownAsStored(ownerRows);
  for (const row of ownerRows) {
    if (row.profileId === null) continue;
    const list = ownerIdentifiers.get(row.profileId) ?? [];
    list.push(row);
    ownerIdentifiers.set(row.profileId, list);
  }

  for (const events of groups.values()) {
    const groupComponents = [
      ...new Set(events.flatMap((p) => p.keys.flatMap((k) => stored.get(k)?.componentId ?? []))),
    ].flatMap((id) => components.get(id) ?? []);
    const groupOwners = [
      ...new Set(events.flatMap((p) => p.keys.flatMap((k) => stored.get(k)?.profileId ?? []))),
    ].flatMap((id) => owners.get(id) ?? []);
    const size = groupComponents.reduce((n, c) => n + c.events, 0);
    const incremental = linkIncrementally(
      ctx,
      events,
      stored,
      groupComponents,
      groupOwners,
      ownerIdentifiers,
      size > (ctx.maxInlineReresolveEvents ?? DEFAULT_MAX_INLINE_RERESOLVE_EVENTS),
    );
    if (incremental !== undefined) {
      builder.incrementalGroup(
        events,
        incremental.graph,
        incremental.recorded,
        groupComponents,
        groupOwners,
        stored,
        incremental.approximate,
      );
    } else {
      await reresolveGroup(reader, ctx, builder, events, groupComponents);
    }
  }
  await builder.loadAccounts(reader);
  return builder.build();
}

/**
 * Re-resolves whole components from the log (after an unlink, or to repair): the same code
 * path a late event takes.
 */
export async function reresolveComponents(
  reader: ProfileStateReader,
  ctx: ResolveContext,
  workspaceId: string,
  componentIds: readonly string[],
): Promise<ProfileChanges> {
  const builder = new ChangeBuilder(workspaceId, ctx);
  const components = await reader.components(componentIds);
  if (components.length > 0) await reresolveGroup(reader, ctx, builder, [], components);
  return builder.build();
}

/**
 * Returns undefined when some late event needs a re-resolution of the group, unless `defer`
 * (the group is large): then such events are linked in arrival order and `approximate` is set.
 */
function linkIncrementally(
  ctx: ResolveContext,
  events: readonly Prepared[],
  stored: ReadonlyMap<string, StoredIdentifier>,
  components: readonly StoredComponent[],
  owners: readonly StoredProfile[],
  ownerIdentifiers: ReadonlyMap<string, StoredIdentifier[]>,
  defer: boolean,
): { graph: IdentityGraph; recorded: Recorded[]; approximate: boolean } | undefined {
  let approximate = false;
  const graph = new IdentityGraph(ctx.identity);
  for (const owner of owners) {
    graph.restore({
      id: owner.id,
      createdBy: owner.createdBy,
      createdAt: owner.createdAt,
      identifiers: (ownerIdentifiers.get(owner.id) ?? []).map((row) => ({
        identifier: { type: row.type, value: row.value },
        linkedBy: row.linkedBy ?? owner.createdBy,
      })),
    });
  }
  // Per stored component: the latest applied position and whether a limit was ever reached,
  // merged as this batch's events join components.
  const partition = new Partition();
  const last = new Map<string, CanonicalPosition>();
  const demoted = new Set<string>();
  for (const c of components) {
    last.set(`c:${c.id}`, c.last);
    if (c.demotions > 0) demoted.add(`c:${c.id}`);
  }
  const recorded: Recorded[] = [];
  for (const p of events) {
    const nodes = p.keys.map((key) => {
      const row = stored.get(key);
      return row === undefined ? `k:${key}` : `c:${row.componentId}`;
    });
    let latest: CanonicalPosition | undefined;
    let anyDemotion = false;
    for (const node of new Set(nodes.map((n) => partition.find(n)))) {
      const position = last.get(node);
      if (position !== undefined && (latest === undefined || compareCanonical(position, latest) > 0))
        latest = position;
      if (demoted.has(node)) anyDemotion = true;
    }
    const late = latest !== undefined && compareCanonical(p.position, latest) < 0;
    let outcome: LinkOutcome;
    if (!late) outcome = graph.link(p.ref, p.position, p.identifiers);
    else if (!anyDemotion && graph.unionWithinLimits(p.identifiers))
      outcome = graph.linkLate(p.ref, p.position, p.identifiers);
    else if (defer) {
      outcome = graph.link(p.ref, p.position, p.identifiers);
      approximate = true;
    } else return undefined;
    const [first, ...rest] = nodes;
    if (first !== undefined) {
      let root = partition.find(first);
      for (const node of rest) {
        const other = partition.find(node);
        if (other === root) continue;
        const merged = partition.union(root, other);
        const positions = [last.get(root), last.get(other)].filter((x) => x !== undefined);
        const max = positions.sort(compareCanonical).at(-1);
        if (max !== undefined) last.set(merged, max);
        if (demoted.has(root) || demoted.has(other)) demoted.add(merged);
        root = merged;
      }
      if (outcome.demoted.length > 0) demoted.add(root);
    }
    recorded.push({ prepared: p, outcome });
  }
  return { graph, recorded, approximate };
}

async function reresolveGroup(
  reader: ProfileStateReader,
  ctx: ResolveContext,
  builder: ChangeBuilder,
  batchEvents: readonly Prepared[],
  components: readonly StoredComponent[],
): Promise<void> {
  const componentIds = components.map((c) => c.id);
  const identifiers = await reader.identifiersOfComponents(componentIds);
  builder.knownAsStored(identifiers);
  const oldProfiles = [
    ...new Set(identifiers.flatMap((row) => (row.profileId === null ? [] : [row.profileId]))),
  ];
  const seqs = await reader.eventSeqsOfProfiles(oldProfiles);
  const storedEvents = await reader.readEvents(seqs);
  const batchSeqs = new Set(batchEvents.map((p) => p.ref.seq));
  const all = prepareEvents(
    storedEvents.filter((e) => !batchSeqs.has(e.seq)),
    ctx,
  );
  const everything = [...all, ...batchEvents].sort(
    (a, b) => compareCanonical(a.position, b.position) || a.ref.seq - b.ref.seq,
  );
  const previous = await reader.profiles(oldProfiles);
  const graph = new IdentityGraph(ctx.identity, { idFor: keptIds(previous, everything) });
  const recorded: Recorded[] = everything.map((p) => ({
    prepared: p,
    outcome: graph.link(p.ref, p.position, p.identifiers),
  }));
  builder.reresolvedGroup({
    graph,
    recorded,
    batchSeqs,
    components,
    previousIdentifiers: identifiers,
    previousProfiles: previous,
  });
}

/**
 * A profile keeps its id through a split when the event that created it creates a profile
 * again: "the surviving id is the oldest" must hold after an unmerge too, so the side holding
 * the creating event stays the profile people know. Derived ids change only when that event
 * lost an identifier to an unlink (the id may have been derived from it); without unlinks the
 * derived ids are already the reference resolver's, which this must not second-guess.
 */
function keptIds(
  previous: readonly StoredProfile[],
  events: readonly Prepared[],
): (event: EventRef) => string | undefined {
  const creators = new Map(previous.map((p) => [p.createdBy.seq, p.id]));
  const kept = new Map<number, string>();
  for (const p of events) {
    const id = creators.get(p.ref.seq);
    if (id !== undefined && p.rejected.some((r) => r.reason === IDENTITY_REASONS.unlinked))
      kept.set(p.ref.seq, id);
  }
  return (event) => kept.get(event.seq);
}
