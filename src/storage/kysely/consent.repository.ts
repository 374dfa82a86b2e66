import type { Kysely, Selectable } from 'kysely';
import { compareConsent, currentConsent, type ConsentEntry } from '../../privacy/consent.ts';
import type { ConsentBatch, ConsentRecord, ConsentRepository } from '../../privacy/consent.port.ts';
import type { Database } from '../database-schema.ts';
import type { SqlDialectName } from '../sql-dialect.ts';
import { CompiledOnce } from './compiled-once.ts';
import type { ReadRouting } from './read-routing.ts';
import { insertRows, type RowsInsert } from './multi-row-insert.ts';
import { remapProfileColumn, survivorsOf } from './profile-remap.ts';
import { chunks, LOCK_CLASS, workspaceWrite, type Db } from './workspace-write.ts';

const IN_CHUNK = 1_000;
const WRITE_BATCH = 500;

// Read by every profile view (compiled-once.ts).
const consentOfProfile = (): CompiledOnce<
  { readonly workspaceId: string; readonly profileId: string },
  { category: string; granted: number | boolean }
> =>
  new CompiledOnce((db, param) =>
    db
      .selectFrom('profile_consent')
      .select(['category', 'granted'])
      .where('workspace_id', '=', param('workspaceId'))
      .where('profile_id', '=', param('profileId'))
      .orderBy('category'),
  );

function toRecord(row: Selectable<Database['consent_history']>): ConsentRecord {
  return {
    seq: Number(row.seq),
    category: row.category,
    granted: Number(row.granted) === 1,
    source: row.source,
    tsMs: Number(row.ts_ms),
    eventSeq: row.event_seq === null ? null : Number(row.event_seq),
    messageId: row.message_id,
    actor: row.actor,
    atMs: Number(row.at_ms),
  };
}

/**
 * Consent over Kysely, both dialects. Every change runs in one transaction per workspace
 * (advisory lock on PostgreSQL, BEGIN IMMEDIATE on SQLite) and ends by recomputing the current
 * values of the profiles whose history changed, so `profile_consent` always equals what the
 * history says.
 */
export class KyselyConsentRepository implements ConsentRepository {
  readonly #consentOfProfile = consentOfProfile();
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: SqlDialectName,
    /** For the API's reads of current values and history (read-routing.ts). */
    private readonly reads: ReadRouting = () => db,
  ) {}

  async applyBatch(workspaceId: string, batch: ConsentBatch, nowMs: number): Promise<void> {
    // Most batches say nothing about consent and touch profiles without any: one read, no write.
    if (batch.observations.length === 0 && !(await this.#anyHistory(workspaceId, batch))) return;
    const write = (work: (trx: Db) => Promise<void>) =>
      workspaceWrite(this.db, this.dialect, LOCK_CLASS.consent, workspaceId, work, { replayable: true });
    await write(async (trx) => {
      // Profiles whose current values are rebuilt from their whole history (rare: an event that
      // moved, an erased profile). Every other change is folded into the current values alone.
      const rebuild = new Set<string>();
      await insertObservations(trx, this.dialect, workspaceId, batch, nowMs, rebuild);
      const merged = survivorsOf(batch.mergedProfiles);
      await remapProfileColumn(trx, 'consent_history', workspaceId, merged);
      await followEvents(trx, workspaceId, [...batch.changedProfiles, ...batch.deletedProfiles], rebuild);
      for (const part of chunks(batch.deletedProfiles, IN_CHUNK)) {
        // Values set through the API for a profile that no longer exists have nobody to follow.
        await trx
          .deleteFrom('consent_history')
          .where('workspace_id', '=', workspaceId)
          .where('profile_id', 'in', part)
          .where('event_seq', 'is', null)
          .execute();
        for (const id of part) rebuild.add(id);
      }

      const folded = await currentValues(trx, workspaceId, [
        ...new Set([
          ...merged.keys(),
          ...merged.values(),
          ...batch.observations.flatMap((o) => (o.profileId === null ? [] : [o.profileId])),
        ]),
      ]);
      const dirty = new Set<string>();
      const fold = (profileId: string, entry: ConsentEntry): void => {
        let current = folded.get(profileId);
        if (current === undefined) folded.set(profileId, (current = new Map()));
        const best = current.get(entry.category);
        if (best === undefined || compareConsent(entry, best) > 0) {
          current.set(entry.category, entry);
          dirty.add(profileId);
        }
      };
      // A merged profile's values compete with its survivor's; then the batch's own values.
      for (const [id, into] of merged) {
        for (const entry of folded.get(id)?.values() ?? []) fold(into, entry);
        folded.set(id, new Map());
        dirty.add(id);
      }
      for (const o of batch.observations) if (o.profileId !== null) fold(o.profileId, o);
      for (const id of rebuild) dirty.delete(id);
      await writeCurrent(
        trx,
        workspaceId,
        [...dirty].map((id) => [id, folded.get(id) ?? new Map()] as const),
      );
      await recompute(trx, workspaceId, [...rebuild]);
    });
  }

  async #anyHistory(workspaceId: string, batch: ConsentBatch): Promise<boolean> {
    const ids = [
      ...new Set([
        ...batch.mergedProfiles.map((m) => m.id),
        ...batch.deletedProfiles,
        ...batch.changedProfiles,
      ]),
    ];
    if (ids.length === 0) return false;
    for (const part of chunks(ids, IN_CHUNK)) {
      const row = await this.db
        .selectFrom('consent_history')
        .select('seq')
        .where('workspace_id', '=', workspaceId)
        .where((eb) => eb.or([eb('profile_id', 'in', part), eb('profile_id', 'is', null)]))
        .limit(1)
        .executeTakeFirst();
      if (row !== undefined) return true;
    }
    return false;
  }

  async record(
    workspaceId: string,
    profileId: string,
    entries: readonly Omit<ConsentRecord, 'seq' | 'eventSeq' | 'atMs' | 'messageId'>[],
    nowMs: number,
  ): Promise<void> {
    if (entries.length === 0) return;
    await workspaceWrite(this.db, this.dialect, LOCK_CLASS.consent, workspaceId, async (trx) => {
      await trx
        .insertInto('consent_history')
        .values(
          entries.map((e) => ({
            workspace_id: workspaceId,
            profile_id: profileId,
            category: e.category,
            granted: e.granted ? 1 : 0,
            source: e.source,
            ts_ms: e.tsMs,
            event_seq: null,
            message_id: null,
            actor: e.actor,
            at_ms: nowMs,
          })),
        )
        .execute();
      await recompute(trx, workspaceId, [profileId]);
    });
  }

  async currentValues(workspaceId: string, profileId: string): Promise<Map<string, boolean>> {
    const rows = await this.#consentOfProfile.rows(this.reads(), { workspaceId, profileId });
    return new Map(rows.map((row) => [row.category, Number(row.granted) === 1]));
  }

  async current(workspaceId: string, profileId: string): Promise<ConsentRecord[]> {
    // The winners among the history (profile_consent holds the same values, without provenance).
    const rows = await this.reads()
      .selectFrom('consent_history')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('profile_id', '=', profileId)
      .execute();
    return [...currentConsent(rows.map(toRecord)).values()].sort((a, b) =>
      a.category < b.category ? -1 : 1,
    );
  }

  async history(
    workspaceId: string,
    profileId: string,
    query: {
      readonly category?: string | undefined;
      readonly before?: { readonly tsMs: number; readonly seq: number } | undefined;
      readonly limit: number;
    },
  ): Promise<ConsentRecord[]> {
    let builder = this.reads()
      .selectFrom('consent_history')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('profile_id', '=', profileId);
    if (query.category !== undefined) builder = builder.where('category', '=', query.category);
    const before = query.before;
    if (before !== undefined)
      builder = builder.where((eb) =>
        eb.or([
          eb('ts_ms', '<', before.tsMs),
          eb.and([eb('ts_ms', '=', before.tsMs), eb('seq', '<', before.seq)]),
        ]),
      );
    const rows = await builder.orderBy('ts_ms', 'desc').orderBy('seq', 'desc').limit(query.limit).execute();
    return rows.map(toRecord);
  }
}

/**
 * Event-borne consent, one row per event and category. SDKs with a consent manager stamp every
 * event with the visitor's preferences, so this is one of the pipeline's larger writes: it goes
 * through the multi-row insert (multi-row-insert.ts) rather than the query builder.
 */
const CONSENT_HISTORY: RowsInsert = {
  table: 'consent_history',
  columns: [
    'workspace_id',
    'profile_id',
    'category',
    'granted',
    'source',
    'ts_ms',
    'event_seq',
    'message_id',
    'actor',
    'at_ms',
  ],
  conflict: { target: ['workspace_id', 'event_seq', 'category'], update: ['profile_id'] },
};

async function insertObservations(
  trx: Db,
  dialect: SqlDialectName,
  workspaceId: string,
  batch: ConsentBatch,
  nowMs: number,
  rebuild: Set<string>,
): Promise<void> {
  if (batch.observations.length === 0) return;
  // A redelivered event may now belong to another profile: the old one is rebuilt.
  const ownerNow = new Map(batch.observations.map((o) => [o.seq, o.profileId]));
  for (const part of chunks([...ownerNow.keys()], IN_CHUNK)) {
    const previous = await trx
      .selectFrom('consent_history')
      .select(['profile_id', 'event_seq'])
      .where('workspace_id', '=', workspaceId)
      .where('event_seq', 'in', part)
      .execute();
    for (const row of previous)
      if (row.profile_id !== null && row.profile_id !== ownerNow.get(Number(row.event_seq)))
        rebuild.add(row.profile_id);
  }
  await insertRows(trx, dialect, CONSENT_HISTORY, batch.observations, (o) => [
    workspaceId,
    o.profileId,
    o.category,
    o.granted ? 1 : 0,
    o.source,
    o.tsMs,
    o.seq,
    o.messageId,
    null,
    nowMs,
  ]);
}

/**
 * Values taken from events follow their event: after a re-resolution or an unmerge, each one
 * moves to the profile its event belongs to now (or to none). Only rows of the given profiles
 * (and rows waiting without a profile) are looked at.
 */
async function followEvents(
  trx: Db,
  workspaceId: string,
  profileIds: readonly string[],
  affected: Set<string>,
): Promise<void> {
  const rows: { seq: number; profile_id: string | null; event_seq: number }[] = [];
  const collect = (found: { seq: number; profile_id: string | null; event_seq: number | null }[]) => {
    for (const row of found)
      if (row.event_seq !== null)
        rows.push({ seq: Number(row.seq), profile_id: row.profile_id, event_seq: Number(row.event_seq) });
  };
  for (const part of chunks([...new Set(profileIds)], IN_CHUNK))
    collect(
      await trx
        .selectFrom('consent_history')
        .select(['seq', 'profile_id', 'event_seq'])
        .where('workspace_id', '=', workspaceId)
        .where('profile_id', 'in', part)
        .where('event_seq', 'is not', null)
        .execute(),
    );
  collect(
    await trx
      .selectFrom('consent_history')
      .select(['seq', 'profile_id', 'event_seq'])
      .where('workspace_id', '=', workspaceId)
      .where('profile_id', 'is', null)
      .execute(),
  );
  if (rows.length === 0) return;
  const owner = new Map<number, string>();
  for (const part of chunks([...new Set(rows.map((r) => r.event_seq))], IN_CHUNK)) {
    const found = await trx
      .selectFrom('profile_events')
      .select(['seq', 'profile_id'])
      .where('workspace_id', '=', workspaceId)
      .where('seq', 'in', part)
      .execute();
    for (const row of found) owner.set(Number(row.seq), row.profile_id);
  }
  for (const row of rows) {
    const now = owner.get(row.event_seq) ?? null;
    if (now === row.profile_id) continue;
    await trx
      .updateTable('consent_history')
      .set({ profile_id: now })
      .where('workspace_id', '=', workspaceId)
      .where('seq', '=', row.seq)
      .execute();
    if (row.profile_id !== null) affected.add(row.profile_id);
    if (now !== null) affected.add(now);
  }
}

/** Rewrites the current values (`profile_consent`) of these profiles from their history. */
async function recompute(trx: Db, workspaceId: string, profileIds: readonly string[]): Promise<void> {
  for (const part of chunks(profileIds, IN_CHUNK)) {
    if (part.length === 0) continue;
    const rows = await trx
      .selectFrom('consent_history')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('profile_id', 'in', part)
      .execute();
    const byProfile = new Map<string, ConsentRecord[]>(part.map((id) => [id, []]));
    for (const row of rows) if (row.profile_id !== null) byProfile.get(row.profile_id)?.push(toRecord(row));
    await writeCurrent(
      trx,
      workspaceId,
      [...byProfile].map(([id, records]) => [id, currentConsent(records)] as const),
    );
  }
}

/** The current values of these profiles, as stored. */
async function currentValues(
  trx: Db,
  workspaceId: string,
  profileIds: readonly string[],
): Promise<Map<string, Map<string, ConsentEntry>>> {
  const out = new Map<string, Map<string, ConsentEntry>>();
  for (const part of chunks(profileIds, IN_CHUNK)) {
    const rows = await trx
      .selectFrom('profile_consent')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('profile_id', 'in', part)
      .execute();
    for (const row of rows) {
      let current = out.get(row.profile_id);
      if (current === undefined) out.set(row.profile_id, (current = new Map()));
      current.set(row.category, {
        category: row.category,
        granted: Number(row.granted) === 1,
        source: row.source,
        tsMs: Number(row.ts_ms),
        messageId: row.message_id === '' ? null : row.message_id,
      });
    }
  }
  return out;
}

/** Replaces the current values of these profiles (an empty map removes them). */
async function writeCurrent(
  trx: Db,
  workspaceId: string,
  profiles: readonly (readonly [string, ReadonlyMap<string, ConsentEntry>])[],
): Promise<void> {
  for (const part of chunks(profiles, IN_CHUNK)) {
    if (part.length === 0) continue;
    await trx
      .deleteFrom('profile_consent')
      .where('workspace_id', '=', workspaceId)
      .where(
        'profile_id',
        'in',
        part.map(([id]) => id),
      )
      .execute();
    const values = part.flatMap(([profileId, current]) =>
      [...current.values()].map((c) => ({
        workspace_id: workspaceId,
        profile_id: profileId,
        category: c.category,
        granted: c.granted ? 1 : 0,
        source: c.source,
        ts_ms: c.tsMs,
        message_id: c.messageId ?? null,
      })),
    );
    for (const chunk of chunks(values, WRITE_BATCH))
      await trx.insertInto('profile_consent').values(chunk).execute();
  }
}
