import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { Expression } from '../../segment-language/index.ts';
import type { ProfileSnapshot } from '../../segments/profile-snapshot.ts';
import { audienceTransition } from '../../segments/audience-events.ts';
import type {
  BackfillFollowUp,
  MatchQuery,
  ProfileIdRange,
  SegmentDefinitionChanges,
  SegmentRepository,
  SnapshotOptions,
} from '../../segments/segments.port.ts';
import type {
  BackfillProgress,
  MembershipHistoryEntry,
  Segment,
  SegmentMember,
} from '../../segments/segment-types.ts';
import type { Database } from '../database-schema.ts';
import { compileSegmentQuery } from '../segment-sql/compile-segment.ts';
import type { SqlDialectName } from '../sql-dialect.ts';
import { oweTransitions, scheduleNoLaterThan } from './audience-state.repository.ts';
import { chunkBoundaries, countLivePersons } from './live-profiles.ts';
import { loadProfileSnapshots } from './profile-snapshot.reader.ts';
import type { PiiSealing } from './pii-sealing.ts';
import type { ReadRouting } from './read-routing.ts';
import { decideSealedLeaves } from './sealed-segment-leaves.ts';
import { chunks } from './workspace-write.ts';

/** Rows per INSERT/DELETE statement: far below both dialects' parameter limits. */
const WRITE_BATCH = 500;
/** Profiles per snapshot read: six `IN` lists of this size, and their timelines in memory. */
const SNAPSHOT_CHUNK = 500;

export class KyselySegmentRepository implements SegmentRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: SqlDialectName,
    private readonly sealing: PiiSealing,
    /**
     * For a segment by slug, its members, size and history (read-routing.ts). No pipeline
     * batch writes a definition, so the service's actions may resolve a slug there too; the
     * backfills' and the pipeline's reads and writes stay on `db`.
     */
    private readonly reads: ReadRouting = () => db,
  ) {}

  async create(segment: Segment): Promise<boolean> {
    const result = await this.db
      .insertInto('segments')
      .values(toRow(segment))
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  async find(workspaceId: string, slug: string): Promise<Segment | undefined> {
    const row = await this.reads()
      .selectFrom('segments')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('slug', '=', slug)
      .executeTakeFirst();
    return row ? toSegment(row) : undefined;
  }

  async list(
    workspaceId: string,
    page: { afterSlug?: string | undefined; limit: number },
  ): Promise<Segment[]> {
    let query = this.db
      .selectFrom('segments')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .orderBy('slug')
      .limit(page.limit);
    if (page.afterSlug !== undefined) query = query.where('slug', '>', page.afterSlug);
    return (await query.execute()).map(toSegment);
  }

  async update(
    workspaceId: string,
    id: string,
    changes: SegmentDefinitionChanges,
  ): Promise<Segment | undefined> {
    return this.db.transaction().execute(async (trx) => {
      const row = await trx
        .selectFrom('segments')
        .selectAll()
        .where('workspace_id', '=', workspaceId)
        .where('id', '=', id)
        .executeTakeFirst();
      if (!row) return undefined;
      const redefined = changes.definition !== undefined && changes.definition !== row.definition;
      const next: Selectable<Database['segments']> = {
        ...row,
        name: changes.name ?? row.name,
        description: changes.description ?? row.description,
        definition: changes.definition ?? row.definition,
        dependencies: changes.dependencies ? JSON.stringify(changes.dependencies) : row.dependencies,
        updated_ms: changes.updatedMs,
        ...(redefined
          ? {
              version: Number(row.version) + 1,
              status: 'backfilling',
              backfill_done: 0,
              backfill_started_ms: null,
              backfill_finished_ms: null,
              backfill_error: null,
            }
          : {}),
      };
      const { workspace_id: _ws, id: _id, ...values } = next;
      await trx
        .updateTable('segments')
        .set(values)
        .where('workspace_id', '=', workspaceId)
        .where('id', '=', id)
        .execute();
      return toSegment(next);
    });
  }

  async delete(workspaceId: string, id: string): Promise<boolean> {
    // The definition first: that waits for a backfill step holding it, and later steps find it gone.
    return this.db.transaction().execute(async (trx) => {
      const result = await trx
        .deleteFrom('segments')
        .where('workspace_id', '=', workspaceId)
        .where('id', '=', id)
        .executeTakeFirst();
      await trx
        .deleteFrom('segment_memberships')
        .where('workspace_id', '=', workspaceId)
        .where('segment_id', '=', id)
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
      .updateTable('segments')
      .set({
        status: progress.status,
        backfill_total: progress.total,
        backfill_done: progress.done,
        backfill_started_ms: progress.startedMs,
        backfill_finished_ms: progress.finishedMs,
        backfill_error: progress.error,
      })
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', id)
      .where('version', '=', version)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async listUnfinished(): Promise<Segment[]> {
    const rows = await this.db
      .selectFrom('segments')
      .selectAll()
      .where('status', '=', 'backfilling')
      .execute();
    return rows.map(toSegment);
  }

  async countMembers(workspaceId: string, segmentId: string): Promise<number> {
    const row = await this.reads()
      .selectFrom('segment_memberships')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('workspace_id', '=', workspaceId)
      .where('segment_id', '=', segmentId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async listMembers(
    workspaceId: string,
    segmentId: string,
    page: { afterProfileId?: string | undefined; limit: number },
  ): Promise<SegmentMember[]> {
    let query = this.reads()
      .selectFrom('segment_memberships')
      .select(['profile_id', 'entered_ms'])
      .where('workspace_id', '=', workspaceId)
      .where('segment_id', '=', segmentId)
      .orderBy('profile_id')
      .limit(page.limit);
    if (page.afterProfileId !== undefined) query = query.where('profile_id', '>', page.afterProfileId);
    return (await query.execute()).map((row) => ({
      profileId: row.profile_id,
      enteredMs: Number(row.entered_ms),
    }));
  }

  async membershipHistory(
    workspaceId: string,
    profileId: string,
    page: { beforeSeq?: number | undefined; limit: number },
  ): Promise<MembershipHistoryEntry[]> {
    let query = this.reads()
      .selectFrom('segment_membership_history')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('profile_id', '=', profileId)
      .orderBy('seq', 'desc')
      .limit(page.limit);
    if (page.beforeSeq !== undefined) query = query.where('seq', '<', page.beforeSeq);
    return (await query.execute()).map((row) => ({
      seq: Number(row.seq),
      segmentId: row.segment_id,
      profileId: row.profile_id,
      change: row.change as MembershipHistoryEntry['change'],
      atMs: Number(row.at_ms),
    }));
  }

  async membershipChanges(
    workspaceId: string,
    segmentId: string,
    bucketMs: number,
  ): Promise<{ bucketStartMs: number; entered: number; exited: number }[]> {
    const size = sql.lit(Math.max(1, Math.trunc(bucketMs)));
    const { rows } = await sql<{
      bucket: number | string;
      entered: number | string;
      exited: number | string;
    }>`
      SELECT at_ms / ${size} AS bucket,
        SUM(CASE WHEN change = 'entered' THEN 1 ELSE 0 END) AS entered,
        SUM(CASE WHEN change = 'exited' THEN 1 ELSE 0 END) AS exited
      FROM segment_membership_history
      WHERE workspace_id = ${workspaceId} AND segment_id = ${segmentId}
      GROUP BY at_ms / ${size}
      ORDER BY bucket`.execute(this.reads());
    return rows.map((row) => ({
      bucketStartMs: Number(row.bucket) * Math.trunc(bucketMs),
      entered: Number(row.entered),
      exited: Number(row.exited),
    }));
  }

  countLivePersons(workspaceId: string): Promise<number> {
    return countLivePersons(this.db, workspaceId);
  }

  chunkBoundaries(workspaceId: string, chunkSize: number): Promise<string[]> {
    return chunkBoundaries(this.db, workspaceId, chunkSize);
  }

  async countMatching(workspaceId: string, definition: Expression, query: MatchQuery): Promise<number> {
    const compiled = await this.#compile(workspaceId, definition, query);
    const { rows } = await sql<{ n: number | string }>`SELECT COUNT(*) AS n FROM (${compiled}) AS m`.execute(
      this.db,
    );
    return Number(rows[0]?.n ?? 0);
  }

  async matchingIds(
    workspaceId: string,
    definition: Expression,
    query: MatchQuery & { readonly limit?: number },
  ): Promise<string[]> {
    const compiled = await this.#compile(workspaceId, definition, query);
    const limit =
      query.limit === undefined ? sql`` : sql` LIMIT ${sql.lit(Math.max(0, Math.trunc(query.limit)))}`;
    const { rows } = await sql<{
      id: string;
    }>`SELECT m.id AS id FROM (${compiled}) AS m ORDER BY m.id${limit}`.execute(this.db);
    return rows.map((row) => row.id);
  }

  async replaceMembers(
    workspaceId: string,
    segmentId: string,
    version: number,
    range: ProfileIdRange,
    memberIds: readonly string[],
    nowMs: number,
    followUp?: BackfillFollowUp,
  ): Promise<{ entered: number; exited: number } | null> {
    return this.db.transaction().execute(async (trx) => {
      // Locks the definition (PostgreSQL; SQLite has one writer) so a concurrent delete or
      // redefinition cannot leave memberships of a segment that is gone or changed.
      let current = trx
        .selectFrom('segments')
        .select('version')
        .where('workspace_id', '=', workspaceId)
        .where('id', '=', segmentId);
      if (this.dialect === 'postgres') current = current.forUpdate();
      const row = await current.executeTakeFirst();
      if (row === undefined || Number(row.version) !== version) return null;
      let existingQuery = trx
        .selectFrom('segment_memberships')
        .select('profile_id')
        .where('workspace_id', '=', workspaceId)
        .where('segment_id', '=', segmentId);
      if (range.afterId !== undefined) existingQuery = existingQuery.where('profile_id', '>', range.afterId);
      if (range.untilId !== undefined) existingQuery = existingQuery.where('profile_id', '<=', range.untilId);
      const existing = new Set((await existingQuery.execute()).map((row) => row.profile_id));
      const wanted = new Set(memberIds);
      const entered = [...wanted].filter((id) => !existing.has(id));
      const exited = [...existing].filter((id) => !wanted.has(id));
      for (const batch of batches(exited)) {
        await trx
          .deleteFrom('segment_memberships')
          .where('workspace_id', '=', workspaceId)
          .where('segment_id', '=', segmentId)
          .where('profile_id', 'in', batch)
          .execute();
      }
      for (const batch of batches(entered)) {
        await trx
          .insertInto('segment_memberships')
          .values(
            batch.map((profileId) => ({
              workspace_id: workspaceId,
              segment_id: segmentId,
              profile_id: profileId,
              entered_ms: nowMs,
            })),
          )
          .execute();
      }
      const history = [
        ...entered.map((profileId) => ({ profileId, change: 'entered' })),
        ...exited.map((profileId) => ({ profileId, change: 'exited' })),
      ];
      for (const batch of batches(history)) {
        await trx
          .insertInto('segment_membership_history')
          .values(
            batch.map(({ profileId, change }) => ({
              workspace_id: workspaceId,
              segment_id: segmentId,
              profile_id: profileId,
              change,
              at_ms: nowMs,
            })),
          )
          .execute();
      }
      if (followUp !== undefined)
        await this.#followUp(trx, workspaceId, segmentId, followUp, { entered, exited }, nowMs);
      return { entered: entered.length, exited: exited.length };
    });
  }

  async #followUp(
    trx: Transaction<Database>,
    workspaceId: string,
    segmentId: string,
    followUp: BackfillFollowUp,
    changed: { readonly entered: readonly string[]; readonly exited: readonly string[] },
    nowMs: number,
  ): Promise<void> {
    const ids = [...changed.entered, ...changed.exited];
    const { audience } = followUp;
    if (audience !== undefined && ids.length > 0) {
      // Stamped after the profile's latest event, as the real-time path stamps them.
      const lastSeen = new Map<string, number>();
      for (const part of batches(ids)) {
        const rows = await trx
          .selectFrom('profiles')
          .select(['id', 'last_seen_ms'])
          .where('workspace_id', '=', workspaceId)
          .where('id', 'in', part)
          .execute();
        for (const row of rows) lastSeen.set(row.id, Number(row.last_seen_ms));
      }
      const segment = { id: segmentId, slug: audience.slug, name: audience.name };
      const owed = [
        ...changed.entered.map((id) => ({ id, member: true })),
        ...changed.exited.map((id) => ({ id, member: false })),
      ].map(({ id, member }) =>
        audienceTransition(id, segment, member, nowMs, lastSeen.get(id) ?? Number.NEGATIVE_INFINITY),
      );
      await oweTransitions(trx, workspaceId, owed);
    }
    const due = followUp.dueOnChange ? ids.map((profileId) => ({ profileId, dueMs: nowMs })) : [];
    await scheduleNoLaterThan(trx, workspaceId, [...followUp.schedule, ...due]);
  }

  async loadSnapshots(
    workspaceId: string,
    profileIds: readonly string[],
    options: SnapshotOptions = {},
  ): Promise<Map<string, ProfileSnapshot>> {
    const all = new Map<string, ProfileSnapshot>();
    for (const part of chunks(profileIds, SNAPSHOT_CHUNK))
      for (const [id, snapshot] of await loadProfileSnapshots(
        this.db,
        this.sealing,
        workspaceId,
        part,
        options,
      ))
        all.set(id, snapshot);
    return all;
  }

  async #compile(workspaceId: string, definition: Expression, query: MatchQuery) {
    const sealedLeaves = await decideSealedLeaves(this.db, this.sealing, workspaceId, definition, query);
    return compileSegmentQuery(definition, { ...query, dialect: this.dialect, workspaceId, sealedLeaves });
  }
}

function* batches<T>(items: readonly T[]): Generator<T[]> {
  for (let i = 0; i < items.length; i += WRITE_BATCH) yield items.slice(i, i + WRITE_BATCH);
}

function toRow(segment: Segment): Database['segments'] {
  return {
    workspace_id: segment.workspaceId,
    id: segment.id,
    slug: segment.slug,
    name: segment.name,
    description: segment.description,
    definition: segment.definition,
    dependencies: JSON.stringify(segment.dependencies),
    version: segment.version,
    created_ms: segment.createdMs,
    updated_ms: segment.updatedMs,
    status: segment.backfill.status,
    backfill_total: segment.backfill.total,
    backfill_done: segment.backfill.done,
    backfill_started_ms: segment.backfill.startedMs,
    backfill_finished_ms: segment.backfill.finishedMs,
    backfill_error: segment.backfill.error,
  };
}

const optNum = (value: number | string | null): number | null => (value === null ? null : Number(value));

function toSegment(row: Selectable<Database['segments']>): Segment {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    slug: row.slug,
    name: row.name,
    description: row.description,
    definition: row.definition,
    dependencies: JSON.parse(row.dependencies),
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
