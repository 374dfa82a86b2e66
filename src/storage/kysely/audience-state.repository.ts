import { sql, type Kysely } from 'kysely';
import type { JsonValue } from '../../segments/profile-snapshot.ts';
import type {
  AudienceStateRepository,
  AudienceTransition,
  ProfileAudienceUpdate,
} from '../../segments/audience-state.port.ts';
import type { Database } from '../database-schema.ts';
import type { SqlDialectName } from '../sql-dialect.ts';
import { livePersonsUpdatedSince } from './live-profiles.ts';
import { chunks, writeTransaction, type Db } from './workspace-write.ts';

const IN_CHUNK = 500;
const WRITE_BATCH = 200;

export class KyselyAudienceStateRepository implements AudienceStateRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: SqlDialectName,
  ) {}

  async apply(
    workspaceId: string,
    round: {
      readonly removed: readonly string[];
      readonly updates: readonly ProfileAudienceUpdate[];
      readonly transitions?: readonly AudienceTransition[];
    },
    nowMs: number,
  ): Promise<void> {
    const { removed, updates, transitions = [] } = round;
    if (removed.length === 0 && updates.length === 0 && transitions.length === 0) return;
    const write = (work: (trx: Db) => Promise<void>) =>
      writeTransaction(this.db, this.dialect, work, { replayable: true });
    await write(async (trx) => {
      for (const part of chunks([...new Set(removed)], IN_CHUNK))
        await removeProfiles(trx, workspaceId, part, nowMs);
      for (const update of updates)
        await setMemberships(trx, workspaceId, update.profileId, update.memberships, nowMs);
      const values = updates.flatMap((u) => u.computed.map((c) => ({ profileId: u.profileId, ...c })));
      for (const part of chunks(values, WRITE_BATCH)) await setComputedValues(trx, workspaceId, part, nowMs);
      const unscheduled = updates.filter((u) => u.dueMs === null).map((u) => u.profileId);
      for (const part of chunks(unscheduled, IN_CHUNK))
        await trx
          .deleteFrom('profile_schedule')
          .where('workspace_id', '=', workspaceId)
          .where('profile_id', 'in', part)
          .execute();
      const scheduled = updates.filter((u) => u.dueMs !== null);
      for (const part of chunks(scheduled, WRITE_BATCH))
        await trx
          .insertInto('profile_schedule')
          .values(
            part.map((u) => ({
              workspace_id: workspaceId,
              profile_id: u.profileId,
              due_ms: u.dueMs as number,
            })),
          )
          .onConflict((oc) =>
            oc
              .columns(['workspace_id', 'profile_id'])
              .doUpdateSet((eb) => ({ due_ms: eb.ref('excluded.due_ms') })),
          )
          .execute();
      for (const part of chunks(transitions, WRITE_BATCH))
        await trx
          .insertInto('audience_event_outbox')
          .values(
            part.map((t) => ({
              workspace_id: workspaceId,
              message_id: t.messageId,
              profile_id: t.profileId,
              segment_id: t.segmentId,
              segment_slug: t.segmentSlug,
              segment_name: t.segmentName,
              member: t.member ? 1 : 0,
              at_ms: t.atMs,
              decided_ms: t.decidedMs,
            })),
          )
          .onConflict((oc) => oc.doNothing())
          .execute();
    });
  }

  async pendingTransitions(decidedBeforeMs: number, limit: number) {
    const rows = await this.db
      .selectFrom('audience_event_outbox')
      .selectAll()
      .where('decided_ms', '<=', decidedBeforeMs)
      .orderBy('decided_ms')
      .orderBy('workspace_id')
      .orderBy('message_id')
      .limit(limit)
      .execute();
    return rows.map((row) => ({
      workspaceId: row.workspace_id,
      messageId: row.message_id,
      profileId: row.profile_id,
      segmentId: row.segment_id,
      segmentSlug: row.segment_slug,
      segmentName: row.segment_name,
      member: Number(row.member) === 1,
      atMs: Number(row.at_ms),
      decidedMs: Number(row.decided_ms),
    }));
  }

  async transitionsSent(workspaceId: string, messageIds: readonly string[]): Promise<void> {
    if (messageIds.length === 0) return;
    await writeTransaction(
      this.db,
      this.dialect,
      async (trx) => {
        for (const part of chunks([...messageIds], IN_CHUNK))
          await trx
            .deleteFrom('audience_event_outbox')
            .where('workspace_id', '=', workspaceId)
            .where('message_id', 'in', part)
            .execute();
      },
      { replayable: true },
    );
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

  async audienceOf(workspaceId: string, profileId: string) {
    const rows = await this.db
      .selectFrom('computed_trait_values')
      .select([sql<string>`'c'`.as('kind'), 'name as key', 'value'])
      .where('workspace_id', '=', workspaceId)
      .where('profile_id', '=', profileId)
      .unionAll(
        this.db
          .selectFrom('segment_memberships as m')
          .innerJoin('segments as s', (join) =>
            join.onRef('s.workspace_id', '=', 'm.workspace_id').onRef('s.id', '=', 'm.segment_id'),
          )
          .select([sql<string>`'s'`.as('kind'), 's.slug as key', sql<string>`''`.as('value')])
          .where('m.workspace_id', '=', workspaceId)
          .where('m.profile_id', '=', profileId),
      )
      .execute();
    const computed: Record<string, JsonValue> = {};
    const segments: string[] = [];
    for (const row of rows.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)))
      if (row.kind === 'c') computed[row.key] = JSON.parse(row.value) as JsonValue;
      else segments.push(row.key);
    return { computed, segments };
  }

  profilesUpdatedSince(
    workspaceId: string,
    sinceMs: number,
    page: { readonly afterId: string | undefined; readonly limit: number },
  ): Promise<string[]> {
    return livePersonsUpdatedSince(this.db, workspaceId, sinceMs, page);
  }

  async nextDue(): Promise<number | null> {
    const row = await this.db
      .selectFrom('profile_schedule')
      .select((eb) => eb.fn.min<number | string | null>('due_ms').as('due'))
      .executeTakeFirst();
    return row?.due === null || row?.due === undefined ? null : Number(row.due);
  }
}

/** Profiles merged away or erased: their memberships end (with history), values and schedule go. */
async function removeProfiles(trx: Db, workspaceId: string, profileIds: readonly string[], nowMs: number) {
  const memberships = await trx
    .selectFrom('segment_memberships')
    .select(['profile_id', 'segment_id'])
    .where('workspace_id', '=', workspaceId)
    .where('profile_id', 'in', profileIds)
    .execute();
  for (const part of chunks(memberships, WRITE_BATCH))
    await trx
      .insertInto('segment_membership_history')
      .values(
        part.map((m) => ({
          workspace_id: workspaceId,
          segment_id: m.segment_id,
          profile_id: m.profile_id,
          change: 'exited',
          at_ms: nowMs,
        })),
      )
      .execute();
  for (const table of ['segment_memberships', 'computed_trait_values', 'profile_schedule'] as const)
    await trx
      .deleteFrom(table)
      .where('workspace_id', '=', workspaceId)
      .where('profile_id', 'in', profileIds)
      .execute();
}

async function setMemberships(
  trx: Db,
  workspaceId: string,
  profileId: string,
  changes: ProfileAudienceUpdate['memberships'],
  nowMs: number,
): Promise<void> {
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
}

async function setComputedValues(
  trx: Db,
  workspaceId: string,
  values: readonly (ProfileAudienceUpdate['computed'][number] & { readonly profileId: string })[],
  nowMs: number,
): Promise<void> {
  for (const { profileId, name } of values.filter((v) => v.value === undefined))
    await trx
      .deleteFrom('computed_trait_values')
      .where('workspace_id', '=', workspaceId)
      .where('profile_id', '=', profileId)
      .where('name', '=', name)
      .execute();
  const present = values.filter((v) => v.value !== undefined);
  if (present.length === 0) return;
  await trx
    .insertInto('computed_trait_values')
    .values(
      present.map((v) => ({
        workspace_id: workspaceId,
        profile_id: v.profileId,
        name: v.name,
        value: JSON.stringify(v.value),
        updated_ms: nowMs,
        next_change_ms: v.nextChangeMs,
      })),
    )
    .onConflict((oc) =>
      oc.columns(['workspace_id', 'profile_id', 'name']).doUpdateSet((eb) => ({
        value: eb.ref('excluded.value'),
        updated_ms: eb.ref('excluded.updated_ms'),
        next_change_ms: eb.ref('excluded.next_change_ms'),
      })),
    )
    .execute();
}
