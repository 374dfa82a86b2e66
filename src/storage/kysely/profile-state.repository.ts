import type { Kysely } from 'kysely';
import type {
  OwedProfileChange,
  ProfileChanges,
  ProfileRebuildState,
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
import type { PiiSealing } from './pii-sealing.ts';
import { num, toIdentifier, toProfile } from './profile-rows.ts';
import { writeChanges } from './profile-state-writes.ts';
import { logTail } from './event-log.repository.ts';
import { oweChange, owedChanges, settleChange } from './profile-change-outbox.ts';
import {
  clearSomeDerivedState,
  readRebuild,
  saveRebuild,
  takeGoneProfiles,
  unfinishedRebuilds,
} from './profile-rebuild-state.ts';
import { chunks, LOCK_CLASS, workspaceWrite, type Db } from './workspace-write.ts';

const IN_CHUNK = 5_000;

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
    private readonly sealing: PiiSealing,
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

  rebuildOf(workspaceId: string): Promise<ProfileRebuildState | undefined> {
    return readRebuild(this.db, workspaceId);
  }

  unfinishedRebuilds(): Promise<string[]> {
    return unfinishedRebuilds(this.db);
  }

  owedChanges(limit: number): Promise<{ workspaceId: string; id: string; change: OwedProfileChange }[]> {
    return owedChanges(this.db, limit);
  }

  settleChange(workspaceId: string, id: string): Promise<void> {
    return settleChange(this.db, workspaceId, id);
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
      (trx) => work(new ProfileSession(trx, this.dialect, workspaceId, nowMs, this.sealing)),
      options,
    );
  }
}

class ProfileSession implements ProfileStateSession {
  constructor(
    private readonly db: Db,
    private readonly dialect: SqlDialectName,
    private readonly workspaceId: string,
    private readonly nowMs: number,
    private readonly sealing: PiiSealing,
  ) {}

  async write(changes: ProfileChanges): Promise<void> {
    await writeChanges(this.db, this.dialect, changes, this.nowMs, this.sealing);
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
        id_key: this.sealing.identifierKey(entry.type, entry.value, entry.key),
        type: entry.type,
        value: this.sealing.identifierValue(entry.type, entry.value),
        profile_id: entry.profileId,
        actor: entry.actor,
        at_ms: this.nowMs,
      })
      .onConflict((oc) => oc.doNothing())
      .execute();
  }

  async relink(key: string): Promise<boolean> {
    const colon = key.indexOf(':');
    const type = key.slice(0, colon);
    const result = await this.db
      .deleteFrom('identity_unlinked')
      .where('workspace_id', '=', this.workspaceId)
      .where('id_key', '=', this.sealing.identifierKey(type, key.slice(colon + 1), key))
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  clearSome(limit: number): Promise<number> {
    return clearSomeDerivedState(this.db, this.dialect, this.workspaceId, limit);
  }

  logAfter(afterSeq: number, limit: number, maxBytes?: number): Promise<StoredEvent[]> {
    return logTail(this.db, this.sealing, this.workspaceId, afterSeq, limit, maxBytes);
  }

  rebuild(): Promise<ProfileRebuildState | undefined> {
    return readRebuild(this.db, this.workspaceId);
  }

  saveRebuild(state: ProfileRebuildState): Promise<void> {
    return saveRebuild(this.db, this.workspaceId, state);
  }

  takeGoneProfiles(limit: number): Promise<{ taken: number; gone: string[] }> {
    return takeGoneProfiles(this.db, this.workspaceId, limit);
  }

  oweChange(id: string, change: OwedProfileChange): Promise<void> {
    return oweChange(this.db, this.workspaceId, id, change, this.nowMs);
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
    const stored = keys.map((key) => storedKeyOf(this.sealing, key));
    for (const part of chunks(stored, IN_CHUNK)) {
      if (part.length === 0) continue;
      const rows = await this.db
        .selectFrom('profile_identifiers')
        .selectAll()
        .where('workspace_id', '=', this.workspaceId)
        .where('id_key', 'in', part)
        .execute();
      out.push(...rows.map((row) => toIdentifier(row, this.sealing)));
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
      out.push(...rows.map((row) => toIdentifier(row, this.sealing)));
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
      out.push(...rows.map((row) => toIdentifier(row, this.sealing)));
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
      out.push(...rows.map((row) => toProfile(row, this.sealing)));
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
            contentKey: this.sealing.derivedTextIn(
              `c\u0000${this.workspaceId}\u0000${row.id}`,
              row.last_content_key,
            ),
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
      out.push(...rows.map((row) => toStoredEvent(row, this.sealing)));
    }
    return out;
  }

  async unlinkedKeys(): Promise<Set<string>> {
    const rows = await this.db
      .selectFrom('identity_unlinked')
      .select(['id_key', 'type', 'value'])
      .where('workspace_id', '=', this.workspaceId)
      .execute();
    return new Set(rows.map((row) => this.sealing.domainKey(row)));
  }
}

/** The stored key of a domain key (`type:value`; type names never contain `:`). */
export function storedKeyOf(sealing: PiiSealing, key: string): string {
  const colon = key.indexOf(':');
  return colon < 0 ? key : sealing.identifierKey(key.slice(0, colon), key.slice(colon + 1), key);
}
