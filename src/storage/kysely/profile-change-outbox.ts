/**
 * Admin-made profile changes (an unmerge) owed to the listeners: written in the action's
 * transaction, deleted once consent, computed traits and segments have taken them
 * (013-profile-change-outbox).
 */
import type { OwedProfileChange } from '../../profiles/profile-state.port.ts';
import type { Db } from './workspace-write.ts';

export async function oweChange(
  db: Db,
  workspaceId: string,
  id: string,
  change: OwedProfileChange,
  nowMs: number,
): Promise<void> {
  await db
    .insertInto('profile_change_outbox')
    .values({ workspace_id: workspaceId, id, change: JSON.stringify(change), created_ms: nowMs })
    .execute();
}

export async function owedChanges(
  db: Db,
  limit: number,
): Promise<{ workspaceId: string; id: string; change: OwedProfileChange }[]> {
  const rows = await db
    .selectFrom('profile_change_outbox')
    .selectAll()
    .orderBy('created_ms')
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map((row) => ({
    workspaceId: row.workspace_id,
    id: row.id,
    change: JSON.parse(row.change) as OwedProfileChange,
  }));
}

export async function settleChange(db: Db, workspaceId: string, id: string): Promise<void> {
  await db
    .deleteFrom('profile_change_outbox')
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .execute();
}
