/**
 * The stored side of a profile rebuild (profiles/profile-rebuild.ts): its progress row, and the
 * deletion of the old derived state in chunks, so that no transaction of a rebuild holds the
 * store for long whatever the size of the workspace.
 */
import { sql } from 'kysely';
import type { PendingRebuildChange, ProfileRebuildState } from '../../profiles/profile-state.port.ts';
import type { SqlDialectName } from '../sql-dialect.ts';
import { chunks, type Db } from './workspace-write.ts';

/** Every table of derived profile state; a rebuild empties them for the workspace first. */
const DERIVED_TABLES = [
  'profile_events',
  'trait_history',
  'identity_decisions',
  'identity_merges',
  'profile_groups',
  'profile_identifiers',
  'identity_components',
  'profiles',
] as const;

const STATUSES: readonly ProfileRebuildState['status'][] = ['clearing', 'replaying', 'pruning', 'done'];

function statusOf(raw: string): ProfileRebuildState['status'] {
  const status = STATUSES.find((s) => s === raw);
  if (status === undefined) throw new Error(`unknown profile rebuild status "${raw}"`);
  return status;
}

export async function readRebuild(db: Db, workspaceId: string): Promise<ProfileRebuildState | undefined> {
  const row = await db
    .selectFrom('profile_rebuilds')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .executeTakeFirst();
  if (row === undefined) return undefined;
  return {
    status: statusOf(row.status),
    afterSeq: Number(row.after_seq),
    done: Number(row.done),
    total: Number(row.total),
    startedMs: Number(row.started_ms),
    finishedMs: row.finished_ms === null ? null : Number(row.finished_ms),
    pending: row.pending_change === null ? null : (JSON.parse(row.pending_change) as PendingRebuildChange),
  };
}

export async function saveRebuild(db: Db, workspaceId: string, state: ProfileRebuildState): Promise<void> {
  const values = {
    status: state.status,
    after_seq: state.afterSeq,
    done: state.done,
    total: state.total,
    started_ms: state.startedMs,
    finished_ms: state.finishedMs,
    pending_change: state.pending === null ? null : JSON.stringify(state.pending),
  };
  await db
    .insertInto('profile_rebuilds')
    .values({ workspace_id: workspaceId, ...values })
    .onConflict((oc) => oc.column('workspace_id').doUpdateSet(values))
    .execute();
}

export async function unfinishedRebuilds(db: Db): Promise<string[]> {
  const rows = await db
    .selectFrom('profile_rebuilds')
    .select('workspace_id')
    .where('status', '!=', 'done')
    .orderBy('workspace_id')
    .execute();
  return rows.map((row) => row.workspace_id);
}

/**
 * Deletes up to `limit` profiles, remembering their ids (profile_rebuild_gone): those the replay
 * does not bring back are reported as deleted at the end of the rebuild.
 */
async function deleteProfilesRemembered(db: Db, workspaceId: string, limit: number): Promise<number> {
  const ids = (
    await db
      .selectFrom('profiles')
      .select('id')
      .where('workspace_id', '=', workspaceId)
      .limit(limit)
      .execute()
  ).map((row) => row.id);
  for (const part of chunks(ids, 500)) {
    await db
      .insertInto('profile_rebuild_gone')
      .values(part.map((id) => ({ workspace_id: workspaceId, profile_id: id })))
      .onConflict((oc) => oc.doNothing())
      .execute();
    await db.deleteFrom('profiles').where('workspace_id', '=', workspaceId).where('id', 'in', part).execute();
  }
  return ids.length;
}

/**
 * Up to `limit` of the profiles the rebuild deleted, forgotten here; those that the replay did
 * not bring back are returned.
 */
export async function takeGoneProfiles(
  db: Db,
  workspaceId: string,
  limit: number,
): Promise<{ taken: number; gone: string[] }> {
  const ids = (
    await db
      .selectFrom('profile_rebuild_gone')
      .select('profile_id')
      .where('workspace_id', '=', workspaceId)
      .orderBy('profile_id')
      .limit(limit)
      .execute()
  ).map((row) => row.profile_id);
  if (ids.length === 0) return { taken: 0, gone: [] };
  const back = new Set(
    (
      await db
        .selectFrom('profiles')
        .select('id')
        .where('workspace_id', '=', workspaceId)
        .where('id', 'in', ids)
        .execute()
    ).map((row) => row.id),
  );
  await db
    .deleteFrom('profile_rebuild_gone')
    .where('workspace_id', '=', workspaceId)
    .where('profile_id', 'in', ids)
    .execute();
  return { taken: ids.length, gone: ids.filter((id) => !back.has(id)) };
}

/** Deletes up to `limit` rows of the workspace's derived state, table after table. */
export async function clearSomeDerivedState(
  db: Db,
  dialect: SqlDialectName,
  workspaceId: string,
  limit: number,
): Promise<number> {
  // The physical row id: every table has one (SQLite's rowid, PostgreSQL's ctid), where the
  // primary keys differ from table to table.
  const rowId = sql.raw(dialect === 'sqlite' ? 'rowid' : 'ctid');
  let deleted = 0;
  for (const table of DERIVED_TABLES) {
    const left = limit - deleted;
    if (left <= 0) break;
    if (table === 'profiles') {
      deleted += await deleteProfilesRemembered(db, workspaceId, left);
      continue;
    }
    const result = await sql`delete from ${sql.table(table)} where ${rowId} in (
        select ${rowId} from ${sql.table(table)} where workspace_id = ${workspaceId} limit ${left})`.execute(
      db,
    );
    deleted += Number(result.numAffectedRows ?? 0n);
  }
  return deleted;
}
