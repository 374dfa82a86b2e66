/**
 * Interleaved ingest comparison for a noisy machine: the bare server and one or more builds of
 * the platform run side by side, and short closed-loop phases alternate between them (order
 * reversed every round), so load from other work hits every target alike. Each phase gets
 * fresh messageIds (nothing is a duplicate). Prints per phase acked events/s, server CPU
 * milliseconds per 1,000 events (all threads), p99, and per round the ratio to the bare
 * server; then medians.
 * Usage: node --import tsx bench/ingest/interleaved.ts [name=dir …]   (default: platform=.)
 *   Each dir must hold a built dist/cdp.mjs (node scripts/build.mjs in that tree).
 * Options (env): BENCH_SECONDS per phase (default 5), BENCH_ROUNDS (default 4).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateShop } from '../generate/index.ts';
import { closedLoop, percentile, type LoadTarget } from '../support/load-client.ts';
import { freePort, startProcess, type RunningProcess } from '../support/processes.ts';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 5);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 4);
const CONNECTIONS = 16;
const BATCH = 100;

interface Body {
  readonly body: Buffer;
  readonly events: number;
  /** Offsets of every messageId value, rewritten before each phase. */
  readonly ids: number[];
}

function buildBodies(count: number): Body[] {
  const bodies: Body[] = [];
  let batch: unknown[] = [];
  for (const { message } of generateShop({ people: 20_000, seed: 7, order: 'shuffled' })) {
    batch.push(message);
    if (batch.length < BATCH) continue;
    const body = Buffer.from(JSON.stringify({ batch }));
    const ids: number[] = [];
    for (let at = body.indexOf('"messageId":"'); at >= 0; at = body.indexOf('"messageId":"', at + 1))
      ids.push(at + 13);
    bodies.push({ body, events: BATCH, ids });
    batch = [];
    if (bodies.length >= count) break;
  }
  return bodies;
}

/** A new prefix for every messageId (UUIDs keep their shape): the next phase sends fresh events. */
function refresh(bodies: readonly Body[], phase: number): void {
  const prefix = phase.toString(16).padStart(4, '0').slice(-4);
  for (const { body, ids } of bodies) for (const at of ids) body.write(prefix, at, 'latin1');
}

function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10; // utime + stime, 100 ticks per second
}

interface Target {
  readonly name: string;
  readonly server: RunningProcess;
  readonly target: LoadTarget;
  readonly rates: number[];
  readonly cpu: number[];
}

const basic = (key: string) => ({ authorization: `Basic ${Buffer.from(`${key}:`).toString('base64')}` });
const median = (values: number[]): number =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

async function main(): Promise<void> {
  const specs = (process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['platform=.']).map((spec) => {
    const [name, dir] = spec.split('=');
    if (!name || !dir) throw new Error(`expected name=dir, got ${spec}`);
    return { name, dir: path.resolve(dir) };
  });
  execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
  const bodies = buildBodies(Math.ceil((SECONDS * 80_000) / BATCH));
  const scratch = mkdtempSync(path.join(tmpdir(), 'cdp-interleaved-'));
  const targets: Target[] = [];
  try {
    const port = await freePort();
    const key = 'wk_bare_benchmark_key';
    const bare = await startProcess(
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
    targets.push({
      name: 'bare',
      server: bare,
      target: { port, path: '/v1/batch', headers: basic(key) },
      rates: [],
      cpu: [],
    });
    for (const { name, dir } of specs) {
      const port = await freePort();
      const server = await startProcess(
        ['--enable-source-maps', path.join(dir, 'dist/cdp.mjs'), 'start'],
        { PORT: String(port), CDP_LOG_LEVEL: 'warn', CDP_DATA_DIR: path.join(scratch, name) },
        /Admin token:\s+cdp_/,
      );
      const writeKey = /Write key:\s+(wk_[\w-]+)/.exec(server.output())?.[1];
      if (!writeKey) throw new Error(`no write key in banner:\n${server.output()}`);
      targets.push({
        name,
        server,
        target: { port, path: '/v1/batch', headers: basic(writeKey) },
        rates: [],
        cpu: [],
      });
    }
    let phase = 0;
    for (let round = 0; round < ROUNDS; round++) {
      for (const t of round % 2 === 0 ? targets : [...targets].reverse()) {
        refresh(bodies, ++phase);
        const pid = t.server.child.pid ?? 0;
        const before = cpuMs(pid);
        const result = await closedLoop(t.target, bodies, CONNECTIONS, SECONDS);
        const rate = result.ackedEvents / result.seconds;
        t.rates.push(rate);
        t.cpu.push((cpuMs(pid) - before) / (result.ackedEvents / 1000));
        process.stdout.write(
          `round ${round} ${t.name.padEnd(10)} ${Math.round(rate).toString().padStart(7)} events/s  ` +
            `${(t.cpu.at(-1) ?? 0).toFixed(1)} CPU ms/1k events  p99 ${percentile(result.latenciesMs, 99).toFixed(1)} ms` +
            `${result.rejected > 0 ? `  non-200 ${result.rejected}` : ''}\n`,
        );
      }
    }
    const base = targets[0] as Target;
    for (const t of targets) {
      const ratios = t.rates.map((rate, i) => rate / (base.rates[i] ?? Number.NaN));
      process.stdout.write(
        `${t.name.padEnd(10)} median ${Math.round(median(t.rates))} events/s, ${median(t.cpu).toFixed(1)} CPU ms/1k events, ` +
          `peak RSS ${Math.round(t.server.peakRss() / 1048576)} MB, × bare per round ${ratios.map((r) => r.toFixed(2)).join(' ')} (median ${median(ratios).toFixed(2)})\n`,
      );
    }
  } finally {
    for (const t of targets) await t.server.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

await main();
