/** Profile-state rows ↔ domain values, shared by the profile repositories and erasure repair. */
import type { Selectable } from 'kysely';
import type { StoredIdentifier, StoredProfile } from '../../profiles/profile-state.port.ts';
import type { TraitMap } from '../../profiles/trait-values.ts';
import type { JsonValue } from '../../shared/json.ts';
import type { Database } from '../database-schema.ts';
import type { PiiSealing } from './pii-sealing.ts';

export const num = (v: number | string): number => Number(v);

export function toIdentifier(
  row: Selectable<Database['profile_identifiers']>,
  sealing: PiiSealing,
): StoredIdentifier {
  return {
    key: sealing.domainKey(row),
    type: row.type,
    value: sealing.isPiiIdentifier(row.type) ? sealing.openText(row.value) : row.value,
    profileId: row.profile_id,
    componentId: row.component_id,
    linkedBy:
      row.linked_seq === null || row.linked_message_id === null || row.linked_ts_ms === null
        ? null
        : { seq: num(row.linked_seq), messageId: row.linked_message_id, timestampMs: num(row.linked_ts_ms) },
  };
}

/** Stored provenance (with values) back to the domain's trait map, sealed values opened. */
export function parseTraitMeta(text: string, sealing: PiiSealing, scope?: string): TraitMap {
  const parsed = JSON.parse(text) as TraitMap;
  const out = Object.create(null) as TraitMap;
  for (const key of Object.keys(parsed)) {
    const entry = parsed[key];
    if (entry === undefined) continue;
    const value =
      scope === undefined ? sealing.open(entry.value) : sealing.openIn(`${scope}\u0000${key}`, entry.value);
    out[key] = { ...entry, value };
  }
  return out;
}

export function toProfile(row: Selectable<Database['profiles']>, sealing: PiiSealing): StoredProfile {
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
      contentKey: sealing.derivedTextIn(
        `pc\u0000${row.workspace_id}\u0000${row.id}`,
        row.created_content_key,
      ),
    },
    firstSeenMs: num(row.first_seen_ms),
    lastSeenMs: num(row.last_seen_ms),
    eventCount: num(row.event_count),
    traits: parseTraitMeta(row.trait_meta, sealing, profileScope(row.workspace_id, row.id)),
    mergedInto: row.merged_into,
    updatedMs: num(row.updated_ms),
  };
}

/**
 * The stored form of traits: values and provenance, keys sorted, `__proto__` kept as data;
 * `stored` gives each value as it is kept (sealed when personal).
 */
export function traitsJson(
  traits: TraitMap,
  stored: (name: string, value: JsonValue) => JsonValue = (_name, value) => value,
): { traits: string; meta: string } {
  const values: Record<string, unknown> = {};
  const meta: Record<string, unknown> = {};
  for (const key of Object.keys(traits).sort()) {
    const value = traits[key];
    if (value === undefined) continue;
    const kept = stored(key, value.value);
    // defineProperty: a trait named "__proto__" must stay an own key.
    Object.defineProperty(values, key, {
      value: kept,
      enumerable: true,
      configurable: true,
      writable: true,
    });
    Object.defineProperty(meta, key, {
      value: kept === value.value ? value : { ...value, value: kept },
      enumerable: true,
      configurable: true,
      writable: true,
    });
  }
  return { traits: JSON.stringify(values), meta: JSON.stringify(meta) };
}

/** Where a profile's sealed trait values are remembered (pii-sealing.ts `openIn`). */
export function profileScope(workspaceId: string, id: string): string {
  return `p\u0000${workspaceId}\u0000${id}`;
}
