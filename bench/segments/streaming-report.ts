import { mkdirSync, writeFileSync } from 'node:fs';
import { percentile } from '../support/load-client.ts';
import { PROBE_KINDS, type ProbeOutcome } from './membership-probes.ts';
import type { OpenLoopResult } from './streaming-traffic.ts';

export interface StreamingRun {
  readonly store: string;
  readonly rate: number;
  readonly seconds: number;
  readonly load: OpenLoopResult;
  /** Log entries not yet settled by the slowest stage when the last batch was acked. */
  readonly lagAtEnd: number;
  readonly maxLag: number;
  /** Seconds after the load until the lag was 0, or null when it was not within the drain. */
  readonly drainedAfter: number | null;
  readonly drainSeconds: number;
  readonly outcomes: readonly ProbeOutcome[];
  readonly polls: number;
  readonly loadAverage: { readonly start: number; readonly end: number };
}

const fmt = (n: number, digits = 0): string =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : '–';

function stats(values: readonly number[]): { p50: string; p95: string; p99: string; max: string } {
  const list = [...values];
  return {
    p50: fmt(percentile(list, 50)),
    p95: fmt(percentile(list, 95)),
    p99: fmt(percentile(list, 99)),
    max: fmt(list.length === 0 ? Number.NaN : Math.max(...list)),
  };
}

const verdict = (ok: boolean): string => (ok ? 'met' : '**not met**');

/** The markdown report; also written to bench/out/. */
export function reportStreaming(run: StreamingRun): string {
  const acked = run.outcomes.filter((o) => o.acked);
  const entered = acked.flatMap((o) => (o.enterMs === null ? [] : [o.enterMs]));
  const never = acked.filter((o) => o.enterMs === null).length;
  const windows = acked.filter((o) => o.kind === 'window' && o.enterMs !== null);
  const exits = windows.flatMap((o) => (o.exitMs === null || o.exitMs === undefined ? [] : [o.exitMs]));
  const all = stats(entered);
  const exit = stats(exits);
  const ackedRate = run.load.ackedEvents / run.load.seconds;
  const p99 = percentile(entered, 99);
  const exitP99 = percentile(exits, 99);
  const exitMax = exits.length === 0 ? Number.NaN : Math.max(...exits);
  const lines = [
    `segments streaming benchmark: ${run.store}, offered ${fmt(run.rate)} events/s for ${run.seconds} s ` +
      `(open loop, /v1/batch of 100 generator events), ${new Date().toISOString()}, ` +
      `load average ${run.loadAverage.start.toFixed(1)} → ${run.loadAverage.end.toFixed(1)}`,
    '',
    '| acked events/s | non-200 | lag at end (events) | max lag | drained after | probes acked | ack→visible p50 ms | p95 ms | p99 ms | max ms | never visible | window lapse→exit p50 ms | p99 ms | max ms | exits not seen |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    `| ${fmt(ackedRate)} | ${run.load.rejected} | ${fmt(run.lagAtEnd)} | ${fmt(run.maxLag)} | ${run.drainedAfter === null ? `> ${run.drainSeconds} s` : `${run.drainedAfter.toFixed(1)} s`} | ${acked.length} / ${run.outcomes.length} | ${all.p50} | ${all.p95} | ${all.p99} | ${all.max} | ${never} | ${exit.p50} | ${exit.p99} | ${exit.max} | ${windows.length - exits.length} / ${windows.length} |`,
    '',
    '| probe | segment | acked | ack→visible p50 ms | p95 ms | p99 ms | max ms | never visible |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
  ];
  const slugs = {
    trait: 'plan-premium',
    count: 'repeat-buyers',
    funnel: 'browse-no-buy',
    window: 'active-last-minute',
  };
  for (const kind of PROBE_KINDS) {
    const mine = acked.filter((o) => o.kind === kind);
    const s = stats(mine.flatMap((o) => (o.enterMs === null ? [] : [o.enterMs])));
    lines.push(
      `| ${kind} | ${slugs[kind]} | ${mine.length} | ${s.p50} | ${s.p95} | ${s.p99} | ${s.max} | ${mine.filter((o) => o.enterMs === null).length} |`,
    );
  }
  lines.push(
    '',
    `Membership polls: ${fmt(run.polls)} lookups (analyst token). Probes not visible by the end of the drain (${run.drainSeconds} s) count as never visible; ` +
      `a window probe not processed before its window lapsed can never be seen as a member. ` +
      `The client sent its batches at most ${fmt(run.load.maxSendDelayMs)} ms behind schedule.`,
    '',
    '| target | measured | result |',
    '|---|---|---|',
    `| sustained ${fmt(run.rate)} events/s acked | ${fmt(ackedRate)} events/s, ${run.load.rejected} non-200 | ${verdict(ackedRate >= run.rate * 0.95 && run.load.rejected === 0)} |`,
    `| p99 ack→visible ≤ 1,000 ms | ${fmt(p99)} ms, ${never} never visible | ${verdict(p99 <= 1000 && never === 0)} |`,
    `| window expiry visible within 1,000 ms of the lapse | p99 ${fmt(exitP99)} ms, max ${fmt(exitMax)} ms, ${windows.length - exits.length} not seen | ${verdict(exitMax <= 1000 && exits.length === windows.length && windows.length > 0)} |`,
  );
  const text = lines.join('\n');
  mkdirSync('bench/out', { recursive: true });
  writeFileSync(`bench/out/segments-streaming-${Date.now()}.md`, `${text}\n`);
  return text;
}
