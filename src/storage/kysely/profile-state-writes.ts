/** Writes one `ProfileChanges` (a resolved batch or re-resolution) inside the caller's transaction. */
import type { ProfileChanges } from '../../profiles/profile-state.port.ts';
import type { JsonValue } from '../../shared/json.ts';
import type { PiiSealing } from './pii-sealing.ts';
import { markProfilesMerged, moveProfileGroups, remapProfileColumn, survivorsOf } from './profile-remap.ts';
import type { SqlDialectName } from '../sql-dialect.ts';
import { insertRows, MAX_PARAMS, type RowsInsert } from './multi-row-insert.ts';
import { profileScope, traitsJson } from './profile-rows.ts';
import { chunks, type Db } from './workspace-write.ts';

const IN_CHUNK = 5_000;

const rowsPer = (columns: number): number => Math.max(1, Math.floor(MAX_PARAMS / columns));

const COMPONENTS: RowsInsert = {
  table: 'identity_components',
  columns: [
    'workspace_id',
    'id',
    'last_ts_ms',
    'last_message_id',
    'last_content_key',
    'events',
    'demotions',
    'stale',
  ],
  conflict: {
    target: ['workspace_id', 'id'],
    update: ['last_ts_ms', 'last_message_id', 'last_content_key', 'events', 'demotions', 'stale'],
  },
};

const IDENTIFIERS: RowsInsert = {
  table: 'profile_identifiers',
  columns: [
    'workspace_id',
    'id_key',
    'type',
    'value',
    'profile_id',
    'component_id',
    'linked_seq',
    'linked_message_id',
    'linked_ts_ms',
  ],
  conflict: {
    target: ['workspace_id', 'id_key'],
    update: ['profile_id', 'component_id', 'linked_seq', 'linked_message_id', 'linked_ts_ms'],
  },
};

const PROFILE_UPDATED = [
  'kind',
  'created_seq',
  'created_ts_ms',
  'created_message_id',
  'created_content_key',
  'first_seen_ms',
  'last_seen_ms',
  'updated_ms',
  'event_count',
  'traits',
  'trait_meta',
  'merged_into',
];
const PROFILES: RowsInsert = {
  table: 'profiles',
  columns: ['workspace_id', 'id', ...PROFILE_UPDATED],
  conflict: { target: ['workspace_id', 'id'], update: PROFILE_UPDATED },
};

const TIMELINE: RowsInsert = {
  table: 'profile_events',
  columns: ['workspace_id', 'profile_id', 'seq', 'ts_ms', 'type', 'event'],
  conflict: { target: ['workspace_id', 'seq'], update: ['profile_id'] },
};

const TRAIT_HISTORY: RowsInsert = {
  table: 'trait_history',
  columns: [
    'workspace_id',
    'profile_id',
    'trait',
    'seq',
    'ts_ms',
    'source_id',
    'message_id',
    'value',
    'at_ms',
  ],
  conflict: { target: ['workspace_id', 'seq', 'trait'], update: ['profile_id'] },
};

export async function writeChanges(
  db: Db,
  dialect: SqlDialectName,
  changes: ProfileChanges,
  nowMs: number,
  sealing: PiiSealing,
): Promise<void> {
  const ws = changes.workspaceId;
  const policy = await sealing.policy(ws, db);
  const stored = (name: string, value: JsonValue): JsonValue => sealing.traitValue(policy, name, value);
  for (const { id, into } of changes.absorbedComponents) {
    await db
      .updateTable('profile_identifiers')
      .set({ component_id: into })
      .where('workspace_id', '=', ws)
      .where('component_id', '=', id)
      .execute();
    await db.deleteFrom('identity_components').where('workspace_id', '=', ws).where('id', '=', id).execute();
  }
  await insertRows(db, dialect, COMPONENTS, changes.components, (c) => [
    ws,
    c.id,
    c.last.timestampMs,
    c.last.messageId,
    sealing.sealDerivedIn(`c\u0000${ws}\u0000${c.id}`, c.last.contentKey),
    c.events,
    c.demotions,
    c.stale ? 1 : 0,
  ]);
  await insertRows(db, dialect, IDENTIFIERS, changes.identifiers, (i) => [
    ws,
    sealing.identifierKey(i.type, i.value, i.key),
    i.type,
    sealing.identifierValue(i.type, i.value),
    i.profileId,
    i.componentId,
    i.linkedBy?.seq ?? null,
    i.linkedBy?.messageId ?? null,
    i.linkedBy?.timestampMs ?? null,
  ]);
  // Before the merge pointers below change: they say which ids were merged in these profiles.
  await forgetMergesInto(db, ws, changes.reresolvedProfiles);
  const survivors = survivorsOf(changes.mergedProfiles);
  await markProfilesMerged(db, ws, survivors, nowMs);
  await remapProfileColumn(db, 'profile_events', ws, survivors);
  await remapProfileColumn(db, 'trait_history', ws, survivors);
  await moveProfileGroups(db, ws, survivors);
  for (const id of changes.deletedProfiles) {
    await db.deleteFrom('profiles').where('workspace_id', '=', ws).where('id', '=', id).execute();
    await db
      .deleteFrom('profile_groups')
      .where('workspace_id', '=', ws)
      .where('profile_id', '=', id)
      .execute();
  }
  await insertRows(db, dialect, PROFILES, changes.profiles, (p) => {
    const scope = profileScope(ws, p.id);
    const { traits, meta } = traitsJson(p.traits, (name, value) =>
      sealing.traitValue(policy, name, value, scope),
    );
    return [
      ws,
      p.id,
      p.kind,
      p.createdBy.seq,
      p.createdAt.timestampMs,
      p.createdAt.messageId,
      sealing.sealDerivedIn(`pc\u0000${ws}\u0000${p.id}`, p.createdAt.contentKey),
      p.firstSeenMs,
      p.lastSeenMs,
      p.updatedMs,
      p.eventCount,
      traits,
      meta,
      null,
    ];
  });
  for (const part of chunks(changes.unassignedSeqs, IN_CHUNK))
    await db.deleteFrom('profile_events').where('workspace_id', '=', ws).where('seq', 'in', part).execute();
  await insertRows(db, dialect, TIMELINE, changes.assignments, (a) => [
    ws,
    a.profileId,
    a.seq,
    a.tsMs,
    a.type,
    a.event,
  ]);
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
          value: sealing.identifierValue(d.type, d.value.slice(0, 256)),
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
  await insertRows(db, dialect, TRAIT_HISTORY, changes.traitObservations, (o) => [
    ws,
    o.profileId,
    o.trait,
    o.seq,
    o.tsMs,
    o.sourceId,
    o.messageId,
    JSON.stringify(stored(o.trait, o.value)),
    nowMs,
  ]);
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

/**
 * Removes the merge records of re-resolved profiles: those into them and into the ids merged in
 * them (merge pointers are one step long), and any naming one of them as merged (a split that
 * revived it). The re-resolution records the merges that still hold.
 */
async function forgetMergesInto(db: Db, ws: string, profileIds: readonly string[]): Promise<void> {
  for (const part of chunks(profileIds, IN_CHUNK)) {
    const merged = await db
      .selectFrom('profiles')
      .select('id')
      .where('workspace_id', '=', ws)
      .where('merged_into', 'in', part)
      .execute();
    for (const ids of chunks([...part, ...merged.map((r) => r.id)], IN_CHUNK))
      await db
        .deleteFrom('identity_merges')
        .where('workspace_id', '=', ws)
        .where('merged_id', 'in', ids)
        .execute();
  }
}
