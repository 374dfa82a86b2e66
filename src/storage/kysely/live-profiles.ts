import type { Kysely } from 'kysely';
import type { ProfileIdRange } from '../../segments/segments.port.ts';
import type { Database } from '../database-schema.ts';

/** Live person profiles of a workspace (kind 'person', not merged): what segments and computed traits cover. */
export function livePersons(db: Kysely<Database>, workspaceId: string) {
  return db
    .selectFrom('profiles')
    .where('workspace_id', '=', workspaceId)
    .where('kind', '=', 'person')
    .where('merged_into', 'is', null);
}

export async function countLivePersons(db: Kysely<Database>, workspaceId: string): Promise<number> {
  const row = await livePersons(db, workspaceId)
    .select((eb) => eb.fn.countAll().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Ids at positions chunk, 2·chunk, … in id order: each chunk is (previous, this]. */
export async function chunkBoundaries(
  db: Kysely<Database>,
  workspaceId: string,
  chunkSize: number,
): Promise<string[]> {
  const boundaries: string[] = [];
  for (;;) {
    let query = livePersons(db, workspaceId)
      .select('id')
      .orderBy('id')
      .limit(1)
      .offset(chunkSize - 1);
    const last = boundaries.at(-1);
    if (last !== undefined) query = query.where('id', '>', last);
    const row = await query.executeTakeFirst();
    if (!row) return boundaries;
    boundaries.push(row.id);
  }
}

/** Live persons whose profile was written at or after `sinceMs`, in id order, one page. */
export async function livePersonsUpdatedSince(
  db: Kysely<Database>,
  workspaceId: string,
  sinceMs: number,
  page: { readonly afterId: string | undefined; readonly limit: number },
): Promise<string[]> {
  let query = livePersons(db, workspaceId)
    .select('id')
    .where('updated_ms', '>=', sinceMs)
    .orderBy('id')
    .limit(page.limit);
  if (page.afterId !== undefined) query = query.where('id', '>', page.afterId);
  return (await query.execute()).map((row) => row.id);
}

export async function livePersonIds(
  db: Kysely<Database>,
  workspaceId: string,
  range: ProfileIdRange,
): Promise<string[]> {
  let query = livePersons(db, workspaceId).select('id').orderBy('id');
  if (range.afterId !== undefined) query = query.where('id', '>', range.afterId);
  if (range.untilId !== undefined) query = query.where('id', '<=', range.untilId);
  return (await query.execute()).map((row) => row.id);
}
