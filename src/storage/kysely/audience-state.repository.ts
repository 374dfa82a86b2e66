import { sql, type Kysely } from 'kysely';
import type { JsonValue } from '../../segments/profile-snapshot.ts';
import type {
  AudienceStateRepository,
  AudienceTransition,
  ProfileAudienceUpdate,
} from '../../segments/audience-state.port.ts';
import type { Database } from '../database-schema.ts';
import type { SqlDialectName } from '../sql-dialect.ts';
import { CompiledOnce } from './compiled-once.ts';
import type { ReadRouting } from './read-routing.ts';
import { livePersonsUpdatedSince } from './live-profiles.ts';
import { chunks, writeTransaction, type Db } from './workspace-write.ts';

const IN_CHUNK = 500;
const WRITE_BATCH = 200;

// Read by every profile view (compiled-once.ts).
const audienceOfProfile = (): CompiledOnce<
  { readonly workspaceId: string; readonly profileId: string },
  { kind: string; key: string; value: string }
> =>
  new CompiledOnce((db, param) =>
    db
      .selectFrom('computed_trait_values')
      .select([sql<string>`'c'`.as('kind'), 'name as key', 'value'])
      .where('workspace_id', '=', param('workspaceId'))
      .where('profile_id', '=', param('profileId'))
      .unionAll(
        db
          .selectFrom('segment_memberships as m')
          .innerJoin('segments as s', (join) =>
            join.onRef('s.workspace_id', '=', 'm.workspace_id').onRef('s.id', '=', 'm.segment_id'),
          )
          .select([sql<string>`'s'`.as('kind'), 's.slug as key', sql<string>`''`.as('value')])
          .where('m.workspace_id', '=', param('workspaceId'))
          .where('m.profile_id', '=', param('profileId')),
      ),
  );

export class KyselyAudienceStateRepository implements AudienceStateRepository {
  readonly #audienceOfProfile = audienceOfProfile();
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: SqlDialectName,
    /** For a profile view's memberships and computed values (read-routing.ts). */
    private readonly reads: ReadRouting = () => db,
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
      await oweTransitions(trx, workspaceId, transitions);
    });
  }

  async pendingTransitions(decidedBeforeMs: number, limit: number, workspaceId?: string) {
    let query = this.db
      .selectFrom('audience_event_outbox')
      .selectAll()
      .where('decided_ms', '<=', decidedBeforeMs);
    if (workspaceId !== undefined) query = query.where('workspace_id', '=', workspaceId);
    const rows = await query
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

  async dueIn(
    workspaceId: string,
    nowMs: number,
    page: { readonly afterId: string | undefined; readonly limit: number },
  ): Promise<string[]> {
    let query = this.db
      .selectFrom('profile_schedule')
      .select('profile_id')
      .where('workspace_id', '=', workspaceId)
      .where('due_ms', '<=', nowMs)
      .orderBy('profile_id')
      .limit(page.limit);
    if (page.afterId !== undefined) query = query.where('profile_id', '>', page.afterId);
    return (await query.execute()).map((row) => row.profile_id);
  }

  async createdBy(
    workspaceId: string,
    profileIds: readonly string[],
    seqs: readonly number[],
  ): Promise<Set<string>> {
    const created = new Set<string>();
    if (profileIds.length === 0 || seqs.length === 0) return created;
    const batch = new Set(seqs);
    for (const part of chunks([...profileIds], IN_CHUNK)) {
      const rows = await this.db
        .selectFrom('profiles')
        .select(['id', 'created_seq'])
        .where('workspace_id', '=', workspaceId)
        .where('id', 'in', part)
        .execute();
      for (const row of rows) if (batch.has(Number(row.created_seq))) created.add(row.id);
    }
    return created;
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
    const rows = await this.#audienceOfProfile.rows(this.reads(), { workspaceId, profileId });
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

/** Records the events owed for these transitions (once: a message id is written at most once). */
export async function oweTransitions(
  trx: Db,
  workspaceId: string,
  transitions: readonly AudienceTransition[],
): Promise<void> {
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
}

/**
 * Makes each profile due no later than its instant: an earlier due it already has stays (the
 * evaluation then computes the exact next one), so a caller that knows only one definition's
 * next change never postpones another's.
 */
export async function scheduleNoLaterThan(
  trx: Db,
  workspaceId: string,
  entries: readonly { readonly profileId: string; readonly dueMs: number }[],
): Promise<void> {
  // One row per profile: PostgreSQL refuses to update a row twice in one statement.
  const earliest = new Map<string, number>();
  for (const { profileId, dueMs } of entries)
    earliest.set(profileId, Math.min(dueMs, earliest.get(profileId) ?? dueMs));
  const rows = [...earliest].map(([profileId, dueMs]) => ({ profileId, dueMs }));
  for (const part of chunks(rows, WRITE_BATCH))
    await trx
      .insertInto('profile_schedule')
      .values(part.map((e) => ({ workspace_id: workspaceId, profile_id: e.profileId, due_ms: e.dueMs })))
      .onConflict((oc) =>
        oc.columns(['workspace_id', 'profile_id']).doUpdateSet({
          due_ms: sql<number>`CASE WHEN excluded.due_ms < profile_schedule.due_ms THEN excluded.due_ms ELSE profile_schedule.due_ms END`,
        }),
      )
      .execute();
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
