/**
 * npm run bench:segments:streaming — real-time segments on the real server (`dist/cdp.mjs start`,
 * as `npm start` runs it): generator traffic through `/v1/batch` at a fixed open-loop rate, and
 * probes spliced into it, each making a fresh profile qualify for one segment; the time from the
 * batch's ack to the membership being visible through the admin API (`profiles/lookup`, polled),
 * and for window probes the time from the instant the window lapses to the exit being visible.
 * Options (env): BENCH_RATE (events/s, default 5000), BENCH_SECONDS (30), BENCH_DRAIN_SECONDS
 * (20), BENCH_PROBE_MS (200: one probe per interval, kinds in turn), BENCH_POLL_MS (15),
 * BENCH_WINDOW_LEAD_MS (5000: a window lapses that long after its probe), BENCH_STORE
 * (sqlite | postgres).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { JsonClient } from '../support/http-json.ts';
import { createBenchDatabase } from '../support/postgres-db.ts';
import { freePort, startProcess, type RunningProcess } from '../support/processes.ts';
import {
  createProbe,
  MembershipPoller,
  PROBE_KINDS,
  type Probe,
  type ProbeOutcome,
} from './membership-probes.ts';
import { reportStreaming } from './streaming-report.ts';
import { buildTraffic, sendOpenLoop } from './streaming-traffic.ts';
import { createBenchWorkspace } from './streaming-workspace.ts';

const env = (name: string, fallback: number): number => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
};
const RATE = env('BENCH_RATE', 5_000);
const SECONDS = env('BENCH_SECONDS', 30);
const DRAIN_SECONDS = env('BENCH_DRAIN_SECONDS', 20);
const PROBE_MS = env('BENCH_PROBE_MS', 200);
const POLL_MS = env('BENCH_POLL_MS', 15);
const LEAD_MS = env('BENCH_WINDOW_LEAD_MS', 5_000);
const STORE = process.env['BENCH_STORE'] ?? 'sqlite';
const BATCH = 100;
const CONNECTIONS = 16;

const log = (text: string): void => void process.stderr.write(`${text}\n`);

/** The slowest stage's lag, from the Prometheus gauge (`/metrics` needs no token). */
async function pipelineLag(client: JsonClient): Promise<number> {
  const { body } = await client.send('GET', '/metrics', undefined);
  let lag = 0;
  for (const match of body.matchAll(/^cdp_pipeline_lag_events\{[^}]*\} (\d+)/gm))
    lag = Math.max(lag, Number(match[1]));
  return lag;
}

async function startServer(storeEnv: Record<string, string>, ownerToken: string) {
  const port = await freePort();
  const server = await startProcess(
    ['--enable-source-maps', 'dist/cdp.mjs', 'start'],
    { ...storeEnv, PORT: String(port), CDP_LOG_LEVEL: 'warn', CDP_ADMIN_TOKEN: ownerToken },
    /CDP listening on/,
  );
  return { server, port };
}

async function measure(server: RunningProcess, port: number, ownerToken: string): Promise<void> {
  const admin = new JsonClient(port, 2);
  const ws = await createBenchWorkspace(admin, ownerToken);
  const poller = new MembershipPoller(new JsonClient(port, 8), ws.slug, ws.readerToken, POLL_MS);
  const runTag = randomBytes(3).toString('hex');
  const batches = buildTraffic({ events: RATE * SECONDS, batchSize: BATCH, seed: 7, endMs: Date.now() });
  log(`${batches.length} batches of ${BATCH} generator events ready; sending for ${SECONDS} s…`);

  let maxLag = 0;
  const sampler = setInterval(() => {
    pipelineLag(admin).then(
      (lag) => (maxLag = Math.max(maxLag, lag)),
      (error: unknown) => log(`lag sample failed: ${String(error)}`),
    );
  }, 1_000);
  const followers: Promise<ProbeOutcome>[] = [];
  let probes = 0;
  let nextProbeAt = performance.now();
  const loadAverageStart = loadavg()[0] ?? 0;
  const load = await sendOpenLoop<Probe>({
    target: {
      port,
      path: '/v1/batch',
      headers: { authorization: `Basic ${Buffer.from(`${ws.writeKey}:`).toString('base64')}` },
    },
    batches,
    requestsPerSecond: RATE / BATCH,
    connections: CONNECTIONS,
    extraFor: () => {
      if (performance.now() < nextProbeAt) return undefined;
      nextProbeAt += PROBE_MS;
      const kind = PROBE_KINDS[probes % PROBE_KINDS.length] ?? 'trait';
      const probe = createProbe(kind, `probe-${runTag}-${probes++}`, Date.now(), LEAD_MS);
      return { tag: probe, messages: probe.messages };
    },
    onAnswer: (probe, status, atMs) => followers.push(poller.follow(probe, status, atMs)),
  });
  clearInterval(sampler);
  const lagAtEnd = await pipelineLag(admin);
  const loadEnded = performance.now();
  poller.stopAt = loadEnded + DRAIN_SECONDS * 1000;
  log(`load done: ${load.ok} batches acked, lag ${lagAtEnd}; draining (≤ ${DRAIN_SECONDS} s)…`);
  let drainedAfter: number | null = null;
  while (performance.now() < poller.stopAt) {
    if ((await pipelineLag(admin)) === 0) {
      drainedAfter = (performance.now() - loadEnded) / 1000;
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const outcomes = await Promise.all(followers);
  const text = reportStreaming({
    store: STORE === 'postgres' ? 'PostgreSQL' : 'SQLite',
    rate: RATE,
    seconds: SECONDS,
    load,
    lagAtEnd,
    maxLag: Math.max(maxLag, lagAtEnd),
    drainedAfter,
    drainSeconds: DRAIN_SECONDS,
    outcomes,
    polls: poller.polls,
    loadAverage: { start: loadAverageStart, end: loadavg()[0] ?? 0 },
  });
  process.stdout.write(`${text}\n`);
  if (/error|fatal/i.test(server.output())) log(`server output:\n${server.output().slice(-4_000)}`);
  admin.close();
}

async function main(): Promise<void> {
  execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
  const scratch = mkdtempSync(path.join(tmpdir(), 'cdp-bench-streaming-'));
  const database = STORE === 'postgres' ? await createBenchDatabase() : undefined;
  if (STORE === 'postgres' && database === undefined) throw new Error('PostgreSQL not reachable');
  const ownerToken = `cdp_bench_${randomBytes(24).toString('hex')}`;
  try {
    const { server, port } = await startServer(
      { CDP_DATA_DIR: scratch, ...(database ? { CDP_DATABASE_URL: database.url } : {}) },
      ownerToken,
    );
    try {
      await measure(server, port, ownerToken);
    } finally {
      await server.stop();
    }
  } finally {
    await database?.drop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

await main();
