import type { JsonObject } from '../../shared/json.ts';
import { iso, IN_CHUNK } from './subject-queries.ts';
import { chunks, type Db } from './workspace-write.ts';

/**
 * What was delivered of a person's events, for the export: which destination received which
 * event and when. Found by the events' log positions (a delivery keeps the profile its event had
 * when it was queued, which a merge may have changed since) and by the person's profile ids.
 */
export async function deliveriesOf(
  db: Db,
  workspaceId: string,
  seqs: readonly number[],
  profileIds: readonly string[],
): Promise<JsonObject[]> {
  const byId = new Map<number, JsonObject>();
  const select = () =>
    db
      .selectFrom('destination_deliveries as d')
      .leftJoin('destinations as t', (join) =>
        join.onRef('t.workspace_id', '=', 'd.workspace_id').onRef('t.id', '=', 'd.destination_id'),
      )
      .select(['d.id', 'd.destination_id', 't.name', 't.type', 'd.event_seq', 'd.last_attempt_ms'])
      .where('d.workspace_id', '=', workspaceId)
      .where('d.kind', '=', 'event')
      .where('d.status', '=', 'delivered');
  const add = (rows: Awaited<ReturnType<ReturnType<typeof select>['execute']>>): void => {
    for (const row of rows)
      byId.set(Number(row.id), {
        destinationId: row.destination_id,
        destinationName: row.name,
        destinationType: row.type,
        seq: row.event_seq === null ? null : Number(row.event_seq),
        deliveredAt: row.last_attempt_ms === null ? null : iso(Number(row.last_attempt_ms)),
      });
  };
  for (const part of chunks([...seqs], IN_CHUNK))
    add(await select().where('d.event_seq', 'in', part).execute());
  for (const part of chunks([...profileIds], IN_CHUNK))
    add(await select().where('d.profile_id', 'in', part).execute());
  return [...byId.entries()].sort(([a], [b]) => a - b).map(([, value]) => value);
}

/** Deletes the person's event deliveries (queued, failed and delivered) by position and profile. */
export async function deleteDeliveries(
  trx: Db,
  workspaceId: string,
  seqs: readonly number[],
  profileIds: readonly string[],
): Promise<number> {
  let deleted = 0;
  for (const part of chunks([...seqs], IN_CHUNK))
    deleted += Number(
      (
        await trx
          .deleteFrom('destination_deliveries')
          .where('workspace_id', '=', workspaceId)
          .where('event_seq', 'in', part)
          .executeTakeFirst()
      ).numDeletedRows,
    );
  for (const part of chunks([...profileIds], IN_CHUNK))
    deleted += Number(
      (
        await trx
          .deleteFrom('destination_deliveries')
          .where('workspace_id', '=', workspaceId)
          .where('profile_id', 'in', part)
          .executeTakeFirst()
      ).numDeletedRows,
    );
  return deleted;
}
