/**
 * Where the half-peak ack latency comes from: the platform (`dist/cdp.mjs`, SQLite) under the
 * ingest benchmark's load (peak closed loop, then half the peak open loop), with the server's
 * own event-loop lag over the half phase read from `/metrics` (prom-client resets it per
 * scrape). A stall of the event loop delays every request that arrives during it.
 * Usage: RUNS=3 [BENCH_NODE_FLAGS='--max-semi-space-size=8'] node --import tsx bench/ingest/half-peak-stalls.ts
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { batchBodies } from '../support/batch-bodies.ts';
import { closedLoop, openLoop, percentile } from '../support/load-client.ts';
import { freePort, startProcess } from '../support/processes.ts';

const RUNS = Number(process.env['RUNS'] ?? 3);
const BATCH = 100;
/** Extra flags for the server's node (to try V8 settings against the same load). */
const NODE_FLAGS = (process.env['BENCH_NODE_FLAGS'] ?? '').split(' ').filter((flag) => flag !== '');

function scrape(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get({ port, path: '/metrics' }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve(text));
      })
      .on('error', reject);
  });
}

const seconds = (text: string, name: string): number =>
  Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);

execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
// Peak (10 s) and half (8 s) at up to 80,000 events/s, with room: fresh bodies for both phases.
const load = batchBodies(16_000, { people: 20_000, seed: 7, batchSize: BATCH });
for (let run = 0; run < RUNS; run++) {
  const dir = mkdtempSync(path.join(tmpdir(), 'cdp-stalls-'));
  const port = await freePort();
  const server = await startProcess(
    [...NODE_FLAGS, '--enable-source-maps', 'dist/cdp.mjs', 'start'],
    { CDP_DATA_DIR: dir, PORT: String(port), CDP_LOG_LEVEL: 'warn' },
    /Admin token:\s+cdp_/,
  );
  try {
    const writeKey = /Write key:\s+(wk_[\w-]+)/.exec(server.output())?.[1] ?? '';
    const target = {
      port,
      path: '/v1/batch',
      headers: { authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}` },
    };
    const peak = await closedLoop(target, load, 16, 10);
    const afterPeak = await scrape(port);
    const rate = peak.ackedEvents / peak.seconds / 2 / BATCH;
    const half = await openLoop(target, load.slice(peak.requests), rate, 8, 16);
    const metrics = await scrape(port);
    const lag = (name: string) =>
      (seconds(metrics, `cdp_process_nodejs_eventloop_lag_${name}_seconds`) * 1000).toFixed(1);
    const mb = (text: string, name: string) => Math.round(seconds(text, name) / 1e6);
    const memory = (text: string) =>
      `heap ${mb(text, 'cdp_process_nodejs_heap_size_total_bytes')} MB, external ${mb(text, 'cdp_process_nodejs_external_memory_bytes')} MB, RSS ${mb(text, 'cdp_process_process_resident_memory_bytes')} MB`;
    process.stdout.write(
      `run ${run}: after the peak ${memory(afterPeak)}; after the half ${memory(metrics)}\n`,
    );
    process.stdout.write(
      `run ${run}: peak ${Math.round(peak.ackedEvents / peak.seconds)} events/s; half-peak p50 ${percentile(half.latenciesMs, 50).toFixed(1)} ms, p99 ${percentile(half.latenciesMs, 99).toFixed(1)} ms; event-loop lag p99 ${lag('p99')} ms, max ${lag('max')} ms; peak RSS ${Math.round(server.peakRss() / 1e6)} MB\n`,
    );
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
