import { mkdirSync, writeFileSync } from 'node:fs';
import { percentile } from '../support/load-client.ts';
import {
  ENTRY_PROBE_KINDS,
  WINDOW_SEGMENT,
  type EntryOutcome,
  type ExpiryOutcome,
  type ProbeKind,
} from './membership-probes.ts';
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
  readonly entries: readonly EntryOutcome[];
  readonly expiries: readonly ExpiryOutcome[];
  /** Window probes that were not members before their window lapsed: not measured. */
  readonly windowsNotEntered: number;
  readonly polls: number;
  readonly pollMs: number;
  readonly loadAverage: { readonly start: number; readonly end: number };
}

const SEGMENT_OF: Readonly<Record<ProbeKind, string>> = {
  trait: 'plan-premium',
  count: 'repeat-buyers',
  funnel: 'browse-no-buy',
  window: WINDOW_SEGMENT,
};

/** Infinity stands for "never seen by the end of the run". */
const fmt = (n: number, digits = 0): string =>
  n === Infinity
    ? 'not seen'
    : Number.isFinite(n)
      ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
      : '–';

interface Summary {
  readonly cells: string;
  readonly p99: number;
  readonly max: number;
  readonly unseen: number;
}

/** p50 | p95 | p99 | max over every probe, those never seen counted as slower than any seen. */
function summarize(values: readonly (number | null)[]): Summary {
  const list = values.map((v) => v ?? Infinity);
  const max = list.length === 0 ? Number.NaN : Math.max(...list);
  const [p50, p95, p99] = [50, 95, 99].map((p) => percentile(list, p)) as [number, number, number];
  return {
    cells: `${fmt(p50)} | ${fmt(p95)} | ${fmt(p99)} | ${fmt(max)}`,
    p99,
    max,
    unseen: list.filter((v) => v === Infinity).length,
  };
}

const ms = (n: number): string => (Number.isFinite(n) ? `${fmt(n)} ms` : fmt(n));

const verdict = (ok: boolean): string => (ok ? 'met' : '**not met**');

/** The markdown report; also written to bench/out/. */
export function reportStreaming(run: StreamingRun): string {
  const acked = run.entries.filter((o) => o.acked);
  const entry = summarize(acked.map((o) => o.enterMs));
  const exit = summarize(run.expiries.map((o) => o.exitMs));
  const exitEvent = summarize(run.expiries.map((o) => o.exitedEventMs));
  const ackedRate = run.load.ackedEvents / run.load.seconds;
  const ackList = [...run.load.ackMs].sort((a, b) => a - b);
  const ackCells = `${percentile(ackList, 50).toFixed(1)} / ${percentile(ackList, 99).toFixed(1)}`;
  const drained = run.drainedAfter === null ? `> ${run.drainSeconds} s` : `${run.drainedAfter.toFixed(1)} s`;
  const lines = [
    `segments streaming benchmark: ${run.store}, offered ${fmt(run.rate)} events/s for ${run.seconds} s ` +
      `(open loop, /v1/batch of 100 generator events), ${new Date().toISOString()}, ` +
      `load average ${run.loadAverage.start.toFixed(1)} → ${run.loadAverage.end.toFixed(1)}`,
    '',
    '| acked events/s | ack p50 / p99 ms | non-200 | lag at end (events) | max lag | drained after |',
    '|---:|---:|---:|---:|---:|---:|',
    `| ${fmt(ackedRate)} | ${ackCells} | ${run.load.rejected} | ${fmt(run.lagAtEnd)} | ${fmt(run.maxLag)} | ${drained} |`,
    '',
    '| ack → membership visible | segment | probes acked | p50 ms | p95 ms | p99 ms | max ms | never visible |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
    `| **all** | | ${acked.length} / ${run.entries.length} | ${entry.cells} | ${entry.unseen} |`,
  ];
  for (const kind of ENTRY_PROBE_KINDS) {
    const s = summarize(acked.filter((o) => o.kind === kind).map((o) => o.enterMs));
    lines.push(
      `| ${kind} | ${SEGMENT_OF[kind]} | ${acked.filter((o) => o.kind === kind).length} | ${s.cells} | ${s.unseen} |`,
    );
  }
  lines.push(
    '',
    '| window lapse → | segment | probes | p50 ms | p95 ms | p99 ms | max ms | not seen |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
    `| membership gone | ${WINDOW_SEGMENT} | ${run.expiries.length} | ${exit.cells} | ${exit.unseen} |`,
    `| Audience Exited listed | ${WINDOW_SEGMENT} | ${run.expiries.length} | ${exitEvent.cells} | ${exitEvent.unseen} |`,
    '',
    `Polls: ${fmt(run.polls)} (profile lookups with an analyst token, events list with an admin token), ` +
      `every ≥ ${run.pollMs} ms and within 5% of the time waited. Not seen = not visible by the end of the ` +
      `${run.drainSeconds} s drain, counted as slower than any seen. ${run.windowsNotEntered} window probes ` +
      `were not members before their window lapsed (not measured). The client sent its batches at most ` +
      `${fmt(run.load.maxSendDelayMs)} ms behind schedule.`,
    '',
    '| target | measured | result |',
    '|---|---|---|',
    `| sustained ${fmt(run.rate)} events/s acked | ${fmt(ackedRate)} events/s, ${run.load.rejected} non-200 | ${verdict(ackedRate >= run.rate * 0.95 && run.load.rejected === 0)} |`,
    `| p99 ack → visible ≤ 1,000 ms | p99 ${ms(entry.p99)}, ${entry.unseen} never visible | ${verdict(entry.p99 <= 1000)} |`,
    `| window expiry visible ≤ 1,000 ms after the lapse (max, Audience Exited listed) | max ${ms(exitEvent.max)} | ${verdict(exitEvent.max <= 1000 && run.expiries.length > 0)} |`,
  );
  const text = lines.join('\n');
  mkdirSync('bench/out', { recursive: true });
  writeFileSync(`bench/out/segments-streaming-${Date.now()}.md`, `${text}\n`);
  return text;
}
