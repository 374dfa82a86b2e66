import type { JsonObject } from '../shared/json.ts';
import { Argon2idPasswordHasher } from '../access/argon2id-password-hasher.ts';
import { createAccessServices } from '../access/access-services.ts';
import { InProcessBus } from '../bus/in-process-bus.ts';
import { SharedCoresGate } from '../pipeline/shared-cores-gate.ts';
import { ThreadForwardingBus } from '../bus/thread-forwarding-bus.ts';
import type { AppRole } from './pipeline-link.ts';
import type { Metrics } from '../observability/metrics.ts';
import { DEFAULT_GATE_POLICY, ForegroundActivity } from '../pipeline/foreground-activity.ts';
import type { Config } from '../config/config.ts';
import { AppendNotifier } from '../events/append-notifier.ts';
import { EventQueryService } from '../events/event-query.service.ts';
import { AuditService } from '../governance/audit.service.ts';
import { GroupCommitter } from '../ingestion/group-committer.ts';
import { IngestionService } from '../ingestion/ingestion.service.ts';
import { InlineRequestDecoder } from '../ingestion/inline-request-decoder.ts';
import type { RequestDecoder } from '../ingestion/request-decoder.port.ts';
import { WorkerPoolRequestDecoder } from '../ingestion/workers/worker-pool-request-decoder.ts';
import type { Logger } from '../observability/logger.ts';
import { createMetrics } from '../observability/metrics.ts';
import { partitionKeyOf, type EventBus } from '../pipeline/bus.port.ts';
import { FailedEventsService } from '../pipeline/failed-events.service.ts';
import { PipelineRuntime } from '../pipeline/pipeline-runtime.ts';
import { ProfileSettingsService } from '../profiles/profile-settings.service.ts';
import { ProfileChangeFanout } from '../profiles/profile-change-fanout.ts';
import { ProfileStage } from '../profiles/profile-stage.ts';
import { ProfileService } from '../profiles/profile.service.ts';
import type { RetryPolicy, Stage } from '../pipeline/stage.ts';
import type { Clock } from '../shared/clock.ts';
import type { Store } from '../storage/store.ts';
import { SourceService } from '../workspaces/source.service.ts';
import { TokenService } from '../workspaces/token.service.ts';
import { WorkspaceService } from '../workspaces/workspace.service.ts';
import type { AppServices } from './app-services.ts';
import { loadPiiVault } from '../privacy/key-ring.ts';
import { watchKeyRing } from './key-ring-watch.ts';
import { buildPrivacyServices } from './privacy-services.ts';
import { buildDestinationServices } from './destination-services.ts';
import { RateLimiter } from '../governance/rate-limiter.ts';
import { AppError } from '../errors/app-error.ts';
import { performance } from 'node:perf_hooks';
import type { DeliveryWorker } from '../destinations/delivery-worker.ts';
import { buildRealtimeAudiences, buildSegmentServices } from './segment-services.ts';
import { AudienceScheduler } from '../segments/audience-scheduler.ts';
import type { RealtimeAudiences } from '../segments/realtime-audiences.ts';
import { RepeatThrottle } from '../observability/repeat-throttle.ts';
import { maskPersonalComputed } from '../computed-traits/personal-values.ts';

/** Computed traits read to mask a profile's values (a workspace has a few dozen). */
const MAX_COMPUTED_TRAITS_READ = 10_000;

/** How soon backfills left unfinished are looked for again when the store did not answer. */
const RESUME_RETRY_MS = 5_000;

export interface CoreDependencies {
  readonly config: Config;
  readonly store: Store;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Defaults to the in-process bus over the store's log. */
  readonly bus?: EventBus;
  /** Processing stages, in addition to the built-in ones. */
  readonly stages?: readonly Stage[];
  readonly retryPolicy?: RetryPolicy;
  readonly busPollIntervalMs?: number;
  /** The instance encryption key (start-server loads or creates it); defaults to the config's. */
  readonly encryptionKey?: Buffer;
  /** Defaults to `whole`: the pipeline runs in this thread (pipeline-link.ts). */
  readonly role?: AppRole;
}

/** Every service of the app, without its HTTP server. */
export interface Core {
  /** Real-time computed traits and segment memberships (tests drive them directly). */
  readonly audiences: RealtimeAudiences;
  readonly scheduler: AudienceScheduler;
  /** Sends the destinations' outbox (tests wait for it). */
  readonly deliveryWorker: DeliveryWorker;
  readonly services: AppServices;
  readonly pipeline: PipelineRuntime;
  readonly committer: GroupCommitter;
  /** Starts the background work this role runs. */
  start(): Promise<void>;
  /**
   * Stops accepting, lets `stopIntake` end the requests (HTTP), finishes in-flight work and
   * stops consumers. Does not close the store.
   */
  close(stopIntake?: () => Promise<void>): Promise<void>;
}

/** The composition root: builds every service once from explicit dependencies. */
export async function buildCore(deps: CoreDependencies): Promise<Core> {
  const { config, store, clock, logger } = deps;
  const role = deps.role ?? { kind: 'whole' };
  const encryptionKey = deps.encryptionKey ?? config.encryptionKey;
  if (encryptionKey === undefined)
    throw new Error('buildCore needs the instance encryption key (CDP_ENCRYPTION_KEY or the key file)');
  // First, before any worker or timer exists (a wrong key must leave nothing running behind),
  // and before anything reads or writes profiles: personal data is sealed from the first event.
  store.pii.install(await loadPiiVault(store.instance, encryptionKey));
  const metrics = metricsFor(role);
  const notifier = new AppendNotifier();
  // Acknowledging comes first: the in-process pipeline gives way to requests on their way to
  // their ack (src/pipeline/foreground-activity.ts).
  const foreground = new ForegroundActivity({
    ...DEFAULT_GATE_POLICY,
    maxBusyBatchMs: config.pipelineMaxBatchMs,
  });
  // A pipeline batch's transaction on SQLite lets requests in between its statements, counted
  // as their time, not the batch's. On the pipeline's own thread no request waits.
  if (role.kind !== 'pipeline') store.yieldWithinTransactions(() => foreground.yieldToForeground());
  const sharedCores = new SharedCoresGate();
  const busErrors = new RepeatThrottle(30_000);
  // Background loops (deliveries, privacy requests, backfills, the audience scheduler) poll the
  // store about once a second: while it is unavailable, each says so once per 30 s, with the
  // count. Any other failure is logged every time.
  const outageErrors = new RepeatThrottle(30_000);
  const backgroundError = (details: Record<string, unknown>, message: string): void => {
    if (!store.isUnavailable(details['err'])) {
      logger.error(details, message);
      return;
    }
    const { log, suppressed } = outageErrors.admit(message);
    if (log)
      logger.error(
        { ...details, suppressed },
        `${message} (the store is unavailable${suppressed > 0 ? `; ${suppressed} more since the last line` : ''})`,
      );
  };
  const bus =
    deps.bus ??
    (role.kind === 'api'
      ? new ThreadForwardingBus({
          state: store.consumerState,
          clock,
          announce: (entries) => role.link.announce(entries),
          redeliveriesScheduled: () => role.link.redeliveriesScheduled(),
        })
      : undefined) ??
    new InProcessBus({
      // A pipeline sharing the thread with the requests gives way to them; one on its own
      // thread gives way to the API thread when that one is busy.
      gate: role.kind === 'whole' ? foreground : sharedCores,
      log: store.events,
      state: store.consumerState,
      clock,
      pollIntervalMs: deps.busPollIntervalMs ?? 1000,
      onError: (group, error) => {
        // The bus backs off (up to 30 s) while it fails; an outage still logs at most every 30 s.
        const { log, suppressed } = busErrors.admit(group);
        if (log) logger.error({ err: error, group, suppressed }, 'consumer loop failed; retrying');
      },
    });
  const committer = new GroupCommitter({
    log: store.events,
    dedupWindowMs: config.dedupWindowMs,
    now: () => clock.now(),
    maxPendingEvents: config.maxPendingEvents,
    onCommitted: (events, seqs, seconds) => {
      metrics.observeCommit(events.length, seconds);
      const announced = [];
      for (let i = 0; i < events.length; i++) {
        const seq = seqs[i];
        const event = events[i];
        if (seq !== null && seq !== undefined && event)
          announced.push({ seq, workspaceId: event.workspaceId, partitionKey: partitionKeyOf(event) });
      }
      if (announced.length > 0) {
        bus.announce(announced);
        notifier.notify();
      }
    },
  });
  const pipeline = new PipelineRuntime({
    bus,
    failedEvents: store.failedEvents,
    clock,
    logger,
    observer: metrics.pipeline,
    isStoreUnavailable: (error) => store.isUnavailable(error),
    ...(deps.retryPolicy ? { retryPolicy: deps.retryPolicy } : {}),
  });
  const profileSettings = new ProfileSettingsService(store.workspaceSettings);
  const profileChanges = new ProfileChangeFanout(() => foreground.yieldToForeground());
  const profiles = new ProfileService({
    profiles: store.profiles,
    views: store.profileViews,
    state: store.profileState,
    settings: profileSettings,
    events: store.events,
    clock,
    listener: profileChanges,
    onRebuildError: (workspaceId, error) =>
      backgroundError({ err: error, workspaceId }, 'profile rebuild failed; retrying'),
  });
  pipeline.register(
    new ProfileStage({
      state: store.profileState,
      settings: profileSettings,
      listeners: [profileChanges],
      rebuildUnderWay: (workspaceId) => profiles.continueRebuild(workspaceId),
    }),
  );
  for (const stage of deps.stages ?? []) pipeline.register(stage);

  let accepting = true;
  const shutdown = new AbortController();
  const sources = new SourceService({ sources: store.sources, clock });
  const audit = new AuditService({
    auditLog: store.auditLog,
    clock,
    readsWaitForDisk: config.auditReadsWaitForDisk,
  });
  const access = createAccessServices({
    store,
    audit,
    clock,
    hasher: new Argon2idPasswordHasher(),
    lifetime: { idleMs: config.sessionIdleMs, maxMs: config.sessionMaxMs },
  });
  const decoder: RequestDecoder =
    config.ingestWorkers > 0 && role.kind !== 'pipeline'
      ? new WorkerPoolRequestDecoder(config.ingestWorkers)
      : new InlineRequestDecoder();
  const workspaces = new WorkspaceService({ workspaces: store.workspaces, clock });
  const rateLimits = {
    ingest: new RateLimiter({ ratePerSecond: config.rateLimitIngest, burst: 2 * config.rateLimitIngest }),
    api: new RateLimiter({ ratePerSecond: config.rateLimitApi, burst: 2 * config.rateLimitApi }),
  };
  const delivery = buildDestinationServices({
    store,
    clock,
    config,
    metrics,
    // Called only once the app runs, after `privacy` exists.
    consentCategories: (ws) => privacy.consent.settings(ws),
    logError: backgroundError,
    ...(role.kind === 'pipeline' ? { onQueued: () => role.link.deliveriesQueued() } : {}),
    ...(role.kind === 'api' ? { onChanged: (ws: string) => role.link.destinationsChanged(ws) } : {}),
  });
  const privacy = await buildPrivacyServices({
    store,
    clock,
    encryptionKey,
    audit,
    profiles,
    profileSettings,
    workspaces,
    actor: { kind: 'system', tokenId: null, role: null },
    pendingEvents: () => committer.pendingEvents,
    sharedStore: store.dialect === 'postgres',
    onDropped: (count) => metrics.observeSuppressed(count),
    deletionCalls: (ws, request) => delivery.destinations.requestDeletions(ws, request),
    logError: backgroundError,
  });
  profileChanges.add(privacy.consent);
  profiles.addExtension(privacy.consent);
  const segmentServices = buildSegmentServices({
    store,
    clock,
    // Called only from a backfill, which starts after `audiences` below exists.
    reevaluateSince: (workspaceId, sinceMs) => audiences.reevaluateUpdatedSince(workspaceId, sinceMs),
    logError: backgroundError,
  });
  const audiences = buildRealtimeAudiences({
    store,
    clock,
    emit: async (events) => {
      // The pipeline's thread appends through the API thread's committer: one dedup index,
      // one writer of the log.
      if (role.kind === 'pipeline') await role.link.emit(events);
      else await committer.append(events);
    },
    onScheduled: (dueMs) => (role.kind === 'api' ? role.link.poke(dueMs) : scheduler.poke(dueMs)),
    onPublishError: (error) =>
      backgroundError({ err: error }, 'could not append audience events; retrying (the outbox keeps them)'),
  });
  const scheduler = new AudienceScheduler({
    state: store.audienceState,
    audiences,
    now: () => clock.now(),
    onError: (error) => backgroundError({ err: error }, 'audience scheduler failed; retrying'),
    onRecovered: (events) =>
      logger.warn({ events }, 'appended audience events a stopped process had decided but not sent'),
  });
  // Consent set through the API reaches no batch: segments reading consent follow it at once.
  privacy.consent.onRecorded((workspaceId, profileId) => audiences.consentChanged(workspaceId, [profileId]));
  profileChanges.add(audiences);
  // Last: consent and memberships already include what the batch said.
  profileChanges.add(delivery.router);
  profiles.addExtension({
    extend: async (workspaceId, profileId, reader) => {
      const { computed, segments } = await store.audienceState.audienceOf(workspaceId, profileId);
      // Values are plain JSON read from the store; the snapshot type is only more read-only.
      const values = computed as JsonObject;
      if (reader === undefined || reader.pii || Object.keys(values).length === 0)
        return { computed: values, segments };
      const traits = await store.computedTraits.list(workspaceId, { limit: MAX_COMPUTED_TRAITS_READ });
      return {
        computed: maskPersonalComputed(values, traits, (name) => reader.policy.isPiiTrait(name)),
        segments,
      };
    },
  });
  const services: AppServices = {
    config,
    clock,
    logger,
    metrics,
    workspaces,
    sources,
    tokens: new TokenService({ tokens: store.tokens, clock, adminToken: config.adminToken }),
    ingestion: new IngestionService({
      decoder,
      committer,
      clock,
      foreground,
      authenticate: (writeKey) => sources.authenticate(writeKey),
      // Real elapsed time, whatever clock the app runs on (tests move theirs by hand).
      admit: (source) => {
        const decision = rateLimits.ingest.take(source.id, performance.now());
        if (!decision.ok)
          throw new AppError(
            'ingest.rate_limited',
            `more than ${config.rateLimitIngest} requests per second with this write key`,
            {
              retryAfterSeconds: Math.max(1, Math.ceil(decision.retryAfterMs / 1000)),
            },
          );
      },
      observer: metrics.ingestion,
      screen: privacy.suppressionList.screen,
      sealing: (workspaceId, ip) => store.pii.payloadSealing(workspaceId, ip),
    }),
    events: new EventQueryService({
      events: store.events,
      failedEvents: store.failedEvents,
      sources: store.sources,
      notifier,
      countProfiles: (workspaceId) => profiles.count(workspaceId),
      countSuppressed: (workspaceId) => privacy.suppressionList.dropped(workspaceId),
      // The committed cursors, in this thread's pipeline or on the pipeline's thread alike.
      processedThrough: async () => {
        const cursors = await Promise.all(
          pipeline.stageNames.map((stage) => store.consumerState.getCursor(stage)),
        );
        return cursors.length === 0 ? store.events.headSeq() : Math.min(...cursors);
      },
      clock,
    }),
    profiles,
    profileSettings,
    profileChanges,
    failedEvents: new FailedEventsService({ failedEvents: store.failedEvents, bus, clock }),
    audit,
    ...access,
    ...segmentServices,
    ...privacy,
    destinations: delivery.destinations,
    rateLimits,
    isStoreUnavailable: (error) => store.isUnavailable(error),
    isAcceptingTraffic: () => accepting,
    shutdownSignal: shutdown.signal,
  };
  metrics.setCollector(async () => ({
    lag: role.kind === 'api' ? await storedLag() : await pipeline.lag(),
    failed: await store.failedEvents.countFailedByStage(),
    pendingEvents: committer.pendingEvents,
    gate:
      role.kind === 'api'
        ? { foregroundLoad: role.link.apiLoad, budgetMs: 0 }
        : { foregroundLoad: foreground.foregroundLoad, budgetMs: foreground.budgetMs },
  }));
  // The consumers run on the pipeline's thread: how far behind they are is in their cursors.
  const storedLag = async (): Promise<{ stage: string; lag: number }[]> => {
    const head = await store.events.headSeq();
    return Promise.all(
      pipeline.stageNames.map(async (stage) => ({
        stage,
        lag: Math.max(0, head - (await store.consumerState.getCursor(stage))),
      })),
    );
  };
  if (role.kind === 'api')
    role.link.serve({
      append: async (events) => {
        await committer.append(events);
      },
      deliveriesQueued: () => delivery.worker.wake(),
      observer: metrics.pipeline,
      routed: (queued, skipped) => metrics.destinations.routed(queued, skipped),
    });
  if (role.kind === 'pipeline')
    role.link.listen({
      announced: () => bus.announce([]),
      apiLoad: (load) => (sharedCores.apiLoad = load),
      poke: (dueMs) => scheduler.poke(dueMs),
      destinationsChanged: (workspaceId) => delivery.router.forget(workspaceId),
    });

  let keyRing: { stop(): void } | undefined;
  const resumeUnfinished = (): void => {
    // Rebuilds, backfills and profile changes owed to the listeners that a previous process
    // left unfinished continue in the background; with the store away at this moment, again
    // every few seconds until it answers.
    for (const service of [profiles, services.segments, services.computedTraits]) {
      const resume = (): void => {
        service.resumeUnfinished().catch((error: unknown) => {
          backgroundError({ err: error }, 'could not resume unfinished work (rebuilds, backfills); retrying');
          if (!shutdown.signal.aborted)
            setTimeout(() => shutdown.signal.aborted || resume(), RESUME_RETRY_MS).unref();
        });
      };
      resume();
    }
  };
  return {
    services,
    pipeline,
    committer,
    audiences,
    scheduler,
    deliveryWorker: delivery.worker,
    async start() {
      // The key ring changes when an owner rotates the key: every thread that seals reads it.
      keyRing = watchKeyRing(store, encryptionKey, backgroundError);
      if (role.kind !== 'api') {
        pipeline.start();
        scheduler.start();
      }
      if (role.kind === 'pipeline') return;
      // Not awaited: a store unreachable at that moment must not end the process (an unhandled
      // rejection would); the list's polling reads it once the store answers.
      privacy.suppressionList
        .start()
        .catch((error: unknown) =>
          backgroundError({ err: error }, 'could not read the suppression lists; retrying'),
        );
      privacy.privacyRequests.start();
      privacy.retention.start();
      delivery.worker.start();
      resumeUnfinished();
      if (role.kind === 'api') await role.link.start();
    },
    async close(stopIntake) {
      accepting = false;
      shutdown.abort();
      await stopIntake?.();
      // A rebuild stops at the end of its step (it resumes at the next start).
      await profiles.close();
      // The pipeline stops before the committer closes: its current batch may still append
      // (audience events), and must find the committer open, or the batch would fail and be
      // retried entry by entry.
      if (role.kind === 'api') await role.link.stop();
      await scheduler.stop();
      await pipeline.stop();
      // Before the committer closes: the queued audience events append through it.
      await audiences.stop();
      keyRing?.stop();
      if (role.kind === 'pipeline') {
        await bus.close();
        return;
      }
      await committer.close();
      await decoder.close();
      await privacy.privacyRequests.stop();
      await privacy.retention.stop();
      await delivery.worker.stop();
      await privacy.suppressionList
        .stop()
        .catch((error: unknown) =>
          logger.error({ err: error }, 'could not store the count of suppressed events'),
        );
      await services.segments.close();
      await services.computedTraits.close();
      await bus.close();
    },
  };
}

/** The pipeline's thread reports what it observes to the API thread, which serves /metrics. */
function metricsFor(role: AppRole): Metrics {
  const metrics = createMetrics();
  if (role.kind !== 'pipeline') return metrics;
  return {
    ...metrics,
    pipeline: role.link.observer,
    destinations: {
      ...metrics.destinations,
      routed: (queued, skipped) => role.link.routed(queued, skipped),
    },
  };
}
