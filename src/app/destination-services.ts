import type { Config } from '../config/config.ts';
import { DeliveryWorker } from '../destinations/delivery-worker.ts';
import { DestinationRouter } from '../destinations/destination-router.ts';
import { DestinationService } from '../destinations/destination.service.ts';
import { parseEgressAllow } from '../destinations/egress-policy.ts';
import { createHttpPoster, type HttpPoster } from '../destinations/webhook-client.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { ConsentService } from '../privacy/consent.service.ts';
import type { Clock } from '../shared/clock.ts';
import type { JsonObject } from '../shared/json.ts';
import type { Store } from '../storage/store.ts';

export interface DestinationServices {
  readonly destinations: DestinationService;
  readonly router: DestinationRouter;
  readonly worker: DeliveryWorker;
}

/**
 * Destinations over one store: the service (API, CLI, deletion calls), the router (a profile
 * change listener, registered after consent and audiences) and the delivery worker.
 */
export function buildDestinationServices(deps: {
  store: Store;
  clock: Clock;
  config: Pick<Config, 'egressAllow'>;
  metrics?: Metrics;
  /** Tests and tools may pass their own HTTP edge; by default the egress-checked client. */
  poster?: HttpPoster;
  consentCategories: ConsentService['settings'];
  logError: (details: Record<string, unknown>, message: string) => void;
  /** Deliveries were queued (default: wake this process's delivery worker). */
  onQueued?: () => void;
  /** A destination changed, beyond what this process does about it (another thread's router). */
  onChanged?: (workspaceId: string) => void;
}): DestinationServices {
  const { store, clock, metrics } = deps;
  const egressAllow = parseEgressAllow(deps.config.egressAllow);
  const poster = deps.poster ?? createHttpPoster({ allow: egressAllow, clock });
  const worker: DeliveryWorker = new DeliveryWorker({
    destinations: store.destinations,
    readEvents: async (workspaceId, seqs) => {
      const out = new Map<number, JsonObject>();
      for (const event of await store.events.readBySeqs(seqs))
        if (event.workspaceId === workspaceId) out.set(event.seq, event.message);
      return out;
    },
    poster,
    clock,
    onAttempt: (report) =>
      metrics?.destinations.attempt(report.kind, report.outcome.kind, report.outcome.durationMs / 1000),
    onSettled: (status, n) => metrics?.destinations.settled(status, n),
    onError: (error) => deps.logError({ err: error }, 'destination delivery failed; retrying'),
  });
  const router = new DestinationRouter({
    destinations: store.destinations,
    membershipsOf: (ws, profileId) => store.audienceState.membershipsOf(ws, profileId),
    consentOf: (ws, profileId) => store.consent.currentValues(ws, profileId),
    clock,
    onQueued: deps.onQueued ?? (() => worker.wake()),
    onRouted: ({ queued, skipped }) => metrics?.destinations.routed(queued, skipped),
  });
  const destinations = new DestinationService({
    destinations: store.destinations,
    segmentExists: async (ws, slug) => (await store.segments.find(ws, slug)) !== undefined,
    consentCategories: async (ws) => (await deps.consentCategories(ws)).categories,
    egressAllow,
    poster,
    clock,
    onChanged: (ws) => {
      router.forget(ws);
      worker.wake();
      deps.onChanged?.(ws);
    },
  });
  return { destinations, router, worker };
}
