/** Writes one `ProfileChanges` (a resolved batch or re-resolution) inside the caller's transaction. */
import type { ProfileChanges } from '../../profiles/profile-state.port.ts';
import type { JsonValue } from '../../shared/json.ts';
import type { PiiSealing } from './pii-sealing.ts';
import { markProfilesMerged, moveProfileGroups, remapProfileColumn, survivorsOf } from './profile-remap.ts';
import { profileScope, traitsJson } from './profile-rows.ts';
import { chunks, type Db } from './workspace-write.ts';

/** Bound parameters per statement, under SQLite's 32,766 and PostgreSQL's 65,535. */
const MAX_PARAMS = 30_000;
const IN_CHUNK = 5_000;

const rowsPer = (columns: number): number => Math.max(1, Math.floor(MAX_PARAMS / columns));

export async function writeChanges(
  db: Db,
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
  for (const part of chunks(changes.components, rowsPer(8))) {
    await db
      .insertInto('identity_components')
      .values(
        part.map((c) => ({
          workspace_id: ws,
          id: c.id,
          last_ts_ms: c.last.timestampMs,
          last_message_id: c.last.messageId,
          last_content_key: sealing.sealDerivedIn(`c\u0000${ws}\u0000${c.id}`, c.last.contentKey),
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
          id_key: sealing.identifierKey(i.type, i.value, i.key),
          type: i.type,
          value: sealing.identifierValue(i.type, i.value),
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
  for (const part of chunks(changes.profiles, rowsPer(15))) {
    await db
      .insertInto('profiles')
      .values(
        part.map((p) => {
          const scope = profileScope(ws, p.id);
          const { traits, meta } = traitsJson(p.traits, (name, value) =>
            sealing.traitValue(policy, name, value, scope),
          );
          return {
            workspace_id: ws,
            id: p.id,
            kind: p.kind,
            created_seq: p.createdBy.seq,
            created_ts_ms: p.createdAt.timestampMs,
            created_message_id: p.createdAt.messageId,
            created_content_key: sealing.sealDerivedIn(`pc\u0000${ws}\u0000${p.id}`, p.createdAt.contentKey),
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
          value: JSON.stringify(stored(o.trait, o.value)),
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
