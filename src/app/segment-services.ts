import type { AcceptedEvent } from '../ingestion/message-types.ts';
import { DEFAULT_CONSENT_SETTINGS, validateConsentSettings } from '../privacy/consent.ts';
import { CONSENT_SETTINGS } from '../privacy/consent.service.ts';
import { RealtimeAudiences } from '../segments/realtime-audiences.ts';
import { ComputedTraitService } from '../computed-traits/computed-trait.service.ts';
import { SegmentService } from '../segments/segment.service.ts';
import type { Clock } from '../shared/clock.ts';
import type { Store } from '../storage/store.ts';

/** Segments and computed traits over one store; each checks the other's references. */
export function buildSegmentServices(deps: {
  store: Store;
  clock: Clock;
  /** Where a background backfill that failed is reported (its status also says `failed`). */
  logError: (details: Record<string, unknown>, message: string) => void;
  /**
   * Re-evaluates in real time the profiles written since a backfill began, once it wrote its
   * last step (`RealtimeAudiences.reevaluateUpdatedSince`).
   */
  reevaluateSince?: (workspaceId: string, sinceMs: number) => Promise<unknown>;
  chunkSize?: number;
}): { segments: SegmentService; computedTraits: ComputedTraitService } {
  const { store, clock, logError } = deps;
  // SQLite has one connection: short steps let ingestion commit in between. PostgreSQL does not
  // block writers, so fewer, larger steps.
  const chunkSize = deps.chunkSize ?? (store.dialect === 'sqlite' ? 5000 : 25_000);
  const computedTraits: ComputedTraitService = new ComputedTraitService({
    computedTraits: store.computedTraits,
    clock,
    segmentsUsing: async (workspaceId, name) =>
      (await store.segments.list(workspaceId, { limit: 10_000 }))
        .filter((segment) => segment.dependencies.computed.includes(name))
        .map(({ slug, definition }) => ({ slug, definition })),
    onBackgroundError: (error, context) =>
      logError({ err: error, ...context }, 'computed trait backfill failed'),
    chunkSize: Math.max(1, Math.floor(chunkSize / 2)),
    ...(deps.reevaluateSince ? { reevaluateSince: deps.reevaluateSince } : {}),
  });
  const segments = new SegmentService({
    segments: store.segments,
    clock,
    computedTraitNames: (workspaceId) => computedTraits.names(workspaceId),
    computedTraits: (workspaceId) => computedTraits.list(workspaceId, { limit: 10_000 }),
    // As ConsentService.settings reads them (stored settings that no longer validate: defaults).
    consentCategories: async (workspaceId) => {
      const stored = await store.workspaceSettings.get(workspaceId, CONSENT_SETTINGS);
      const checked = stored === undefined ? undefined : validateConsentSettings(stored);
      return (checked?.ok === true ? checked.settings : DEFAULT_CONSENT_SETTINGS).categories;
    },
    onBackgroundError: (error, context) => logError({ err: error, ...context }, 'segment backfill failed'),
    destinationsUsing: async (workspaceId, slug) =>
      (await store.destinations.list(workspaceId, { limit: 10_000 }))
        .filter((destination) => destination.segments.includes(slug))
        .map((destination) => destination.id),
    chunkSize,
    ...(deps.reevaluateSince ? { reevaluateSince: deps.reevaluateSince } : {}),
  });
  return { segments, computedTraits };
}

/**
 * Real-time computed traits and memberships over the store: the server and the CLI (whose
 * unmerge and rebuild change profiles too) react to profile changes the same way.
 */
export function buildRealtimeAudiences(deps: {
  store: Store;
  clock: Clock;
  /** Durably appends audience events to the log. */
  emit: (events: readonly AcceptedEvent[]) => Promise<void>;
  onScheduled?: (dueMs: number) => void;
  /** Appending audience events failed (they are retried). */
  onPublishError: (error: unknown) => void;
}): RealtimeAudiences {
  const { store } = deps;
  return new RealtimeAudiences({
    segments: store.segments,
    computedTraits: store.computedTraits,
    state: store.audienceState,
    clock: deps.clock,
    identityOf: async (workspaceId, profileId) => {
      let ids = await store.profiles.identifiers(workspaceId, profileId);
      // None left: merged since its change was decided (an owed event sent after a restart,
      // typically), so the event goes to the survivor, which holds the identifiers now.
      if (ids.length === 0) {
        const live = await store.profiles.resolve(workspaceId, profileId);
        if (live !== undefined && live !== profileId)
          ids = await store.profiles.identifiers(workspaceId, live);
      }
      return {
        userId: ids.find((i) => i.type === 'user_id')?.value ?? null,
        anonymousId: ids.find((i) => i.type === 'anonymous_id')?.value ?? null,
      };
    },
    accountMembers: async (workspaceId, accountId, { afterId, limit }) =>
      (await store.profiles.membersOf(workspaceId, accountId, limit, afterId)).map((m) => m.profileId),
    emit: deps.emit,
    onPublishError: deps.onPublishError,
    ...(deps.onScheduled ? { onScheduled: deps.onScheduled } : {}),
  });
}
