import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { IngestionObserver, IngestOutcome, IngestRoute } from '../ingestion/ingestion.service.ts';
import type { PipelineObserver } from '../pipeline/pipeline-runtime.ts';

/** All metrics of one app instance, on a registry of its own (no prom-client global state). */
export interface Metrics {
  readonly registry: Registry;
  readonly ingestion: IngestionObserver;
  readonly pipeline: PipelineObserver;
  observeAck(route: string, status: number, seconds: number): void;
  /** Events of suppressed people dropped at ingestion (never stored). */
  observeSuppressed(events: number): void;
  /** One group commit: how many events it wrote and how long the durable append took. */
  observeCommit(events: number, seconds: number): void;
  /** Destinations: events routed or skipped (by reason), attempts (by outcome) and deliveries settled. */
  readonly destinations: {
    routed(queued: number, skipped: Readonly<Record<string, number>>): void;
    attempt(kind: string, outcome: string, seconds: number): void;
    settled(status: string, n: number): void;
  };
  /**
   * Live event streams (the debugger's SSE): count one while it is open, with what its socket
   * has not yet taken. Returns what to call when it closes.
   */
  liveStreamOpened(stream: { readonly writableLength: number }): () => void;
  /** Gauges read at scrape time (log lag per stage, failed events). */
  setCollector(
    collect: () => Promise<{
      lag: { stage: string; lag: number }[];
      failed: { stage: string; count: number }[];
      pendingEvents: number;
      /** The in-process pipeline's gate (pipeline/foreground-activity.ts). */
      gate: { foregroundLoad: number; budgetMs: number };
    }>,
  ): void;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'cdp_process_' });
  const events = new Counter({
    name: 'cdp_ingest_events_total',
    help: 'Events received by ingestion, by outcome',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const rejected = new Counter({
    name: 'cdp_ingest_rejected_requests_total',
    help: 'Rejected ingestion requests by error code',
    labelNames: ['code'],
    registers: [registry],
  });
  const batchSize = new Histogram({
    name: 'cdp_ingest_batch_size',
    help: 'Events per ingestion request',
    labelNames: ['route'],
    buckets: [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500],
    registers: [registry],
  });
  const ack = new Histogram({
    name: 'cdp_ingest_ack_seconds',
    help: 'Time from request received to response (after durable commit)',
    labelNames: ['route', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const commitEvents = new Histogram({
    name: 'cdp_ingest_commit_events',
    help: 'Events written per group commit (one durable transaction)',
    buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 20000],
    registers: [registry],
  });
  const commitSeconds = new Histogram({
    name: 'cdp_ingest_commit_seconds',
    help: 'Duration of one group commit (append and fsync)',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  const processed = new Counter({
    name: 'cdp_pipeline_processed_total',
    help: 'Entries handled per stage and outcome',
    labelNames: ['stage', 'outcome'],
    registers: [registry],
  });
  const stageSeconds = new Histogram({
    name: 'cdp_pipeline_handle_seconds',
    help: 'Handler time per entry',
    labelNames: ['stage'],
    registers: [registry],
  });
  const liveStreams = new Set<{ readonly writableLength: number }>();
  new Gauge({
    name: 'cdp_live_streams',
    help: 'Open live event streams (debugger, Server-Sent Events)',
    registers: [registry],
    collect() {
      this.set(liveStreams.size);
    },
  });
  new Gauge({
    name: 'cdp_live_stream_buffered_bytes',
    help: 'Bytes written to live event streams that their clients have not taken yet',
    registers: [registry],
    collect() {
      let bytes = 0;
      for (const stream of liveStreams) bytes += stream.writableLength;
      this.set(bytes);
    },
  });
  type Snapshot = Awaited<ReturnType<Parameters<Metrics['setCollector']>[0]>>;
  let collect: Parameters<Metrics['setCollector']>[0] | undefined;
  // prom-client reads every metric of a scrape concurrently: the gauges below share one
  // snapshot per scrape, each awaiting it in its own collect (a gauge set by another's collect
  // would be read before it was set, showing the previous scrape's value).
  let scrape: Promise<Snapshot | undefined> | undefined;
  const snapshot = (): Promise<Snapshot | undefined> => {
    scrape ??= (collect ? collect() : Promise.resolve(undefined)).finally(() => (scrape = undefined));
    return scrape;
  };
  const gauge = (
    name: string,
    help: string,
    labelNames: string[],
    read: (gauge: Gauge, snapshot: Snapshot) => void,
  ): void =>
    void new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        const current = await snapshot();
        if (current === undefined) return;
        this.reset();
        read(this, current);
      },
    });
  gauge('cdp_pipeline_lag_events', 'Log entries not yet settled, per stage', ['stage'], (g, s) => {
    for (const { stage, lag } of s.lag) g.set({ stage }, lag);
  });
  gauge('cdp_pipeline_failed_events', 'Failed events waiting for replay, per stage', ['stage'], (g, s) => {
    for (const { stage, count } of s.failed) g.set({ stage }, count);
  });
  gauge('cdp_ingest_pending_events', 'Events waiting for the next group commit', [], (g, s) =>
    g.set(s.pendingEvents),
  );
  gauge(
    'cdp_pipeline_foreground_load',
    "Share of the main thread that requests took over the last measured second (the in-process pipeline gets larger batches only under 0.3; with the pipeline on its own thread, the main thread's event-loop utilization, past 0.5 of which the pipeline gives way)",
    [],
    (g, s) => g.set(s.gate.foregroundLoad),
  );
  gauge(
    'cdp_pipeline_busy_budget_ms',
    'How long one in-process pipeline batch may take while requests keep coming (0 with the pipeline on its own thread)',
    [],
    (g, s) => g.set(s.gate.budgetMs),
  );
  const failedTotal = new Counter({
    name: 'cdp_pipeline_failed_total',
    help: 'Entries moved to failed events',
    labelNames: ['stage'],
    registers: [registry],
  });

  const routed = new Counter({
    name: 'cdp_destination_events_total',
    help: 'Events the destination router looked at per destination: queued, or skipped by reason (integrations, filter, segments, consent, no_profile, predates_destination)',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const attemptSeconds = new Histogram({
    name: 'cdp_destination_attempt_seconds',
    help: 'Destination requests (a batch of events or a deletion call) by kind and outcome (ok, retry, reject)',
    labelNames: ['kind', 'outcome'],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const settledTotal = new Counter({
    name: 'cdp_destination_deliveries_total',
    help: 'Deliveries settled by status (delivered, queued again for a retry, failed, dropped)',
    labelNames: ['status'],
    registers: [registry],
  });

  return {
    registry,
    destinations: {
      routed(queued, skipped) {
        if (queued > 0) routed.inc({ outcome: 'queued' }, queued);
        for (const [reason, n] of Object.entries(skipped)) if (n > 0) routed.inc({ outcome: reason }, n);
      },
      attempt(kind, outcome, seconds) {
        attemptSeconds.observe({ kind, outcome }, seconds);
      },
      settled(status, n) {
        settledTotal.inc({ status }, n);
      },
    },
    ingestion: {
      accepted(outcome: IngestOutcome, route: IngestRoute) {
        events.inc({ outcome: 'stored' }, outcome.stored);
        if (outcome.duplicates > 0) events.inc({ outcome: 'duplicate' }, outcome.duplicates);
        batchSize.observe({ route }, outcome.received);
      },
      rejected(code: string) {
        rejected.inc({ code });
      },
    },
    pipeline: {
      processed(stage, outcome, seconds) {
        processed.inc({ stage, outcome });
        stageSeconds.observe({ stage }, seconds);
      },
      failed(stage) {
        failedTotal.inc({ stage });
      },
    },
    observeAck(route, status, seconds) {
      ack.observe({ route, status: String(status) }, seconds);
    },
    observeSuppressed(count) {
      events.inc({ outcome: 'suppressed' }, count);
    },
    observeCommit(events, seconds) {
      commitEvents.observe(events);
      commitSeconds.observe(seconds);
    },
    liveStreamOpened(stream) {
      liveStreams.add(stream);
      return () => liveStreams.delete(stream);
    },
    setCollector(fn) {
      collect = fn;
    },
  };
}
