import type { Kysely, Selectable } from 'kysely';
import type { ComputedTraitDefinition } from '../../computed-traits/computed-trait-definition.ts';
import type {
  ComputedTrait,
  ComputedTraitRepository,
  ComputedValue,
} from '../../computed-traits/computed-traits.port.ts';
import type { JsonValue, SnapshotEvent } from '../../segments/profile-snapshot.ts';
import type { ProfileIdRange } from '../../segments/segments.port.ts';
import type { BackfillProgress } from '../../segments/segment-types.ts';
import type { Database } from '../database-schema.ts';
import type { ReadRouting } from './read-routing.ts';
import type { SqlDialectName } from '../sql-dialect.ts';
import { scheduleNoLaterThan } from './audience-state.repository.ts';
import { chunkBoundaries, countLivePersons, livePersonIds } from './live-profiles.ts';
import { snapshotEventOf } from './profile-snapshot.reader.ts';
import { TRACK } from './track-type.ts';

const WRITE_BATCH = 500;

export class KyselyComputedTraitRepository implements ComputedTraitRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: SqlDialectName,
    /** For the definitions' listing (read-routing.ts). */
    private readonly reads: ReadRouting = () => db,
  ) {}

  async create(trait: ComputedTrait): Promise<boolean> {
    const result = await this.db
      .insertInto('computed_traits')
      .values({
        workspace_id: trait.workspaceId,
        id: trait.id,
        name: trait.name,
        definition: JSON.stringify(trait.definition),
        version: trait.version,
        created_ms: trait.createdMs,
        updated_ms: trait.updatedMs,
        ...progressColumns(trait.backfill),
      })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  async find(workspaceId: string, name: string): Promise<ComputedTrait | undefined> {
    const row = await this.db
      .selectFrom('computed_traits')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('name', '=', name)
      .executeTakeFirst();
    return row ? toComputedTrait(row) : undefined;
  }

  async list(
    workspaceId: string,
    page: { afterName?: string | undefined; limit: number },
  ): Promise<ComputedTrait[]> {
    let query = this.reads()
      .selectFrom('computed_traits')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .orderBy('name')
      .limit(page.limit);
    if (page.afterName !== undefined) query = query.where('name', '>', page.afterName);
    return (await query.execute()).map(toComputedTrait);
  }

  async redefine(
    workspaceId: string,
    id: string,
    definition: ComputedTraitDefinition,
    updatedMs: number,
  ): Promise<ComputedTrait | undefined> {
    return this.db.transaction().execute(async (trx) => {
      const row = await trx
        .selectFrom('computed_traits')
        .selectAll()
        .where('workspace_id', '=', workspaceId)
        .where('id', '=', id)
        .executeTakeFirst();
      if (!row) return undefined;
      const next: Selectable<Database['computed_traits']> = {
        ...row,
        definition: JSON.stringify(definition),
        version: Number(row.version) + 1,
        updated_ms: updatedMs,
        ...progressColumns({
          status: 'backfilling',
          total: 0,
          done: 0,
          startedMs: null,
          finishedMs: null,
          error: null,
        }),
      };
      const { workspace_id: _ws, id: _id, ...values } = next;
      await trx
        .updateTable('computed_traits')
        .set(values)
        .where('workspace_id', '=', workspaceId)
        .where('id', '=', id)
        .execute();
      return toComputedTrait(next);
    });
  }

  async delete(workspaceId: string, id: string, name: string): Promise<boolean> {
    // The definition first: that waits for a recompute step holding it, and later steps find it gone.
    return this.db.transaction().execute(async (trx) => {
      const result = await trx
        .deleteFrom('computed_traits')
        .where('workspace_id', '=', workspaceId)
        .where('id', '=', id)
        .executeTakeFirst();
      await trx
        .deleteFrom('computed_trait_values')
        .where('workspace_id', '=', workspaceId)
        .where('name', '=', name)
        .execute();
      return Number(result.numDeletedRows) === 1;
    });
  }

  async setBackfill(
    workspaceId: string,
    id: string,
    version: number,
    progress: BackfillProgress,
  ): Promise<boolean> {
    const result = await this.db
      .updateTable('computed_traits')
      .set(progressColumns(progress))
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', id)
      .where('version', '=', version)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async listUnfinished(): Promise<ComputedTrait[]> {
    const rows = await this.db
      .selectFrom('computed_traits')
      .selectAll()
      .where('status', '=', 'backfilling')
      .execute();
    return rows.map(toComputedTrait);
  }

  countLivePersons(workspaceId: string): Promise<number> {
    return countLivePersons(this.db, workspaceId);
  }

  chunkBoundaries(workspaceId: string, chunkSize: number): Promise<string[]> {
    return chunkBoundaries(this.db, workspaceId, chunkSize);
  }

  livePersonIds(workspaceId: string, range: ProfileIdRange): Promise<string[]> {
    return livePersonIds(this.db, workspaceId, range);
  }

  async eventsOf(
    workspaceId: string,
    range: ProfileIdRange,
    eventName: string,
  ): Promise<Map<string, SnapshotEvent[]>> {
    let query = this.db
      .selectFrom('profile_events as pe')
      .innerJoin('events as e', 'e.seq', 'pe.seq')
      .select(['pe.profile_id', 'pe.type', 'pe.event', 'pe.ts_ms', 'pe.seq', 'e.payload'])
      .where('pe.workspace_id', '=', workspaceId)
      .where('pe.event', '=', eventName)
      .where('pe.type', '=', TRACK);
    if (range.afterId !== undefined) query = query.where('pe.profile_id', '>', range.afterId);
    if (range.untilId !== undefined) query = query.where('pe.profile_id', '<=', range.untilId);
    const byProfile = new Map<string, SnapshotEvent[]>();
    for (const row of await query.execute()) {
      const event = snapshotEventOf(row);
      const list = byProfile.get(row.profile_id);
      if (list === undefined) byProfile.set(row.profile_id, [event]);
      else list.push(event);
    }
    return byProfile;
  }

  async replaceValues(
    workspaceId: string,
    trait: { readonly id: string; readonly name: string; readonly version: number },
    range: ProfileIdRange,
    values: readonly ComputedValue[],
    updatedMs: number,
    followUp: { readonly dueOnChange: boolean } = { dueOnChange: false },
  ): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      let current = trx
        .selectFrom('computed_traits')
        .select('version')
        .where('workspace_id', '=', workspaceId)
        .where('id', '=', trait.id);
      if (this.dialect === 'postgres') current = current.forUpdate();
      const row = await current.executeTakeFirst();
      if (row === undefined || Number(row.version) !== trait.version) return false;
      // Values the real-time path wrote after the backfill began (updated later than its
      // start) are newer than what the backfill computed at its start: they stay. Without
      // this, a trait created during traffic lost the values of profiles updated meanwhile.
      // (A value written in the very millisecond the backfill began is replaced.)
      let before = trx
        .selectFrom('computed_trait_values')
        .select(['profile_id', 'value', 'updated_ms'])
        .where('workspace_id', '=', workspaceId)
        .where('name', '=', trait.name);
      if (range.afterId !== undefined) before = before.where('profile_id', '>', range.afterId);
      if (range.untilId !== undefined) before = before.where('profile_id', '<=', range.untilId);
      const previous = new Map<string, string>();
      const kept = new Set<string>();
      for (const row of await before.execute())
        if (Number(row.updated_ms) > updatedMs) kept.add(row.profile_id);
        else previous.set(row.profile_id, row.value);
      let remove = trx
        .deleteFrom('computed_trait_values')
        .where('workspace_id', '=', workspaceId)
        .where('name', '=', trait.name)
        .where('updated_ms', '<=', updatedMs);
      if (range.afterId !== undefined) remove = remove.where('profile_id', '>', range.afterId);
      if (range.untilId !== undefined) remove = remove.where('profile_id', '<=', range.untilId);
      await remove.execute();
      const written = values.filter((v) => !kept.has(v.profileId));
      for (let i = 0; i < written.length; i += WRITE_BATCH) {
        await trx
          .insertInto('computed_trait_values')
          .values(
            written.slice(i, i + WRITE_BATCH).map((v) => ({
              workspace_id: workspaceId,
              profile_id: v.profileId,
              name: trait.name,
              value: JSON.stringify(v.value),
              updated_ms: updatedMs,
              next_change_ms: v.nextChangeMs,
            })),
          )
          .onConflict((oc) => oc.columns(['workspace_id', 'profile_id', 'name']).doNothing())
          .execute();
      }
      // The real-time path schedules a value's lapse when it writes the value; what is
      // written here lapses at the same instant, so it is due then too.
      const schedule = written.flatMap((v) =>
        v.nextChangeMs === null ? [] : [{ profileId: v.profileId, dueMs: v.nextChangeMs }],
      );
      if (followUp.dueOnChange) {
        // Segments read the value: where it changed, they are evaluated again at once.
        const now = new Map(written.map((v) => [v.profileId, JSON.stringify(v.value)]));
        for (const profileId of new Set([...previous.keys(), ...now.keys()]))
          if (previous.get(profileId) !== now.get(profileId)) schedule.push({ profileId, dueMs: updatedMs });
      }
      await scheduleNoLaterThan(trx, workspaceId, schedule);
      return true;
    });
  }

  async valuesOf(workspaceId: string, profileId: string): Promise<Record<string, JsonValue>> {
    const rows = await this.db
      .selectFrom('computed_trait_values')
      .select(['name', 'value'])
      .where('workspace_id', '=', workspaceId)
      .where('profile_id', '=', profileId)
      .orderBy('name')
      .execute();
    return Object.fromEntries(rows.map((row) => [row.name, JSON.parse(row.value) as JsonValue]));
  }
}

function progressColumns(progress: BackfillProgress) {
  return {
    status: progress.status,
    backfill_total: progress.total,
    backfill_done: progress.done,
    backfill_started_ms: progress.startedMs,
    backfill_finished_ms: progress.finishedMs,
    backfill_error: progress.error,
  };
}

const optNum = (value: number | string | null): number | null => (value === null ? null : Number(value));

function toComputedTrait(row: Selectable<Database['computed_traits']>): ComputedTrait {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    name: row.name,
    definition: JSON.parse(row.definition),
    version: Number(row.version),
    createdMs: Number(row.created_ms),
    updatedMs: Number(row.updated_ms),
    backfill: {
      status: row.status as BackfillProgress['status'],
      total: Number(row.backfill_total),
      done: Number(row.backfill_done),
      startedMs: optNum(row.backfill_started_ms),
      finishedMs: optNum(row.backfill_finished_ms),
      error: row.backfill_error,
    },
  };
}
