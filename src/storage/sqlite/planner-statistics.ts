import type { Database as SqliteDatabase } from 'better-sqlite3';

/** Rows the planner is told a workspace-scoped index has (only the ratios matter). */
const ASSUMED_ROWS = 1_000_000;

/**
 * Indexes whose leading columns after the workspace select many rows each (the generic figures
 * below say each column narrows about tenfold): a timeline has a few dozen event names, so one
 * name is a large share of it. Told the generic figures
 * (each further column narrows about tenfold), the planner took `event = ?` as
 * already precise and read every event of that name in the workspace to find those of a page of
 * profiles (the real-time audiences' snapshot read); with these it probes each profile.
 */
const INDEX_STATS: Readonly<Record<string, string>> = {
  // workspace_id, event, profile_id, ts_ms, seq (track events only)
  profile_events_track: `${ASSUMED_ROWS} ${ASSUMED_ROWS} 20000 5 1 1`,
  // workspace_id, kind, merged_into, id. Two kinds: told `kind = 'account'` leaves ~10 rows,
  // the planner answered `group.*` per person by reading every account of the workspace
  // instead of the person's own memberships (`profile_groups` by profile): quadratic, hours
  // for the backfill of one account-trait segment at 1M profiles.
  profiles_live: `${ASSUMED_ROWS} ${ASSUMED_ROWS} 500000 10 1`,
  // A workspace has a few dozen segments, computed traits, destinations: each is a large share.
  sqlite_autoindex_segment_memberships_1: `${ASSUMED_ROWS} ${ASSUMED_ROWS} 50000 1`,
  segment_membership_history_segment: `${ASSUMED_ROWS} ${ASSUMED_ROWS} 50000 1`,
  computed_trait_values_name: `${ASSUMED_ROWS} ${ASSUMED_ROWS} 100000 1`,
  destination_deliveries_event: `${ASSUMED_ROWS} ${ASSUMED_ROWS} 100000 1`,
  destination_deliveries_request: `${ASSUMED_ROWS} ${ASSUMED_ROWS} 100000 1`,
  destination_deliveries_list: `${ASSUMED_ROWS} ${ASSUMED_ROWS} 100000 30000 1`,
};

/**
 * Figures an earlier version seeded and that turned out wrong: replaced like generic ones.
 * `stale` is a flag, but the rows asked for (`stale = 1`) are rare: told that one value holds
 * half the components, the planner walked every component in id order to find the few stale.
 */
const RETIRED_STATS: Readonly<Record<string, readonly string[]>> = {
  identity_components_stale: [`${ASSUMED_ROWS} ${ASSUMED_ROWS} 500000`],
};

interface IndexListRow {
  readonly name: string;
  readonly unique: number;
}

interface IndexInfoRow {
  readonly name: string | null;
}

/**
 * Without statistics SQLite assumes that equality on an index's first column leaves ~10 rows.
 * Ours almost all start with `workspace_id`, which an instance has one or a handful of: the
 * planner then prefers "every row of the workspace" over a precise index (for `workspace_id = ?
 * AND seq IN (…)` it scanned the workspace's whole timeline instead of probing the unique
 * (workspace_id, seq) index). So each workspace-led index without statistics gets a
 * conservative row in `sqlite_stat1`: the workspace column selects everything, the next columns
 * narrow it down, a unique index's full key selects one row. A real ANALYZE later replaces
 * them with measured figures, which say the same about `workspace_id`.
 */
export function seedPlannerStatistics(sqlite: SqliteDatabase, schema: string): void {
  const s = quote(schema);
  // Creates sqlite_stat1 (which cannot be created directly) without scanning any table.
  sqlite.exec(`ANALYZE ${s}.sqlite_schema`);
  const known = new Map(
    sqlite
      .prepare<[], { idx: string | null; stat: string }>(`SELECT idx, stat FROM ${s}.sqlite_stat1`)
      .all()
      .map((row) => [row.idx, row.stat]),
  );
  const tables = sqlite
    .prepare<[], { name: string }>(
      `SELECT name FROM ${s}.sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`,
    )
    .all();
  const insert = sqlite.prepare(`INSERT INTO ${s}.sqlite_stat1 (tbl, idx, stat) VALUES (?, ?, ?)`);
  const update = sqlite.prepare(`UPDATE ${s}.sqlite_stat1 SET stat = ? WHERE tbl = ? AND idx = ?`);
  let added = 0;
  for (const { name: table } of tables) {
    const indexes = sqlite.prepare<[], IndexListRow>(`PRAGMA ${s}.index_list(${quote(table)})`).all();
    for (const index of indexes) {
      const columns = sqlite
        .prepare<[], IndexInfoRow>(`PRAGMA ${s}.index_info(${quote(index.name)})`)
        .all()
        .map((c) => c.name);
      if (columns[0] !== 'workspace_id') continue;
      const generic = statFor(columns.length, index.unique === 1);
      const stat = INDEX_STATS[index.name] ?? generic;
      const stored = known.get(index.name);
      if (stored === undefined) insert.run(table, index.name, stat);
      // A row an earlier version seeded (measured figures are left alone).
      else if (
        (stored === generic && stat !== generic) ||
        (RETIRED_STATS[index.name]?.includes(stored) ?? false)
      )
        update.run(stat, table, index.name);
      else continue;
      added += 1;
    }
  }
  // Makes this connection's planner read the new rows.
  if (added > 0) sqlite.exec(`ANALYZE ${s}.sqlite_schema`);
}

function statFor(columns: number, unique: boolean): string {
  const averages = [ASSUMED_ROWS, ASSUMED_ROWS];
  for (let k = 2; k <= columns; k++)
    averages.push(unique && k === columns ? 1 : Math.max(2, Math.round(10 / (k - 1))));
  return averages.join(' ');
}

function quote(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
