/**
 * npm run bench:segments:streaming — real-time segments on the real server (`dist/cdp.mjs start`,
 * as `npm start` runs it): generator traffic through `/v1/batch` at a fixed open-loop rate, and
 * entry probes spliced into it, each making a fresh profile qualify for one segment, timed from
 * the batch's ack to the membership being visible through the admin API (`profiles/lookup`,
 * polled). Window probes, sent just before the load and stamped so that their `in last 1 minute`
 * lapses during it, time the exit and its `Audience Exited` from the instant the window lapses.
 * Options (env): BENCH_RATE (events/s, default 5000), BENCH_SECONDS (30), BENCH_DRAIN_SECONDS
 * (20), BENCH_PROBE_MS (200: one entry probe per interval, kinds in turn), BENCH_POLL_MS (15),
 * BENCH_EXPIRY_MS (500: one window lapse per interval), BENCH_STORE (sqlite | postgres),
 * BENCH_NODE_FLAGS (extra node flags for the server).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { JsonClient } from '../support/http-json.ts';
import { post, type LoadTarget } from '../support/load-client.ts';
import { createBenchDatabase } from '../support/postgres-db.ts';
import { freePort, startProcess, type RunningProcess } from '../support/processes.ts';
import {
  createEntryProbe,
  createWindowProbe,
  ENTRY_PROBE_KINDS,
  MembershipPoller,
  type EntryOutcome,
  type Probe,
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
const EXPIRY_MS = env('BENCH_EXPIRY_MS', 500);
const STORE = process.env['BENCH_STORE'] ?? 'sqlite';
/** Extra flags for the server's node (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`). */
const NODE_FLAGS = (process.env['BENCH_NODE_FLAGS'] ?? '').split(' ').filter((flag) => flag !== '');
const BATCH = 100;
const CONNECTIONS = 16;
/** The first window lapses this long after the window probes are sent (the load starts before). */
const FIRST_LAPSE_MS = 5_000;
/** The contract gives a server 10 s to exit on SIGTERM. */
const STOP_GRACE_MS = 15_000;

const log = (text: string): void => void process.stderr.write(`${text}\n`);

/** The slowest stage's lag, from the Prometheus gauge (`/metrics` needs no token). */
async function pipelineLag(client: JsonClient): Promise<number> {
  const { body } = await client.send('GET', '/metrics', undefined);
  let lag = 0;
  for (const match of body.matchAll(/^cdp_pipeline_lag_events\{[^}]*\} (\d+)/gm))
    lag = Math.max(lag, Number(match[1]));
  return lag;
}

/**
 * Window probes lapsing every EXPIRY_MS from FIRST_LAPSE_MS on until the load ends, sent now and
 * followed until they are members (the pipeline is idle: this takes well under FIRST_LAPSE_MS).
 */
async function seedWindowProbes(
  target: LoadTarget,
  poller: MembershipPoller,
  runTag: string,
): Promise<{ ready: Probe[]; notEntered: number }> {
  const now = Date.now();
  const probes: Probe[] = [];
  for (let lapse = now + FIRST_LAPSE_MS; lapse < now + SECONDS * 1000; lapse += EXPIRY_MS)
    probes.push(createWindowProbe(`window-${runTag}-${probes.length}`, lapse));
  const agent = new Agent({ keepAlive: false });
  const body = Buffer.from(JSON.stringify({ batch: probes.flatMap((p) => p.messages) }));
  const status = await post(agent, target, body);
  const ackMs = performance.now();
  agent.destroy();
  poller.stopAt = ackMs + FIRST_LAPSE_MS - 1_000;
  const entered = await Promise.all(probes.map((p) => poller.followEntry(p, status, ackMs)));
  poller.stopAt = Infinity;
  const ready = probes.filter((_, i) => entered[i]?.enterMs !== null);
  return { ready, notEntered: probes.length - ready.length };
}

/** Samples the lag every second while `work` runs; returns the largest seen. */
async function withLagSampler<T>(client: JsonClient, work: () => Promise<T>): Promise<[T, number]> {
  let maxLag = 0;
  const sampler = setInterval(() => {
    pipelineLag(client).then(
      (lag) => (maxLag = Math.max(maxLag, lag)),
      (error: unknown) => log(`lag sample failed: ${String(error)}`),
    );
  }, 1_000);
  try {
    return [await work(), maxLag];
  } finally {
    clearInterval(sampler);
  }
}

/** Seconds from `fromMs` until the lag is 0, or null if it is not by `untilMs`. */
async function drain(client: JsonClient, fromMs: number, untilMs: number): Promise<number | null> {
  while (performance.now() < untilMs) {
    if ((await pipelineLag(client)) === 0) return (performance.now() - fromMs) / 1000;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return null;
}

async function measure(server: RunningProcess, port: number, ownerToken: string): Promise<void> {
  const admin = new JsonClient(port, 2);
  const ws = await createBenchWorkspace(admin, ownerToken);
  const tokens = { reader: ws.readerToken, events: ws.adminToken };
  const poller = new MembershipPoller(new JsonClient(port, 8), ws.slug, tokens, POLL_MS);
  const runTag = randomBytes(3).toString('hex');
  const batches = buildTraffic({ events: RATE * SECONDS, batchSize: BATCH, seed: 7, endMs: Date.now() });
  const target: LoadTarget = {
    port,
    path: '/v1/batch',
    headers: { authorization: `Basic ${Buffer.from(`${ws.writeKey}:`).toString('base64')}` },
  };
  const windows = await seedWindowProbes(target, poller, runTag);
  const expiries = Promise.all(windows.ready.map((probe) => poller.followExpiry(probe)));
  log(
    `${windows.ready.length} window probes are members; sending ${batches.length} batches for ${SECONDS} s…`,
  );

  const entries: Promise<EntryOutcome>[] = [];
  let probes = 0;
  let nextProbeAt = performance.now();
  const loadAverageStart = loadavg()[0] ?? 0;
  const [load, maxLag] = await withLagSampler(admin, () =>
    sendOpenLoop<Probe>({
      target,
      batches,
      requestsPerSecond: RATE / BATCH,
      connections: CONNECTIONS,
      extraFor: () => {
        if (performance.now() < nextProbeAt) return undefined;
        nextProbeAt += PROBE_MS;
        const kind = ENTRY_PROBE_KINDS[probes % ENTRY_PROBE_KINDS.length] ?? 'trait';
        const probe = createEntryProbe(kind, `probe-${runTag}-${probes++}`);
        return { tag: probe, messages: probe.messages };
      },
      onAnswer: (probe, status, atMs) => entries.push(poller.followEntry(probe, status, atMs)),
    }),
  );
  const lagAtEnd = await pipelineLag(admin);
  const loadEnded = performance.now();
  poller.stopAt = loadEnded + DRAIN_SECONDS * 1000;
  log(`load done: ${load.ok} batches acked, lag ${lagAtEnd}; draining (≤ ${DRAIN_SECONDS} s)…`);
  const drainedAfter = await drain(admin, loadEnded, poller.stopAt);
  const text = reportStreaming({
    store: STORE === 'postgres' ? 'PostgreSQL' : 'SQLite',
    rate: RATE,
    seconds: SECONDS,
    load,
    lagAtEnd,
    maxLag: Math.max(maxLag, lagAtEnd),
    drainedAfter,
    drainSeconds: DRAIN_SECONDS,
    entries: await Promise.all(entries),
    expiries: await expiries,
    windowsNotEntered: windows.notEntered,
    polls: poller.polls,
    pollMs: POLL_MS,
    loadAverage: { start: loadAverageStart, end: loadavg()[0] ?? 0 },
  });
  process.stdout.write(`${text}\n`);
  const problems = logLines(server).filter((line) => /"level":(50|60)/.test(line));
  if (problems.length > 0) log(`server errors during the run:\n${problems.slice(-10).join('\n')}`);
  admin.close();
}

/** The server's JSON log lines: never its banner, which shows the throwaway instance's secrets. */
function logLines(server: RunningProcess): string[] {
  return server
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'));
}

/**
 * SIGTERM, then SIGKILL after `graceMs`: a server still working through a backlog must not
 * outlive the benchmark on a shared machine. Says so when it had to kill.
 */
async function stopWithin(server: RunningProcess, graceMs: number): Promise<void> {
  const started = performance.now();
  const killer = setTimeout(() => {
    log(`server still running ${graceMs / 1000} s after SIGTERM: killing it; its last log lines:`);
    log(logLines(server).slice(-10).join('\n'));
    server.child.kill('SIGKILL');
  }, graceMs);
  await server.stop();
  clearTimeout(killer);
  log(`server stopped ${((performance.now() - started) / 1000).toFixed(1)} s after SIGTERM`);
}

async function main(): Promise<void> {
  execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
  const scratch = mkdtempSync(path.join(tmpdir(), 'cdp-bench-streaming-'));
  const database = STORE === 'postgres' ? await createBenchDatabase() : undefined;
  if (STORE === 'postgres' && database === undefined) throw new Error('PostgreSQL not reachable');
  const ownerToken = `cdp_bench_${randomBytes(24).toString('hex')}`;
  try {
    const port = await freePort();
    const server = await startProcess(
      ['--enable-source-maps', ...NODE_FLAGS, 'dist/cdp.mjs', 'start'],
      {
        CDP_DATA_DIR: scratch,
        ...(database ? { CDP_DATABASE_URL: database.url } : {}),
        PORT: String(port),
        CDP_LOG_LEVEL: 'warn',
        CDP_ADMIN_TOKEN: ownerToken,
        // The probes poll lookups far above the per-token default, and the load is the point.
        CDP_RATE_LIMIT_API: '0',
        CDP_RATE_LIMIT_INGEST: '0',
      },
      /CDP listening on/,
    );
    try {
      await measure(server, port, ownerToken);
    } finally {
      await stopWithin(server, STOP_GRACE_MS);
    }
  } finally {
    await database?.drop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

await main();
