import type { Kysely } from 'kysely';
import type { AudienceStateRepository } from '../../segments/audience-state.port.ts';
import type { JsonValue } from '../../segments/profile-snapshot.ts';
import type { Database } from '../database-schema.ts';

export class KyselyAudienceStateRepository implements AudienceStateRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async setMemberships(
    workspaceId: string,
    profileId: string,
    changes: readonly { readonly segmentId: string; readonly member: boolean }[],
    nowMs: number,
  ): Promise<void> {
    if (changes.length === 0) return;
    await this.db.transaction().execute(async (trx) => {
      for (const { segmentId, member } of changes) {
        if (member) {
          const inserted = await trx
            .insertInto('segment_memberships')
            .values({
              workspace_id: workspaceId,
              segment_id: segmentId,
              profile_id: profileId,
              entered_ms: nowMs,
            })
            .onConflict((oc) => oc.doNothing())
            .executeTakeFirst();
          if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) continue;
        } else {
          const deleted = await trx
            .deleteFrom('segment_memberships')
            .where('workspace_id', '=', workspaceId)
            .where('segment_id', '=', segmentId)
            .where('profile_id', '=', profileId)
            .executeTakeFirst();
          if (Number(deleted.numDeletedRows) === 0) continue;
        }
        await trx
          .insertInto('segment_membership_history')
          .values({
            workspace_id: workspaceId,
            segment_id: segmentId,
            profile_id: profileId,
            change: member ? 'entered' : 'exited',
            at_ms: nowMs,
          })
          .execute();
      }
    });
  }

  async setComputedValues(
    workspaceId: string,
    profileId: string,
    values: readonly {
      readonly name: string;
      readonly value: JsonValue | undefined;
      readonly nextChangeMs: number | null;
    }[],
    nowMs: number,
  ): Promise<void> {
    if (values.length === 0) return;
    await this.db.transaction().execute(async (trx) => {
      for (const { name, value, nextChangeMs } of values) {
        if (value === undefined) {
          await trx
            .deleteFrom('computed_trait_values')
            .where('workspace_id', '=', workspaceId)
            .where('profile_id', '=', profileId)
            .where('name', '=', name)
            .execute();
          continue;
        }
        await trx
          .insertInto('computed_trait_values')
          .values({
            workspace_id: workspaceId,
            profile_id: profileId,
            name,
            value: JSON.stringify(value),
            updated_ms: nowMs,
            next_change_ms: nextChangeMs,
          })
          .onConflict((oc) =>
            oc.columns(['workspace_id', 'profile_id', 'name']).doUpdateSet((eb) => ({
              value: eb.ref('excluded.value'),
              updated_ms: eb.ref('excluded.updated_ms'),
              next_change_ms: eb.ref('excluded.next_change_ms'),
            })),
          )
          .execute();
      }
    });
  }

  async removeProfile(workspaceId: string, profileId: string, nowMs: number): Promise<string[]> {
    return this.db.transaction().execute(async (trx) => {
      const memberships = await trx
        .selectFrom('segment_memberships')
        .select('segment_id')
        .where('workspace_id', '=', workspaceId)
        .where('profile_id', '=', profileId)
        .execute();
      for (const { segment_id } of memberships)
        await trx
          .insertInto('segment_membership_history')
          .values({
            workspace_id: workspaceId,
            segment_id,
            profile_id: profileId,
            change: 'exited',
            at_ms: nowMs,
          })
          .execute();
      await trx
        .deleteFrom('segment_memberships')
        .where('workspace_id', '=', workspaceId)
        .where('profile_id', '=', profileId)
        .execute();
      await trx
        .deleteFrom('computed_trait_values')
        .where('workspace_id', '=', workspaceId)
        .where('profile_id', '=', profileId)
        .execute();
      await trx
        .deleteFrom('profile_schedule')
        .where('workspace_id', '=', workspaceId)
        .where('profile_id', '=', profileId)
        .execute();
      return memberships.map((m) => m.segment_id);
    });
  }

  async schedule(workspaceId: string, profileId: string, dueMs: number | null): Promise<void> {
    if (dueMs === null) {
      await this.db
        .deleteFrom('profile_schedule')
        .where('workspace_id', '=', workspaceId)
        .where('profile_id', '=', profileId)
        .execute();
      return;
    }
    await this.db
      .insertInto('profile_schedule')
      .values({ workspace_id: workspaceId, profile_id: profileId, due_ms: dueMs })
      .onConflict((oc) => oc.columns(['workspace_id', 'profile_id']).doUpdateSet({ due_ms: dueMs }))
      .execute();
  }

  async due(nowMs: number, limit: number) {
    const rows = await this.db
      .selectFrom('profile_schedule')
      .selectAll()
      .where('due_ms', '<=', nowMs)
      .orderBy('due_ms')
      .limit(limit)
      .execute();
    return rows.map((row) => ({
      workspaceId: row.workspace_id,
      profileId: row.profile_id,
      dueMs: Number(row.due_ms),
    }));
  }

  async membershipsOf(workspaceId: string, profileId: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('segment_memberships as m')
      .innerJoin('segments as s', (join) =>
        join.onRef('s.workspace_id', '=', 'm.workspace_id').onRef('s.id', '=', 'm.segment_id'),
      )
      .select('s.slug')
      .where('m.workspace_id', '=', workspaceId)
      .where('m.profile_id', '=', profileId)
      .orderBy('s.slug')
      .execute();
    return rows.map((row) => row.slug);
  }

  async nextDue(): Promise<number | null> {
    const row = await this.db
      .selectFrom('profile_schedule')
      .select((eb) => eb.fn.min<number | string | null>('due_ms').as('due'))
      .executeTakeFirst();
    return row?.due === null || row?.due === undefined ? null : Number(row.due);
  }
}
