/**
 * Where the SQLite pipeline's time goes, statement by statement: one data set (generator events,
 * shuffled) appended to a fresh SQLite log, then the profiles stage run to zero lag with every
 * statement timed. Prints the wall time and the statements that took the most of it.
 * Usage: BENCH_PEOPLE=3000 [BENCH_SUPER_NODE_SIZE=1000] [BENCH_ORDER=shuffled|time|person]
 *   [BENCH_SEGMENTS=streaming] [BENCH_CACHE_MB=8] [BENCH_TOP=15]
 *   node --import tsx bench/identity/pipeline-sql-profile.ts
 * `time` is a replay of a real log (global time order); the default, `shuffled`, is the benchmark's.
 * `BENCH_SEGMENTS=streaming` defines the real-time segments of `npm run bench:segments:streaming`
 * first and ends the shop's period now, so that their windows hold members: the pipeline's cost
 * per event as the streaming benchmark's traffic has it, measured without its load's noise.
 * `BENCH_CACHE_MB`: the main connection's page cache (`CDP_SQLITE_CACHE_MB`); `BENCH_TOP`: how
 * many statements are listed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ShopOptions, StreamOrder } from '../generate/index.ts';
import { createSqliteStore } from '../../src/storage/sqlite/sqlite-store.ts';
import { buildBenchApp, runPipelineToZeroLag } from './pipeline-run.ts';
import { appendShopToLog } from './shop-log.ts';
import { STREAMING_SEGMENTS } from '../segments/streaming-workspace.ts';
import { installStatementTimer, resetStatementTimes, statementTimes } from './sql-statement-timer.ts';

const people = Number(process.env['BENCH_PEOPLE'] ?? 3_000);
const superNodeSize = Number(process.env['BENCH_SUPER_NODE_SIZE'] ?? 0);
const withSegments = process.env['BENCH_SEGMENTS'] === 'streaming';
const shop: ShopOptions = {
  people,
  seed: Number(process.env['BENCH_SEED'] ?? 7),
  ...(process.env['BENCH_ORDER'] ? { order: process.env['BENCH_ORDER'] as StreamOrder } : {}),
  ...(superNodeSize > 0 ? { superNode: { size: superNodeSize, kind: 'anonymousId' as const } } : {}),
  ...(withSegments ? { end: new Date() } : {}),
};

installStatementTimer();
const dir = mkdtempSync(path.join(tmpdir(), 'cdp-identity-sql-'));
// As the server runs it: WAL checkpoints in a worker thread.
const store = createSqliteStore({
  filename: path.join(dir, 'cdp.sqlite'),
  backgroundCheckpoints: true,
  cacheMegabytes: Number(process.env['BENCH_CACHE_MB'] ?? 8),
});
try {
  await store.migrate();
  const { app, workspaceId } = await buildBenchApp(store, { CDP_DATA_DIR: dir });
  if (withSegments)
    for (const { slug, definition } of STREAMING_SEGMENTS)
      await app.services.segments.create(workspaceId, { name: slug, slug, definition });
  const { events } = await appendShopToLog(store, workspaceId, shop, () => undefined);
  resetStatementTimes();
  const timing = await runPipelineToZeroLag(app, store);
  const statements = statementTimes();
  const total = statements.reduce((sum, s) => sum + s.ms, 0);
  const lines = [
    `${people} people${superNodeSize > 0 ? ` (super-node ${superNodeSize})` : ''}${withSegments ? ', streaming segments' : ''}: ${events} events, pipeline ${timing.seconds.toFixed(1)} s (${Math.round(events / timing.seconds)} events/s), CPU ${timing.cpuSeconds.toFixed(1)} s, SQL ${(total / 1000).toFixed(1)} s`,
    '| ms | % of wall | calls | statement |',
    '|---|---|---|---|',
    ...statements
      .slice(0, Number(process.env['BENCH_TOP'] ?? 15))
      .map(
        (s) =>
          `| ${Math.round(s.ms)} | ${((100 * s.ms) / 1000 / timing.seconds).toFixed(1)} | ${s.calls} | \`${s.sql}\` |`,
      ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
