import type { Kysely, Selectable } from 'kysely';
import type {
  ProfileChanges,
  ProfileStateSession,
  ProfileStateStore,
  StoredComponent,
  StoredIdentifier,
  StoredProfile,
} from '../../profiles/profile-state.port.ts';
import type { StoredEvent } from '../../ingestion/message-types.ts';
import type { Database } from '../database-schema.ts';
import type { SqlDialectName } from '../sql-dialect.ts';
import { toStoredEvent } from './row-mappers.ts';
import { LOCK_CLASS, workspaceWrite, type Db } from './workspace-write.ts';
import type { TraitMap } from '../../profiles/trait-values.ts';

/** Bound parameters per statement, under SQLite's 32,766 and PostgreSQL's 65,535. */
const MAX_PARAMS = 30_000;
const IN_CHUNK = 5_000;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

const num = (v: number | string): number => Number(v);

function toIdentifier(row: Selectable<Database['profile_identifiers']>): StoredIdentifier {
  return {
    key: row.id_key,
    type: row.type,
    value: row.value,
    profileId: row.profile_id,
    componentId: row.component_id,
    linkedBy:
      row.linked_seq === null || row.linked_message_id === null || row.linked_ts_ms === null
        ? null
        : { seq: num(row.linked_seq), messageId: row.linked_message_id, timestampMs: num(row.linked_ts_ms) },
  };
}

export function parseTraitMeta(text: string): TraitMap {
  const parsed = JSON.parse(text) as TraitMap;
  const out = Object.create(null) as TraitMap;
  for (const key of Object.keys(parsed)) {
    const value = parsed[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}

export function toProfile(row: Selectable<Database['profiles']>): StoredProfile {
  return {
    id: row.id,
    kind: row.kind === 'account' ? 'account' : 'person',
    createdBy: {
      seq: num(row.created_seq),
      messageId: row.created_message_id,
      timestampMs: num(row.created_ts_ms),
    },
    createdAt: {
      timestampMs: num(row.created_ts_ms),
      messageId: row.created_message_id,
      contentKey: row.created_content_key,
    },
    firstSeenMs: num(row.first_seen_ms),
    lastSeenMs: num(row.last_seen_ms),
    eventCount: num(row.event_count),
    traits: parseTraitMeta(row.trait_meta),
    mergedInto: row.merged_into,
    updatedMs: num(row.updated_ms),
  };
}

function traitsJson(traits: TraitMap): { traits: string; meta: string } {
  const values: Record<string, unknown> = {};
  const meta: Record<string, unknown> = {};
  for (const key of Object.keys(traits).sort()) {
    const value = traits[key];
    if (value === undefined) continue;
    // defineProperty: a trait named "__proto__" must stay an own key.
    Object.defineProperty(values, key, {
      value: value.value,
      enumerable: true,
      configurable: true,
      writable: true,
    });
    Object.defineProperty(meta, key, { value, enumerable: true, configurable: true, writable: true });
  }
  return { traits: JSON.stringify(values), meta: JSON.stringify(meta) };
}

/**
 * Profile state over Kysely, both dialects. A batch reads the graph, resolves in memory, then
 * writes: the whole of it is one transaction that excludes every other writer of the
 * workspace, whichever process it runs in (the server's stage, `cdp profiles rebuild`, several
 * workers). SQLite: `BEGIN IMMEDIATE` takes the database's write lock up front (a deferred
 * transaction could fail to upgrade after another process wrote). PostgreSQL: a
 * transaction-scoped advisory lock per workspace. In-process, a mutex per workspace queues
 * callers instead of letting them contend for the lock.
 */
export class KyselyProfileStateStore implements ProfileStateStore {
  readonly #locks = new Map<string, Promise<unknown>>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: SqlDialectName,
  ) {}

  async exclusive<T>(
    workspaceId: string,
    nowMs: number,
    work: (session: ProfileStateSession) => Promise<T>,
    options: { readonly replayable?: boolean } = {},
  ): Promise<T> {
    const previous = this.#locks.get(workspaceId) ?? Promise.resolve();
    const run = previous.then(
      () => this.#run(workspaceId, nowMs, work, options),
      () => this.#run(workspaceId, nowMs, work, options),
    );
    const tail = run.catch(() => undefined);
    this.#locks.set(workspaceId, tail);
    try {
      return await run;
    } finally {
      if (this.#locks.get(workspaceId) === tail) this.#locks.delete(workspaceId);
    }
  }

  #run<T>(
    workspaceId: string,
    nowMs: number,
    work: (session: ProfileStateSession) => Promise<T>,
    options: { readonly replayable?: boolean },
  ): Promise<T> {
    return workspaceWrite(
      this.db,
      this.dialect,
      LOCK_CLASS.profileState,
      workspaceId,
      (trx) => work(new ProfileSession(trx, workspaceId, nowMs)),
      options,
    );
  }
}

class ProfileSession implements ProfileStateSession {
  constructor(
    private readonly db: Db,
    private readonly workspaceId: string,
    private readonly nowMs: number,
  ) {}

  async write(changes: ProfileChanges): Promise<void> {
    await writeChanges(this.db, changes, this.nowMs);
  }

  async unlink(entry: {
    key: string;
    type: string;
    value: string;
    profileId: string;
    actor: string;
  }): Promise<void> {
    await this.db
      .insertInto('identity_unlinked')
      .values({
        workspace_id: this.workspaceId,
        id_key: entry.key,
        type: entry.type,
        value: entry.value,
        profile_id: entry.profileId,
        actor: entry.actor,
        at_ms: this.nowMs,
      })
      .onConflict((oc) => oc.doNothing())
      .execute();
  }

  async clear(): Promise<void> {
    const ws = this.workspaceId;
    for (const table of [
      'profiles',
      'profile_identifiers',
      'identity_components',
      'profile_events',
      'identity_merges',
      'identity_decisions',
      'trait_history',
      'profile_groups',
    ] as const)
      await this.db.deleteFrom(table).where('workspace_id', '=', ws).execute();
  }

  async assignedSeqs(seqs: readonly number[]): Promise<Set<number>> {
    const out = new Set<number>();
    for (const part of chunks(seqs, IN_CHUNK)) {
      if (part.length === 0) continue;
      const rows = await this.db
        .selectFrom('profile_events')
        .select('seq')
        .where('workspace_id', '=', this.workspaceId)
        .where('seq', 'in', part)
        .execute();
      for (const row of rows) out.add(num(row.seq));
    }
    return out;
  }

  async assignmentsOf(seqs: readonly number[]): Promise<Map<number, string>> {
    const out = new Map<number, string>();
    for (const part of chunks(seqs, IN_CHUNK)) {
      if (part.length === 0) continue;
      const rows = await this.db
        .selectFrom('profile_events')
        .select(['seq', 'profile_id'])
        .where('workspace_id', '=', this.workspaceId)
        .where('seq', 'in', part)
        .execute();
      for (const row of rows) out.set(num(row.seq), row.profile_id);
    }
    return out;
  }

  async identifiersByKey(keys: readonly string[]): Promise<StoredIdentifier[]> {
    const out: StoredIdentifier[] = [];
    for (const part of chunks(keys, IN_CHUNK)) {
      if (part.length === 0) continue;
      const rows = await this.db
        .selectFrom('profile_identifiers')
        .selectAll()
        .where('workspace_id', '=', this.workspaceId)
        .where('id_key', 'in', part)
        .execute();
      out.push(...rows.map(toIdentifier));
    }
    return out;
  }

  async identifiersOfProfiles(profileIds: readonly string[]): Promise<StoredIdentifier[]> {
    const out: StoredIdentifier[] = [];
    for (const part of chunks(profileIds, IN_CHUNK)) {
      if (part.length === 0) continue;
      const rows = await this.db
        .selectFrom('profile_identifiers')
        .selectAll()
        .where('workspace_id', '=', this.workspaceId)
        .where('profile_id', 'in', part)
        .execute();
      out.push(...rows.map(toIdentifier));
    }
    return out;
  }

  async identifiersOfComponents(componentIds: readonly string[]): Promise<StoredIdentifier[]> {
    const out: StoredIdentifier[] = [];
    for (const part of chunks(componentIds, IN_CHUNK)) {
      if (part.length === 0) continue;
      const rows = await this.db
        .selectFrom('profile_identifiers')
        .selectAll()
        .where('workspace_id', '=', this.workspaceId)
        .where('component_id', 'in', part)
        .execute();
      out.push(...rows.map(toIdentifier));
    }
    return out;
  }

  async profiles(ids: readonly string[]): Promise<StoredProfile[]> {
    const out: StoredProfile[] = [];
    for (const part of chunks(ids, IN_CHUNK)) {
      if (part.length === 0) continue;
      const rows = await this.db
        .selectFrom('profiles')
        .selectAll()
        .where('workspace_id', '=', this.workspaceId)
        .where('id', 'in', part)
        .execute();
      out.push(...rows.map(toProfile));
    }
    return out;
  }

  async components(ids: readonly string[]): Promise<StoredComponent[]> {
    const out: StoredComponent[] = [];
    for (const part of chunks(ids, IN_CHUNK)) {
      if (part.length === 0) continue;
      const rows = await this.db
        .selectFrom('identity_components')
        .selectAll()
        .where('workspace_id', '=', this.workspaceId)
        .where('id', 'in', part)
        .execute();
      out.push(
        ...rows.map((row) => ({
          id: row.id,
          last: {
            timestampMs: num(row.last_ts_ms),
            messageId: row.last_message_id,
            contentKey: row.last_content_key,
          },
          events: num(row.events),
          demotions: num(row.demotions),
          stale: num(row.stale) === 1,
        })),
      );
    }
    return out;
  }

  async staleComponents(limit: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('identity_components')
      .select('id')
      .where('workspace_id', '=', this.workspaceId)
      .where('stale', '=', 1)
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map((row) => row.id);
  }

  async eventSeqsOfProfiles(profileIds: readonly string[]): Promise<number[]> {
    const out: number[] = [];
    for (const part of chunks(profileIds, IN_CHUNK)) {
      if (part.length === 0) continue;
      const rows = await this.db
        .selectFrom('profile_events')
        .select('seq')
        .where('workspace_id', '=', this.workspaceId)
        .where('profile_id', 'in', part)
        .execute();
      out.push(...rows.map((row) => num(row.seq)));
    }
    return out;
  }

  async readEvents(seqs: readonly number[]): Promise<StoredEvent[]> {
    const out: StoredEvent[] = [];
    for (const part of chunks(seqs, IN_CHUNK)) {
      if (part.length === 0) continue;
      const rows = await this.db
        .selectFrom('events')
        .selectAll()
        .where('workspace_id', '=', this.workspaceId)
        .where('seq', 'in', part)
        .execute();
      out.push(...rows.map(toStoredEvent));
    }
    return out;
  }

  async unlinkedKeys(): Promise<Set<string>> {
    const rows = await this.db
      .selectFrom('identity_unlinked')
      .select('id_key')
      .where('workspace_id', '=', this.workspaceId)
      .execute();
    void this.nowMs;
    return new Set(rows.map((row) => row.id_key));
  }
}

/** Rows per multi-row statement for a table with `columns` columns. */
const rowsPer = (columns: number): number => Math.max(1, Math.floor(MAX_PARAMS / columns));

async function writeChanges(db: Db, changes: ProfileChanges, nowMs: number): Promise<void> {
  const ws = changes.workspaceId;
  for (const { id, into } of changes.absorbedComponents) {
    await db
      .updateTable('profile_identifiers')
      .set({ component_id: into })
      .where('workspace_id', '=', ws)
      .where('component_id', '=', id)
      .execute();
    await db.deleteFrom('identity_components').where('workspace_id', '=', ws).where('id', '=', id).execute();
  }
  for (const part of chunks(changes.components, rowsPer(8))) {
    await db
      .insertInto('identity_components')
      .values(
        part.map((c) => ({
          workspace_id: ws,
          id: c.id,
          last_ts_ms: c.last.timestampMs,
          last_message_id: c.last.messageId,
          last_content_key: c.last.contentKey,
          events: c.events,
          demotions: c.demotions,
          stale: c.stale ? 1 : 0,
        })),
      )
      .onConflict((oc) =>
        oc.columns(['workspace_id', 'id']).doUpdateSet((eb) => ({
          last_ts_ms: eb.ref('excluded.last_ts_ms'),
          last_message_id: eb.ref('excluded.last_message_id'),
          last_content_key: eb.ref('excluded.last_content_key'),
          events: eb.ref('excluded.events'),
          demotions: eb.ref('excluded.demotions'),
          stale: eb.ref('excluded.stale'),
        })),
      )
      .execute();
  }
  for (const part of chunks(changes.identifiers, rowsPer(9))) {
    await db
      .insertInto('profile_identifiers')
      .values(
        part.map((i) => ({
          workspace_id: ws,
          id_key: i.key,
          type: i.type,
          value: i.value,
          profile_id: i.profileId,
          component_id: i.componentId,
          linked_seq: i.linkedBy?.seq ?? null,
          linked_message_id: i.linkedBy?.messageId ?? null,
          linked_ts_ms: i.linkedBy?.timestampMs ?? null,
        })),
      )
      .onConflict((oc) =>
        oc.columns(['workspace_id', 'id_key']).doUpdateSet((eb) => ({
          profile_id: eb.ref('excluded.profile_id'),
          component_id: eb.ref('excluded.component_id'),
          linked_seq: eb.ref('excluded.linked_seq'),
          linked_message_id: eb.ref('excluded.linked_message_id'),
          linked_ts_ms: eb.ref('excluded.linked_ts_ms'),
        })),
      )
      .execute();
  }
  for (const { id, into } of changes.mergedProfiles) {
    // Two statements, not one OR: each is an index lookup (primary key; merged_into index).
    await db
      .updateTable('profiles')
      .set({ merged_into: into, updated_ms: nowMs })
      .where('workspace_id', '=', ws)
      .where('id', '=', id)
      .execute();
    await db
      .updateTable('profiles')
      .set({ merged_into: into, updated_ms: nowMs })
      .where('workspace_id', '=', ws)
      .where('merged_into', '=', id)
      .execute();
    await db
      .updateTable('profile_events')
      .set({ profile_id: into })
      .where('workspace_id', '=', ws)
      .where('profile_id', '=', id)
      .execute();
    await db
      .updateTable('trait_history')
      .set({ profile_id: into })
      .where('workspace_id', '=', ws)
      .where('profile_id', '=', id)
      .execute();
    await db
      .insertInto('profile_groups')
      .columns(['workspace_id', 'profile_id', 'account_id', 'seq', 'ts_ms'])
      .expression((eb) =>
        eb
          .selectFrom('profile_groups')
          .select(['workspace_id', eb.val(into).as('profile_id'), 'account_id', 'seq', 'ts_ms'])
          .where('workspace_id', '=', ws)
          .where('profile_id', '=', id),
      )
      .onConflict((oc) => oc.doNothing())
      .execute();
    await db
      .deleteFrom('profile_groups')
      .where('workspace_id', '=', ws)
      .where('profile_id', '=', id)
      .execute();
  }
  for (const id of changes.deletedProfiles) {
    await db.deleteFrom('profiles').where('workspace_id', '=', ws).where('id', '=', id).execute();
    await db
      .deleteFrom('profile_groups')
      .where('workspace_id', '=', ws)
      .where('profile_id', '=', id)
      .execute();
  }
  for (const part of chunks(changes.profiles, rowsPer(15))) {
    await db
      .insertInto('profiles')
      .values(
        part.map((p) => {
          const { traits, meta } = traitsJson(p.traits);
          return {
            workspace_id: ws,
            id: p.id,
            kind: p.kind,
            created_seq: p.createdBy.seq,
            created_ts_ms: p.createdAt.timestampMs,
            created_message_id: p.createdAt.messageId,
            created_content_key: p.createdAt.contentKey,
            first_seen_ms: p.firstSeenMs,
            last_seen_ms: p.lastSeenMs,
            updated_ms: p.updatedMs,
            event_count: p.eventCount,
            traits,
            trait_meta: meta,
            merged_into: null,
          };
        }),
      )
      .onConflict((oc) =>
        oc.columns(['workspace_id', 'id']).doUpdateSet((eb) => ({
          kind: eb.ref('excluded.kind'),
          created_seq: eb.ref('excluded.created_seq'),
          created_ts_ms: eb.ref('excluded.created_ts_ms'),
          created_message_id: eb.ref('excluded.created_message_id'),
          created_content_key: eb.ref('excluded.created_content_key'),
          first_seen_ms: eb.ref('excluded.first_seen_ms'),
          last_seen_ms: eb.ref('excluded.last_seen_ms'),
          updated_ms: eb.ref('excluded.updated_ms'),
          event_count: eb.ref('excluded.event_count'),
          traits: eb.ref('excluded.traits'),
          trait_meta: eb.ref('excluded.trait_meta'),
          merged_into: eb.ref('excluded.merged_into'),
        })),
      )
      .execute();
  }
  for (const part of chunks(changes.unassignedSeqs, IN_CHUNK))
    await db.deleteFrom('profile_events').where('workspace_id', '=', ws).where('seq', 'in', part).execute();
  for (const part of chunks(changes.assignments, rowsPer(6))) {
    await db
      .insertInto('profile_events')
      .values(
        part.map((a) => ({
          workspace_id: ws,
          profile_id: a.profileId,
          seq: a.seq,
          ts_ms: a.tsMs,
          type: a.type,
          event: a.event,
        })),
      )
      .onConflict((oc) =>
        oc
          .columns(['workspace_id', 'seq'])
          .doUpdateSet((eb) => ({ profile_id: eb.ref('excluded.profile_id') })),
      )
      .execute();
  }
  for (const part of chunks(changes.merges, rowsPer(7))) {
    await db
      .insertInto('identity_merges')
      .values(
        part.map((m) => ({
          workspace_id: ws,
          merged_id: m.mergedId,
          survivor_id: m.survivorId,
          seq: m.event.seq,
          message_id: m.event.messageId,
          ts_ms: m.event.timestampMs,
          at_ms: nowMs,
        })),
      )
      .onConflict((oc) => oc.doNothing())
      .execute();
  }
  for (const part of chunks(changes.clearDemotionsForSeqs, IN_CHUNK))
    await db
      .deleteFrom('identity_decisions')
      .where('workspace_id', '=', ws)
      .where('kind', '=', 'demoted')
      .where('seq', 'in', part)
      .execute();
  for (const part of chunks(changes.decisions, rowsPer(10))) {
    await db
      .insertInto('identity_decisions')
      .values(
        part.map((d) => ({
          workspace_id: ws,
          seq: d.seq,
          position: d.position,
          kind: d.kind,
          type: d.type,
          value: d.value.slice(0, 256),
          reason: d.reason,
          limit_type: d.limitType,
          profile_id: d.profileId,
          at_ms: nowMs,
        })),
      )
      .onConflict((oc) =>
        oc
          .columns(['workspace_id', 'seq', 'position'])
          .doUpdateSet((eb) => ({ profile_id: eb.ref('excluded.profile_id') })),
      )
      .execute();
  }
  for (const part of chunks(changes.traitObservations, rowsPer(9))) {
    await db
      .insertInto('trait_history')
      .values(
        part.map((o) => ({
          workspace_id: ws,
          profile_id: o.profileId,
          trait: o.trait,
          seq: o.seq,
          ts_ms: o.tsMs,
          source_id: o.sourceId,
          message_id: o.messageId,
          value: JSON.stringify(o.value),
          at_ms: nowMs,
        })),
      )
      .onConflict((oc) =>
        oc
          .columns(['workspace_id', 'seq', 'trait'])
          .doUpdateSet((eb) => ({ profile_id: eb.ref('excluded.profile_id') })),
      )
      .execute();
  }
  for (const part of chunks(changes.resetGroupsOf, IN_CHUNK))
    await db
      .deleteFrom('profile_groups')
      .where('workspace_id', '=', ws)
      .where('profile_id', 'in', part)
      .execute();
  for (const part of chunks(changes.groupMemberships, rowsPer(5))) {
    await db
      .insertInto('profile_groups')
      .values(
        part.map((g) => ({
          workspace_id: ws,
          profile_id: g.profileId,
          account_id: g.accountId,
          seq: g.seq,
          ts_ms: g.tsMs,
        })),
      )
      .onConflict((oc) => oc.doNothing())
      .execute();
  }
}
