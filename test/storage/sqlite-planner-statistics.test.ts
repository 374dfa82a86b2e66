import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { parseSegmentDefinition } from '../../src/segment-language/index.ts';
import { compileSegmentQuery } from '../../src/storage/segment-sql/compile-segment.ts';
import type { Database } from '../../src/storage/database-schema.ts';
import { TRACK } from '../../src/storage/kysely/track-type.ts';
import { seedPlannerStatistics } from '../../src/storage/sqlite/planner-statistics.ts';
import { createSqliteStore } from '../../src/storage/sqlite/sqlite-store.ts';

// The real-time audiences read the named events of a page of profiles; the plan must probe
// each profile in the (workspace, event, profile, …) index of track events, not read every
// event of the name in the workspace.
const TIMELINE_BY_NAME = `EXPLAIN QUERY PLAN
  SELECT profile_id, ts_ms, seq FROM profile_events
  WHERE workspace_id = ? AND event IN (?, ?) AND type = 'track' AND profile_id IN (?, ?, ?)`;

/** A definition compiled as a backfill chunk runs it (one range of profile ids). */
function chunkQuery(
  kysely: Parameters<ReturnType<typeof compileSegmentQuery>['compile']>[0],
  definition: string,
): { sql: string; parameters: readonly unknown[] } {
  const parsed = parseSegmentDefinition(definition);
  assert.ok(parsed.ok);
  return compileSegmentQuery(parsed.ast, {
    dialect: 'sqlite',
    workspaceId: 'ws',
    nowMs: Date.UTC(2026, 0, 1),
    references: { kind: 'membership', segmentIds: new Map() },
    range: { afterId: 'p_1', untilId: 'p_5000' },
  }).compile(kysely);
}

function planOfQuery(
  db: BetterSqlite3.Database,
  query: { sql: string; parameters: readonly unknown[] },
): string {
  return db
    .prepare<unknown[], { detail: string }>(`EXPLAIN QUERY PLAN ${query.sql}`)
    .all(...query.parameters)
    .map((row) => row.detail)
    .join('\n');
}

describe('SQLite planner statistics', () => {
  let dir: string;
  let file: string;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'cdp-planner-'));
    file = path.join(dir, 'cdp.sqlite');
    const store = createSqliteStore({ filename: file });
    await store.migrate();
    await store.close();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const planOf = (db: BetterSqlite3.Database): string =>
    db
      .prepare<unknown[], { detail: string }>(TIMELINE_BY_NAME)
      .all('ws', 'A', 'B', 'p1', 'p2', 'p3')
      .map((row) => row.detail)
      .join('\n');

  it('a page of profiles is read through the profile column of the name index', () => {
    const db = new BetterSqlite3(file);
    try {
      assert.match(planOf(db), /profile_events_track \(.*profile_id=\?\)/);
    } finally {
      db.close();
    }
  });

  // The name index is partial (track events only): the planner must see that a did condition
  // and a read of named track events are within it.
  it("a did condition and the repositories' track reads use the partial index", () => {
    const db = new BetterSqlite3(file);
    const kysely = new Kysely<Database>({ dialect: new SqliteDialect({ database: db }) });
    try {
      const did = chunkQuery(kysely, 'did "Order Completed" at least 2 times in last 30 days');
      assert.match(planOfQuery(db, did), /INDEX profile_events_track \(workspace_id=\? AND event=\?/);
      const byName = kysely
        .selectFrom('profile_events')
        .select(['profile_id', 'ts_ms', 'seq'])
        .where('workspace_id', '=', 'ws')
        .where('event', '=', 'Order Completed')
        .where('type', '=', TRACK)
        .compile();
      assert.match(planOfQuery(db, byName), /profile_events_track/);
    } finally {
      db.close();
    }
  });

  // `group.*` in a backfill chunk: for each person, its own account links (by profile), then
  // each account by id; never every account of the workspace per person (quadratic).
  it("an account trait is read through the person's links, not by scanning the accounts", () => {
    const db = new BetterSqlite3(file);
    const kysely = new Kysely<unknown>({ dialect: new SqliteDialect({ database: db }) });
    try {
      const query = chunkQuery(kysely, 'group.employees >= 100');
      const plan = planOfQuery(db, query);
      assert.match(
        plan,
        /SEARCH g USING COVERING INDEX \w*profile_groups\w* \(workspace_id=\? AND profile_id=\?\)/,
      );
      assert.doesNotMatch(plan, /profiles_live \(workspace_id=\? AND kind=\?\)$/m);
    } finally {
      db.close();
    }
  });

  // Stale components are few: they are found through their flag's index, never by walking
  // every component of the workspace in id order.
  it('stale components are read through the flag, also in a store seeded with wrong figures', () => {
    const db = new BetterSqlite3(file);
    const stalePlan = (): string =>
      db
        .prepare<unknown[], { detail: string }>(
          'EXPLAIN QUERY PLAN SELECT id FROM identity_components WHERE workspace_id = ? AND stale = ? ORDER BY id LIMIT ?',
        )
        .all('ws', 1, 100)
        .map((row) => row.detail)
        .join('\n');
    try {
      assert.match(stalePlan(), /identity_components_stale \(workspace_id=\? AND stale=\?\)/);
      db.prepare(
        "UPDATE sqlite_stat1 SET stat = '1000000 1000000 500000' WHERE idx = 'identity_components_stale'",
      ).run();
      db.exec('ANALYZE sqlite_schema');
      assert.doesNotMatch(stalePlan(), /stale=\?/, 'the retired figures mislead the planner');
      seedPlannerStatistics(db, 'main');
      assert.match(stalePlan(), /identity_components_stale \(workspace_id=\? AND stale=\?\)/);
    } finally {
      db.close();
    }
  });

  it('a store seeded by an earlier version gets the figures; measured ones stay', () => {
    const db = new BetterSqlite3(file);
    try {
      // What the generic seed says for this 5-column index.
      db.prepare(
        "UPDATE sqlite_stat1 SET stat = '1000000 1000000 10 5 3 3' WHERE idx = 'profile_events_track'",
      ).run();
      db.exec('ANALYZE sqlite_schema');
      assert.doesNotMatch(planOf(db), /profile_id=\?/, 'the generic figures mislead the planner');
      seedPlannerStatistics(db, 'main');
      assert.match(planOf(db), /profile_id=\?/);
      const measured = '52000 52000 1300 4 1 1';
      db.prepare("UPDATE sqlite_stat1 SET stat = ? WHERE idx = 'profile_events_track'").run(measured);
      seedPlannerStatistics(db, 'main');
      const row = db
        .prepare<[], { stat: string }>("SELECT stat FROM sqlite_stat1 WHERE idx = 'profile_events_track'")
        .get();
      assert.equal(row?.stat, measured);
    } finally {
      db.close();
    }
  });
});
