/**
 * Diagnostic, preloaded into a server to tell where its slow requests went, without changing
 * the server: `BENCH_NODE_FLAGS="--import tsx --import ./bench/support/slow-request-probe.ts"`
 * with any benchmark that starts `dist/cdp.mjs`. For each request to a path containing
 * `PROBE_PATH` (default `/lookup`) slower than `PROBE_SLOW_MS` (default 5), one JSON line in
 * `PROBE_OUT` says what overlapped it: collector pauses, stretches of over 3 ms in which the
 * event loop did not turn (with the main thread's CPU time and run-queue wait in them, from
 * /proc: its own work, or the machine's other work holding it off the core), fsyncs of the
 * WAL files, and its SQLite statements (how many, their total, those over 0.3 ms). A line per
 * 500 requests gives the same for an ordinary one; the last line sums the fsyncs up.
 * Everything here costs time in the server (a timer every millisecond, a /proc read each
 * time, a stack trace per timer): compare slow requests with ordinary ones of the same run,
 * never its latencies with another run's.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import fs from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { subscribe } from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';
import { PerformanceObserver, performance } from 'node:perf_hooks';

const OUT = process.env['PROBE_OUT'] ?? 'slow-requests.jsonl';
const SLOW_MS = Number(process.env['PROBE_SLOW_MS'] ?? 5);
const PATH = process.env['PROBE_PATH'] ?? '/lookup';
const STALL_MS = 3;

interface Interval {
  readonly kind: 'gc' | 'stall' | 'fsync';
  readonly startMs: number;
  readonly endMs: number;
  readonly detail?: string;
}

const recent: Interval[] = [];
const remember = (interval: Interval): void => {
  recent.push(interval);
  if (recent.length > 5_000) recent.splice(0, 1_000);
};

new PerformanceObserver((list) => {
  for (const entry of list.getEntries())
    remember({ kind: 'gc', startMs: entry.startTime, endMs: entry.startTime + entry.duration });
}).observe({ entryTypes: ['gc'] });

// The main thread's CPU time and run-queue wait (ns): /proc/<pid>/task/<pid>/schedstat.
const schedstat = (): [number, number] => {
  const [cpu, wait] = readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ').map(Number);
  return [cpu ?? 0, wait ?? 0];
};
let lastTickMs = performance.now();
let lastSched = schedstat();
setInterval(() => {
  const nowMs = performance.now();
  const sched = schedstat();
  if (nowMs - lastTickMs > STALL_MS)
    remember({
      kind: 'stall',
      startMs: lastTickMs,
      endMs: nowMs,
      detail: `cpu ${((sched[0] - lastSched[0]) / 1e6).toFixed(1)} ms, run-queue wait ${((sched[1] - lastSched[1]) / 1e6).toFixed(1)} ms`,
    });
  lastTickMs = nowMs;
  lastSched = sched;
}, 1).unref();

// The WAL fsyncs run through fs.fsync on libuv's pool (storage/sqlite/wal-file-sync.ts).
const fsyncMs: number[] = [];
const originalFsync = fs.fsync;
fs.fsync = ((fd: number, callback: (error: NodeJS.ErrnoException | null) => void): void => {
  const startMs = performance.now();
  originalFsync(fd, (error) => {
    const endMs = performance.now();
    fsyncMs.push(endMs - startMs);
    remember({ kind: 'fsync', startMs, endMs });
    callback(error);
  });
}) as typeof fs.fsync;
syncBuiltinESMExports();

// Every statement of the server's better-sqlite3 (the same module instance as the server's).
let statements: [number, string][] = [];
{
  const BetterSqlite3 = createRequire(`${process.cwd()}/package.json`)('better-sqlite3') as new (
    file: string,
  ) => { prepare(sql: string): object; close(): void };
  const probe = new BetterSqlite3(':memory:');
  const prototype = Object.getPrototypeOf(probe.prepare('select 1')) as Record<string, unknown>;
  probe.close();
  for (const name of ['run', 'all', 'get', 'iterate']) {
    const original = prototype[name] as (this: { source: string }, ...args: unknown[]) => unknown;
    prototype[name] = function (this: { source: string }, ...args: unknown[]): unknown {
      const startMs = performance.now();
      try {
        return original.apply(this, args);
      } finally {
        statements.push([performance.now() - startMs, this.source.slice(0, 80)]);
      }
    };
  }
}

const started = new WeakMap<IncomingMessage, number>();
let measured = 0;
let slow = 0;
subscribe('http.server.request.start', (message) => {
  const { request } = message as { request: IncomingMessage };
  started.set(request, performance.now());
  statements = [];
});
subscribe('http.server.response.finish', (message) => {
  const { request } = message as { request: IncomingMessage };
  const startMs = started.get(request);
  if (startMs === undefined || !(request.url ?? '').includes(PATH)) return;
  const endMs = performance.now();
  const ms = endMs - startMs;
  measured += 1;
  const sqlMs = statements.reduce((sum, [time]) => sum + time, 0);
  const summary = { ms: round(ms), sqlMs: round(sqlMs), statements: statements.length };
  if (ms > SLOW_MS) {
    slow += 1;
    const overlapping = recent
      .filter((i) => i.endMs > startMs && i.startMs < endMs)
      .map((i) => ({
        kind: i.kind,
        ms: round(i.endMs - i.startMs),
        fromRequestStartMs: round(i.startMs - startMs),
        ...(i.detail === undefined ? {} : { detail: i.detail }),
      }));
    const slowStatements = statements
      .filter(([time]) => time > 0.3)
      .map(([time, s]) => `${round(time)} ms ${s}`);
    appendFileSync(OUT, `${JSON.stringify({ slow: summary, slowStatements, overlapping })}\n`);
  } else if (measured % 500 === 0) appendFileSync(OUT, `${JSON.stringify({ ordinary: summary })}\n`);
});

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

const writeTotals = (): void => {
  const sorted = [...fsyncMs].sort((a, b) => a - b);
  const at = (q: number): number => round(sorted[Math.floor((sorted.length - 1) * q)] ?? 0);
  appendFileSync(
    OUT,
    `${JSON.stringify({ totals: { requests: measured, slow, fsyncs: sorted.length, fsyncP50Ms: at(0.5), fsyncP99Ms: at(0.99), fsyncMaxMs: at(1) } })}\n`,
  );
};
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.prependListener(signal, writeTotals);
