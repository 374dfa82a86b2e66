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
  chunkSize?: number;
}): { segments: SegmentService; computedTraits: ComputedTraitService } {
  const { store, clock, logError } = deps;
  const computedTraits: ComputedTraitService = new ComputedTraitService({
    computedTraits: store.computedTraits,
    clock,
    segmentsUsing: async (workspaceId, name) =>
      (await store.segments.list(workspaceId, { limit: 10_000 }))
        .filter((segment) => segment.dependencies.computed.includes(name))
        .map((segment) => segment.slug),
    onBackgroundError: (error, context) =>
      logError({ err: error, ...context }, 'computed trait backfill failed'),
    ...(deps.chunkSize !== undefined ? { chunkSize: deps.chunkSize } : {}),
  });
  const segments = new SegmentService({
    segments: store.segments,
    clock,
    computedTraitNames: (workspaceId) => computedTraits.names(workspaceId),
    onBackgroundError: (error, context) => logError({ err: error, ...context }, 'segment backfill failed'),
    ...(deps.chunkSize !== undefined ? { chunkSize: deps.chunkSize } : {}),
  });
  return { segments, computedTraits };
}
