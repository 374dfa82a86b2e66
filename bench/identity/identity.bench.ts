/**
 * npm run bench:identity — identity resolution and profiles (issue 3), in one run:
 * 1. pipeline throughput from the log to up-to-date profiles (generator events, shuffled), at two
 *    sizes, on SQLite and PostgreSQL, against the bare durable-append rate measured in the run;
 * 2. accuracy against the generator's ground truth, plus the super-node scenario;
 * 3. warehouse-style label propagation in PostgreSQL on the same identity edges, side by side;
 * 4. profile lookup latency over HTTP on the real server.
 * Options (env): BENCH_PEOPLE (default 5000; the smaller size is half), BENCH_SIZES (comma-separated
 * sizes instead, e.g. 1000000 alone), BENCH_SUPER_NODE_PEOPLE
 * (default 1000), BENCH_SUPER_NODE_SIZE (people sharing the kiosk, default 1000), BENCH_SECONDS (baseline, default 10), BENCH_LOOKUPS (default 5000),
 * BENCH_LOOKUP_CONNECTIONS (default 4), BENCH_POSTGRES=0 to skip PostgreSQL, BENCH_SEED.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import type { ShopOptions } from '../generate/index.ts';
import { createBenchDatabase } from '../support/postgres-db.ts';
import { measureBareAppendRate, type BareAppendRate } from './bare-append-rate.ts';
import { readBenchOptions } from './bench-options.ts';
import { compareClusters } from './cluster-comparison.ts';
import { runDataSet, type DataSetRun } from './data-set-run.ts';
import { IdentityEdges } from './identity-edges.ts';
import { labelPropagation, type LabelPropagationResult } from './label-propagation.ts';
import { measureLookupLatency } from './lookup-latency.ts';
import { writeReport, type LookupResult, type Stitching, type SuperNodeStitching } from './report.ts';

const options = readBenchOptions();
const progress = (text: string): void => void process.stderr.write(`[identity bench] ${text}\n`);

type BenchDatabase = NonNullable<Awaited<ReturnType<typeof createBenchDatabase>>>;

/** Runs `work` on a throwaway PostgreSQL database, dropped afterwards. */
async function withDatabase<T>(database: BenchDatabase, work: (url: string) => Promise<T>): Promise<T> {
  try {
    return await work(database.url);
  } finally {
    await database.drop();
  }
}

function labelsByKey(edges: IdentityEdges, result: LabelPropagationResult): Map<string, number> {
  const out = new Map<string, number>();
  for (const [key, node] of edges.nodes) {
    const label = result.labels.get(node);
    if (label !== undefined) out.set(key, label);
  }
  return out;
}

const withoutLabels = ({ labels: _labels, ...rest }: LabelPropagationResult) => rest;

function summarize(run: DataSetRun): string {
  const a = run.accuracy;
  return `${run.store} ${run.people} people: ${run.events} events in ${run.pipeline.seconds.toFixed(1)} s (${Math.round(run.events / run.pipeline.seconds)}/s), precision ${a.precision.toFixed(4)}, recall ${a.recall.toFixed(4)}`;
}

/** The most user_ids (one per person) that one cluster holds. */
function maxUserIds(clusterOf: ReadonlyMap<string, string | number>): number {
  const counts = new Map<string | number, number>();
  for (const [key, cluster] of clusterOf)
    if (key.startsWith('user_id:')) counts.set(cluster, (counts.get(cluster) ?? 0) + 1);
  return Math.max(0, ...counts.values());
}

async function main(): Promise<void> {
  const startedAt = new Date().toISOString();
  const loadBefore = loadavg()[0] ?? 0;
  const scratch = mkdtempSync(path.join(tmpdir(), 'cdp-identity-bench-'));
  execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
  let postgres: 'ran' | 'not reachable' | 'disabled' = options.postgres ? 'ran' : 'disabled';
  const database = async (): Promise<BenchDatabase | undefined> => {
    if (postgres !== 'ran') return undefined;
    const created = await createBenchDatabase();
    if (created === undefined) postgres = 'not reachable';
    return created;
  };
  try {
    // Measured at the start and again at the end: a run lasts minutes on a shared machine, and
    // ratios are taken against the faster of the two (the conservative choice).
    const measureBaseline = async (): Promise<BareAppendRate> => {
      progress(`bare durable-append baseline, ${options.baselineSeconds} s…`);
      const baseline = await measureBareAppendRate(scratch, options.baselineSeconds, options.seed);
      progress(`baseline ${Math.round(baseline.eventsPerSecond)} events/s`);
      return baseline;
    };
    const firstBaseline = await measureBaseline();

    const runs: DataSetRun[] = [];
    const stitching: Stitching[] = [];
    const lookups: LookupResult[] = [];
    for (const people of options.sizes) {
      const shop: ShopOptions = { people, seed: options.seed };
      const edges = new IdentityEdges();
      progress(`${people} people on SQLite…`);
      const sqlite = await runDataSet(
        { kind: 'sqlite', dir: path.join(scratch, `sqlite-${people}`) },
        shop,
        edges,
        progress,
      );
      runs.push(sqlite);
      progress(summarize(sqlite));
      {
        progress(`lookups over HTTP (${sqlite.state.liveProfiles} profiles)…`);
        const targets = new Map<string, string>();
        for (const [key, profile] of sqlite.owners)
          if (key.startsWith('email:')) targets.set(key.slice('email:'.length), profile);
        const latency = await measureLookupLatency({
          server: sqlite.serverEnv,
          workspaceId: sqlite.workspaceId,
          targets,
          lookups: options.lookups,
          connections: options.lookupConnections,
          seed: options.seed,
        });
        lookups.push({ people, latency, profiles: sqlite.state.liveProfiles });
        progress(
          `lookup p99 ${latency.masked.p99Ms.toFixed(2)} ms (masked), ${latency.audited.p99Ms.toFixed(2)} ms (audited)`,
        );
      }
      const pipelineDb = await database();
      if (pipelineDb === undefined) continue;
      progress(`${people} people on PostgreSQL…`);
      const pg = await withDatabase(pipelineDb, (url) => runDataSet({ kind: 'postgres', url }, shop));
      runs.push(pg);
      progress(summarize(pg));
      const stitchDb = await database();
      if (stitchDb === undefined) continue;
      progress(`label propagation over ${edges.nodes.size} identifiers, ${edges.edgeCount} edges…`);
      const propagation = await withDatabase(stitchDb, (url) => labelPropagation(url, edges));
      const labels = labelsByKey(edges, propagation);
      stitching.push({
        people,
        events: sqlite.events,
        propagation: withoutLabels(propagation),
        vsSqlite: compareClusters(sqlite.owners, labels),
        vsPostgres: compareClusters(pg.owners, labels),
        sqliteSeconds: sqlite.pipeline.seconds,
        postgresSeconds: pg.pipeline.seconds,
      });
      progress(`label propagation ${propagation.seconds.toFixed(2)} s, ${propagation.iterations} iterations`);
    }

    progress(
      `super-node scenario: ${options.superNodePeople} people, ${options.superNodeSize} share a kiosk…`,
    );
    const superEdges = new IdentityEdges();
    const superNode = await runDataSet(
      { kind: 'sqlite', dir: path.join(scratch, 'super-node') },
      {
        people: options.superNodePeople,
        seed: options.seed,
        superNode: { size: options.superNodeSize, kind: 'anonymousId' },
      },
      superEdges,
    );
    progress(summarize(superNode));
    let superNodeStitching: SuperNodeStitching | undefined;
    const superDb = await database();
    if (superDb !== undefined) {
      const propagation = await withDatabase(superDb, (url) => labelPropagation(url, superEdges));
      superNodeStitching = {
        propagation: withoutLabels(propagation),
        userIdsInLargestCluster: maxUserIds(labelsByKey(superEdges, propagation)),
        maxUserIdsPerProfile: maxUserIds(superNode.owners),
      };
    }
    const lastBaseline = await measureBaseline();
    writeReport({
      startedAt,
      loadAverage: { before: loadBefore, after: loadavg()[0] ?? 0 },
      baselines: [firstBaseline, lastBaseline],
      runs,
      superNode,
      superNodeSize: options.superNodeSize,
      superNodeStitching,
      stitching,
      lookups,
      lookupConnections: options.lookupConnections,
      postgres,
    });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

await main();
