/**
 * Decides, after the profiles stage committed a batch, which destinations receive which of its
 * events, and queues them in the outbox. It runs after consent and real-time audiences (listener
 * order), so the person's consent and memberships already include what the batch said. A
 * redelivered batch queues nothing twice (one delivery per destination and event), and a
 * destination is offered only events received since it was created (`offeredTo`): a rebuild or
 * a replay re-reports old events, which must not reach a destination added after them.
 */
import { analyzeEventFilter, type Expression } from '../segment-language/index.ts';
import type { ProfileBatchChange, ProfileChangeListener } from '../profiles/profile-state.port.ts';
import type { Clock } from '../shared/clock.ts';
import type { Destination } from './destination-types.ts';
import type { DestinationRepository, EventDeliveryRow } from './destinations.port.ts';
import { offeredTo, routeEvent, type SkipReason } from './delivery-policy.ts';

/** How long a process trusts its list of a workspace's destinations (changes made elsewhere). */
const CACHE_MS = 2_000;

interface Routed {
  readonly destination: Destination;
  readonly filter: Expression | null;
}

export interface DestinationRouterDeps {
  readonly destinations: DestinationRepository;
  /** Slugs of the segments a profile is a member of now. */
  readonly membershipsOf: (workspaceId: string, profileId: string) => Promise<readonly string[]>;
  /** Current consent values of a profile. */
  readonly consentOf: (workspaceId: string, profileId: string) => Promise<ReadonlyMap<string, boolean>>;
  readonly clock: Clock;
  /** Deliveries were queued: the worker can start at once. */
  readonly onQueued?: () => void;
  readonly onRouted?: (counts: {
    readonly queued: number;
    readonly skipped: Readonly<Record<SkipReason, number>>;
  }) => void;
}

export class DestinationRouter implements ProfileChangeListener {
  readonly name = 'destinations';
  readonly #deps: DestinationRouterDeps;
  readonly #cache = new Map<string, { readonly atMs: number; readonly routed: readonly Routed[] }>();

  constructor(deps: DestinationRouterDeps) {
    this.#deps = deps;
  }

  /** This process changed the workspace's destinations. */
  forget(workspaceId: string): void {
    this.#cache.delete(workspaceId);
  }

  async #routed(workspaceId: string): Promise<readonly Routed[]> {
    const now = Date.now();
    const cached = this.#cache.get(workspaceId);
    if (cached !== undefined && now - cached.atMs < CACHE_MS) return cached.routed;
    const routed: Routed[] = [];
    for (const destination of await this.#deps.destinations.enabledIn(workspaceId)) {
      // Stored filters were validated when saved; one that no longer analyzes receives nothing.
      const analysis = destination.filter === null ? null : analyzeEventFilter(destination.filter);
      if (analysis === null) routed.push({ destination, filter: null });
      else if (analysis.ok) routed.push({ destination, filter: analysis.ast });
    }
    this.#cache.set(workspaceId, { atMs: now, routed });
    return routed;
  }

  async profilesChanged(change: ProfileBatchChange): Promise<void> {
    const routed = await this.#routed(change.workspaceId);
    if (routed.length === 0 || change.events.length === 0) return;
    const ws = change.workspaceId;
    // Only the people of events some destination that looks at people is offered (a rebuild
    // re-reports old events: their people are not looked up for nothing).
    const needsSegments = new Set<string>();
    const needsConsent = new Set<string>();
    for (const event of change.events) {
      const profileId = change.profileOf.get(event.seq);
      if (profileId === undefined) continue;
      for (const { destination } of routed) {
        if (!offeredTo(destination, event.receivedMs)) continue;
        if (destination.segments.length > 0) needsSegments.add(profileId);
        if (destination.consentCategories.length > 0) needsConsent.add(profileId);
      }
    }
    const segments = new Map<string, ReadonlySet<string>>();
    const consent = new Map<string, ReadonlyMap<string, boolean>>();
    for (const profileId of needsSegments)
      segments.set(profileId, new Set(await this.#deps.membershipsOf(ws, profileId)));
    for (const profileId of needsConsent) consent.set(profileId, await this.#deps.consentOf(ws, profileId));
    const rows: EventDeliveryRow[] = [];
    const skipped: Record<SkipReason, number> = {
      predates_destination: 0,
      integrations: 0,
      filter: 0,
      segments: 0,
      consent: 0,
      no_profile: 0,
    };
    for (const event of change.events) {
      const profileId = change.profileOf.get(event.seq) ?? null;
      const person = {
        profileId,
        segments: () => (profileId === null ? NONE : (segments.get(profileId) ?? NONE)),
        consent: () => (profileId === null ? NO_CONSENT : (consent.get(profileId) ?? NO_CONSENT)),
      };
      for (const { destination, filter } of routed) {
        if (!offeredTo(destination, event.receivedMs)) {
          skipped.predates_destination++;
          continue;
        }
        const decision = routeEvent(destination, filter, event.message, person);
        if (decision.deliver) rows.push({ destinationId: destination.id, eventSeq: event.seq, profileId });
        else skipped[decision.reason]++;
      }
    }
    const queued = await this.#deps.destinations.enqueue(ws, rows, this.#deps.clock.now());
    this.#deps.onRouted?.({ queued, skipped });
    if (queued > 0) this.#deps.onQueued?.();
  }
}

const NONE: ReadonlySet<string> = new Set();
const NO_CONSENT: ReadonlyMap<string, boolean> = new Map();
