/** Profile-state rows ↔ domain values, shared by the profile repositories and erasure repair. */
import type { Selectable } from 'kysely';
import type { StoredIdentifier, StoredProfile } from '../../profiles/profile-state.port.ts';
import type { TraitMap } from '../../profiles/trait-values.ts';
import type { Database } from '../database-schema.ts';

export const num = (v: number | string): number => Number(v);

export function toIdentifier(row: Selectable<Database['profile_identifiers']>): StoredIdentifier {
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

/** The stored form of traits: values and provenance, keys sorted, `__proto__` kept as data. */
export function traitsJson(traits: TraitMap): { traits: string; meta: string } {
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
