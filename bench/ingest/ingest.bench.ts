/**
 * npm run bench:ingest — acked events/s, ack latency and RSS of (a) a bare durable SQLite
 * server and (b) the platform (SQLite, then PostgreSQL), in one run, under the same load:
 * /v1/batch with 100-event batches of generator traffic over 16 keep-alive connections.
 * Options (env): BENCH_SECONDS (default 10), BENCH_PEOPLE (default 20000).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  closedLoop,
  openLoop,
  percentile,
  type LoadResult,
  type LoadTarget,
} from '../support/load-client.ts';
import { createBenchDatabase } from '../support/postgres-db.ts';
import { batchBodies } from '../support/batch-bodies.ts';
import { freePort, startProcess, type RunningProcess } from '../support/processes.ts';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 10);
const PEOPLE = Number(process.env['BENCH_PEOPLE'] ?? 20_000);
const CONNECTIONS = 16;
const BATCH = 100;

interface Row {
  readonly name: string;
  readonly peak: LoadResult;
  readonly half?: LoadResult;
  readonly rssBytes: number;
}

const basic = (key: string) => ({ authorization: `Basic ${Buffer.from(`${key}:`).toString('base64')}` });

async function measure(
  name: string,
  server: RunningProcess,
  target: LoadTarget,
  bodies: { body: Buffer; events: number }[],
  withHalf: boolean,
): Promise<Row> {
  const peak = await closedLoop(target, bodies, CONNECTIONS, SECONDS);
  let half: LoadResult | undefined;
  if (withHalf) {
    const rate = peak.ackedEvents / peak.seconds / 2 / BATCH;
    // Fresh bodies (later in the stream) so nothing is a duplicate of the peak phase.
    half = await openLoop(target, bodies.slice(peak.requests), rate, Math.min(SECONDS, 8), CONNECTIONS);
  }
  const row = { name, peak, rssBytes: server.peakRss(), ...(half ? { half } : {}) };
  await server.stop();
  return row;
}

async function startPlatform(
  env: Record<string, string>,
): Promise<{ server: RunningProcess; target: LoadTarget }> {
  const port = await freePort();
  // What `npm start` runs: the bundle (built in main()).
  const server = await startProcess(
    ['--enable-source-maps', 'dist/cdp.mjs', 'start'],
    { ...env, PORT: String(port), CDP_LOG_LEVEL: 'warn' },
    /Admin token:\s+cdp_/,
  );
  const writeKey = /Write key:\s+(wk_[\w-]+)/.exec(server.output())?.[1];
  if (!writeKey) throw new Error(`no write key in banner:\n${server.output()}`);
  return { server, target: { port, path: '/v1/batch', headers: basic(writeKey) } };
}

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function main(): Promise<void> {
  const scratch = mkdtempSync(path.join(tmpdir(), 'cdp-bench-'));
  execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
  const budget = Math.ceil((SECONDS * 80_000 * 1.6) / BATCH);
  process.stderr.write(`generating up to ${budget} batches of ${BATCH} events (${PEOPLE} people)…\n`);
  const bodies = batchBodies(budget, { people: PEOPLE, seed: 7, batchSize: BATCH });
  process.stderr.write(`${bodies.length} batches ready\n`);
  const rows: Row[] = [];
  try {
    {
      const port = await freePort();
      const key = 'wk_bare_benchmark_key';
      const server = await startProcess(
        [
          '--import',
          'tsx',
          'bench/ingest/bare-server.ts',
          path.join(scratch, 'bare.sqlite'),
          String(port),
          key,
        ],
        {},
        /ready/,
      );
      rows.push(
        await measure(
          'bare node + SQLite',
          server,
          { port, path: '/v1/batch', headers: basic(key) },
          bodies,
          true,
        ),
      );
    }
    {
      const { server, target } = await startPlatform({ CDP_DATA_DIR: path.join(scratch, 'platform') });
      rows.push(await measure('platform, SQLite', server, target, bodies, true));
    }
    const db = await createBenchDatabase();
    if (db) {
      try {
        const { server, target } = await startPlatform({
          CDP_DATABASE_URL: db.url,
          CDP_DATA_DIR: path.join(scratch, 'pg-platform'),
        });
        rows.push(await measure('platform, PostgreSQL', server, target, bodies, true));
      } finally {
        await db.drop();
      }
    } else process.stderr.write('PostgreSQL not reachable: skipping the PostgreSQL row\n');
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  report(rows);
}

function report(rows: Row[]): void {
  const base = rows[0];
  const baseRate = base ? base.peak.ackedEvents / base.peak.seconds : 1;
  const lines = [
    `ingest benchmark: ${CONNECTIONS} connections, ${BATCH}-event batches, ${SECONDS} s per phase, ${new Date().toISOString()}`,
    '| target | acked events/s | × bare | p50 ms | p99 ms | non-200 | half-peak p50 ms | half-peak p99 ms | peak RSS MB |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const row of rows) {
    const rate = row.peak.ackedEvents / row.peak.seconds;
    lines.push(
      `| ${row.name} | ${fmt(rate)} | ${fmt(rate / baseRate, 2)} | ${fmt(percentile(row.peak.latenciesMs, 50), 1)} | ${fmt(percentile(row.peak.latenciesMs, 99), 1)} | ${row.peak.rejected} | ${row.half ? fmt(percentile(row.half.latenciesMs, 50), 1) : '–'} | ${row.half ? fmt(percentile(row.half.latenciesMs, 99), 1) : '–'} | ${fmt(row.rssBytes / 1024 / 1024)} |`,
    );
  }
  const text = lines.join('\n');
  process.stdout.write(`${text}\n`);
  mkdirSync('bench/out', { recursive: true });
  writeFileSync(`bench/out/ingest-${Date.now()}.md`, `${text}\n`);
}

await main();
