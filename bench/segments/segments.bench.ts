/**
 * npm run bench:segments [-- --people 100000 --stores sqlite,postgres --runs 3]
 *
 * Builds a shop of generator people (profiles filled from the generator's ground truth, see
 * load-shop.ts), creates 20 typical segments through the segment service (full backfill: compiled
 * SQL per chunk of profiles, memberships and history written), then times, in the same run and on
 * the same database, the compiled member query against hand-written SQL for each audience (best
 * of `runs`, both counting the same members). Target: compiled ≤ 1.5 × hand-written.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { buildSegmentServices } from '../../src/app/segment-services.ts';
import { CONSENT_SETTINGS } from '../../src/privacy/consent.service.ts';
import { parseSegmentDefinition, type Expression } from '../../src/segment-language/index.ts';
import { createManualClock } from '../../src/shared/clock.ts';
import { createPostgresStore } from '../../src/storage/postgres/postgres-store.ts';
import { compileSegmentQuery } from '../../src/storage/segment-sql/compile-segment.ts';
import type { SqlDialectName } from '../../src/storage/sql-dialect.ts';
import { LOG_SCHEMA, logFileOf } from '../../src/storage/sqlite/log-file.ts';
import { createSqliteStore } from '../../src/storage/sqlite/sqlite-store.ts';
import type { Store } from '../../src/storage/store.ts';
import { createBenchDatabase } from '../support/postgres-db.ts';
import { AUDIENCES, BENCH_NOW, handQuery, handSql } from './audiences.ts';
import { BENCH_WORKSPACE, loadPostgres, loadSqlite, type LoadStats } from './load-shop.ts';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';

const { values } = parseArgs({
  options: {
    people: { type: 'string', default: '100000' },
    seed: { type: 'string', default: '42' },
    stores: { type: 'string', default: 'sqlite,postgres' },
    runs: { type: 'string', default: '3' },
    // Development: keep the PostgreSQL database, or reuse a kept one (its segments are recreated).
    keep: { type: 'boolean', default: false },
    reuse: { type: 'string' },
  },
});
const PEOPLE = Number(values.people);
const SEED = Number(values.seed);
const RUNS = Math.max(1, Number(values.runs));

interface Timing {
  readonly slug: string;
  readonly members: number;
  readonly compiledMs: number;
  readonly handMs: number;
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
const log = (text: string): void => void process.stdout.write(`${text}\n`);

async function timed<T>(run: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await run();
  return { ms: performance.now() - started, value };
}

function parse(text: string): Expression {
  const parsed = parseSegmentDefinition(text);
  if (!parsed.ok) throw new Error(parsed.error.message);
  return parsed.ast;
}

/** A Kysely over the same database, to run raw queries outside the store's repositories. */
/** The main file with the log attached, as the store opens it (the log has a file of its own). */
function sqliteWithLog(location: string): BetterSqlite3.Database {
  const database = new BetterSqlite3(location);
  database.prepare(`ATTACH DATABASE ? AS ${LOG_SCHEMA}`).run(logFileOf(location));
  return database;
}

function rawDb(
  dialect: SqlDialectName,
  location: string,
): { db: Kysely<unknown>; close: () => Promise<void> } {
  const db =
    dialect === 'sqlite'
      ? new Kysely<unknown>({ dialect: new SqliteDialect({ database: sqliteWithLog(location) }) })
      : new Kysely<unknown>({
          dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: location, max: 1 }) }),
        });
  return { db, close: () => db.destroy() };
}

async function runStore(dialect: SqlDialectName): Promise<void> {
  log(`\n== ${dialect}: ${PEOPLE.toLocaleString('en')} people (seed ${SEED})`);
  let store: Store;
  let location: string;
  let cleanup: () => Promise<void>;
  let load: (people: number) => Promise<LoadStats>;
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(path.join(tmpdir(), 'cdp-bench-segments-'));
    location = path.join(dir, 'cdp.sqlite');
    store = createSqliteStore({ filename: location });
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
    load = (people) => loadSqlite(location, people, SEED);
  } else {
    const database =
      values.reuse !== undefined
        ? { url: values.reuse, drop: async () => undefined }
        : await createBenchDatabase();
    if (database === undefined) {
      log('PostgreSQL not reachable at 127.0.0.1:5432: skipped');
      return;
    }
    location = database.url;
    store = createPostgresStore({ connectionString: location, maxConnections: 2 });
    cleanup = values.keep || values.reuse !== undefined ? async () => log(`kept ${location}`) : database.drop;
    load =
      values.reuse !== undefined ? () => reset(location) : (people) => loadPostgres(location, people, SEED);
  }
  try {
    await store.migrate();
    await store.workspaces.create({
      id: BENCH_WORKSPACE,
      slug: 'bench',
      name: 'Bench',
      createdMs: BENCH_NOW,
    });
    // The generator's consent categories, declared as a workspace would (segments check them).
    await store.workspaceSettings.put(
      BENCH_WORKSPACE,
      CONSENT_SETTINGS,
      { categories: ['advertising', 'analytics', 'functional', 'datasharing'], gpcOptOut: ['advertising'] },
      BENCH_NOW,
    );
    const loaded = await timed(() => load(PEOPLE));
    log(
      `loaded ${loaded.value.people.toLocaleString('en')} profiles, ${loaded.value.events.toLocaleString('en')} track events, ${loaded.value.accounts} accounts in ${seconds(loaded.ms)}`,
    );
    log('profiles filled from the generator ground truth (one profile per person, no identity resolution)');

    // Full backfill through the service: chunked compiled queries + membership and history writes.
    const clock = createManualClock(BENCH_NOW);
    const { segments } = buildSegmentServices({
      store,
      clock,
      logError: (details, message) => log(`${message}: ${String(details['err'])}`),
    });
    const backfillMs = new Map<string, number>();
    for (const audience of AUDIENCES) {
      const { ms } = await timed(async () => {
        const { segment } = await segments.create(BENCH_WORKSPACE, {
          name: audience.slug,
          slug: audience.slug,
          definition: audience.definition,
        });
        await segments.idle();
        const done = await segments.get(BENCH_WORKSPACE, segment.slug);
        if (done.backfill.status !== 'ready')
          throw new Error(`${audience.slug}: ${done.backfill.error ?? done.backfill.status}`);
      });
      backfillMs.set(audience.slug, ms);
    }
    const all = await segments.list(BENCH_WORKSPACE, { limit: 100 });
    const segmentIds = new Map(all.map((s) => [s.slug, s.id]));
    const totalBackfill = [...backfillMs.values()].reduce((a, b) => a + b, 0);
    log(
      `full backfill of ${AUDIENCES.length} segments (service: compiled query per chunk of ${dialect === 'sqlite' ? '5,000' : '25,000'} profiles, memberships and history written): ${seconds(totalBackfill)}`,
    );

    // Member queries: compiled vs hand-written, same database, alternating, best of RUNS.
    const raw = rawDb(dialect, location);
    const hand = handSql(dialect, segmentIds);
    const timings: Timing[] = [];
    try {
      for (const audience of AUDIENCES) {
        const compiled = compileSegmentQuery(parse(audience.definition), {
          dialect,
          workspaceId: BENCH_WORKSPACE,
          nowMs: BENCH_NOW,
          references: { kind: 'membership', segmentIds },
        });
        const handText = handQuery(BENCH_WORKSPACE, audience.handWritten(hand));
        let compiledMs = Infinity;
        let handMs = Infinity;
        let members = -1;
        for (let run = 0; run < RUNS; run++) {
          const a = await timed(() =>
            sql<{ n: number }>`SELECT COUNT(*) AS n FROM (${compiled}) AS m`.execute(raw.db),
          );
          const b = await timed(() =>
            sql<{ n: number }>`SELECT COUNT(*) AS n FROM (${sql.raw(handText)}) AS m`.execute(raw.db),
          );
          const na = Number(a.value.rows[0]?.n);
          const nb = Number(b.value.rows[0]?.n);
          if (na !== nb)
            throw new Error(`${audience.slug}: compiled SQL finds ${na} members, hand-written ${nb}`);
          members = na;
          compiledMs = Math.min(compiledMs, a.ms);
          handMs = Math.min(handMs, b.ms);
        }
        const stored = await store.segments.countMembers(
          BENCH_WORKSPACE,
          segmentIds.get(audience.slug) as string,
        );
        if (stored !== members)
          throw new Error(`${audience.slug}: backfill stored ${stored} members, query finds ${members}`);
        timings.push({ slug: audience.slug, members, compiledMs, handMs });
      }
    } finally {
      await raw.close();
    }
    report(timings, backfillMs);
  } finally {
    await store.close();
    await cleanup();
  }
}

/** A kept database: drops the previous run's segments, keeps the loaded shop. */
async function reset(url: string): Promise<LoadStats> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  for (const table of ['segment_memberships', 'segment_membership_history', 'segments'])
    await client.query(`DELETE FROM ${table}`);
  const count = async (q: string) => Number((await client.query<{ n: string }>(q)).rows[0]?.n);
  const stats = {
    people: await count("SELECT count(*) AS n FROM profiles WHERE kind = 'person'"),
    events: await count('SELECT count(*) AS n FROM events'),
    accounts: await count("SELECT count(*) AS n FROM profiles WHERE kind = 'account'"),
  };
  await client.end();
  return stats;
}

function report(timings: readonly Timing[], backfillMs: ReadonlyMap<string, number>): void {
  log('');
  log('| segment | members | backfill | compiled query | hand-written | ratio |');
  log('|---|---:|---:|---:|---:|---:|');
  for (const t of timings) {
    log(
      `| ${t.slug} | ${t.members.toLocaleString('en')} | ${(backfillMs.get(t.slug) ?? 0).toFixed(0)} ms | ${t.compiledMs.toFixed(1)} ms | ${t.handMs.toFixed(1)} ms | ${(t.compiledMs / t.handMs).toFixed(2)} |`,
    );
  }
  const compiled = timings.reduce((n, t) => n + t.compiledMs, 0);
  const hand = timings.reduce((n, t) => n + t.handMs, 0);
  const ratio = compiled / hand;
  log(
    `| **total** | | ${seconds([...backfillMs.values()].reduce((a, b) => a + b, 0))} | ${seconds(compiled)} | ${seconds(hand)} | **${ratio.toFixed(2)}** |`,
  );
  log(
    `compiled / hand-written: ${ratio.toFixed(2)}× (target ≤ 1.5×) ${ratio <= 1.5 ? 'OK' : 'ABOVE TARGET'}`,
  );
}

for (const dialect of values.stores.split(',') as SqlDialectName[]) await runStore(dialect);
