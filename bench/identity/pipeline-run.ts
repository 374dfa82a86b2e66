/**
 * The platform's pipeline over a store, as `npm start` runs it: `buildApp` with the in-process
 * bus and the built-in profiles stage (batches of up to 5,000 in log order). The log is filled first;
 * the clock runs from `start()` until every consumer group's lag is 0, i.e. every event is in an
 * up-to-date profile.
 */
import { buildApp, type App } from '../../src/app/build-app.ts';
import { parseConfig } from '../../src/config/config.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { randomBytes } from 'node:crypto';
import { systemClock } from '../../src/shared/clock.ts';
import type { Store } from '../../src/storage/store.ts';

/** How often the lag is polled: small against runs of tens of seconds. */
const LAG_POLL_MS = 50;
/** How often a long run says how far it is: at a million people it lasts hours. */
const PROGRESS_MS = 60_000;

export interface PipelineTiming {
  readonly seconds: number;
  /** CPU time of this process meanwhile (PostgreSQL's own work is not in it). */
  readonly cpuSeconds: number;
  /** Failed events recorded by the stages: must be 0. */
  readonly failed: number;
}

export interface BenchApp {
  readonly app: App;
  readonly workspaceId: string;
}

/** An app over `store` (pipeline not started) with a fresh workspace for the data set. */
export async function buildBenchApp(store: Store, env: Record<string, string>): Promise<BenchApp> {
  // Decoding runs inline: no HTTP ingestion happens here, and worker threads would only add noise.
  const config = parseConfig({ CDP_LOG_LEVEL: 'warn', CDP_INGEST_WORKERS: '0', ...env });
  const app = await buildApp({
    config,
    store,
    clock: systemClock,
    logger: createLogger(config),
    encryptionKey: config.encryptionKey ?? randomBytes(32),
  });
  const workspace = await app.services.workspaces.create({ name: 'Identity bench', slug: 'identity-bench' });
  return { app, workspaceId: workspace.id };
}

export async function runPipelineToZeroLag(
  app: App,
  store: Store,
  progress?: (text: string) => void,
): Promise<PipelineTiming> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  let reportAt = started + PROGRESS_MS;
  let firstLag: number | undefined;
  await app.start();
  for (;;) {
    const lags = await app.pipeline.lag();
    const lag = Math.max(0, ...lags.map((l) => l.lag));
    firstLag ??= lag;
    if (lag === 0) break;
    const now = performance.now();
    if (progress !== undefined && now >= reportAt) {
      reportAt = now + PROGRESS_MS;
      const seconds = (now - started) / 1000;
      const done = firstLag - lag;
      progress(
        `pipeline ${seconds.toFixed(0)} s: ${done} events done, ${lag} to go, ${Math.round(done / seconds)}/s`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, LAG_POLL_MS));
  }
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  await app.close();
  const failed = (await store.failedEvents.countFailedByStage()).reduce((n, s) => n + s.count, 0);
  return { seconds, cpuSeconds: (used.user + used.system) / 1e6, failed };
}
