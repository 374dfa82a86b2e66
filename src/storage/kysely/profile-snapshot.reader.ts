import type { Kysely } from 'kysely';
import type { JsonObject, ProfileSnapshot, SnapshotEvent } from '../../segments/profile-snapshot.ts';
import type { Database } from '../database-schema.ts';
import type { PiiSealing } from './pii-sealing.ts';

/**
 * Reads one profile as the in-memory evaluator sees it, with the same joins as the SQL compiler:
 * traits, computed values, the timeline with each event's properties and context, memberships,
 * consent and the traits of its accounts (profiles of kind 'account').
 */
export async function loadProfileSnapshot(
  db: Kysely<Database>,
  sealing: PiiSealing,
  workspaceId: string,
  profileId: string,
  /** Only these track events (see SegmentRepository.loadSnapshot); all events when absent. */
  trackEvents?: readonly string[],
): Promise<ProfileSnapshot | undefined> {
  const profile = await db
    .selectFrom('profiles')
    .select(['traits', 'last_seen_ms'])
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', profileId)
    .executeTakeFirst();
  if (!profile) return undefined;
  const [computed, events, segments, consent, groups] = await Promise.all([
    db
      .selectFrom('computed_trait_values')
      .select(['name', 'value'])
      .where('workspace_id', '=', workspaceId)
      .where('profile_id', '=', profileId)
      .execute(),
    trackEvents?.length === 0
      ? Promise.resolve([])
      : db
          .selectFrom('profile_events as pe')
          .innerJoin('events as e', 'e.seq', 'pe.seq')
          .select(['pe.type', 'pe.event', 'pe.ts_ms', 'pe.seq', 'e.payload'])
          .where('pe.workspace_id', '=', workspaceId)
          .where('pe.profile_id', '=', profileId)
          .$if(trackEvents !== undefined, (q) =>
            q.where('pe.type', '=', 'track').where('pe.event', 'in', trackEvents ?? []),
          )
          .orderBy('pe.seq')
          .execute(),
    db
      .selectFrom('segment_memberships as m')
      .innerJoin('segments as s', (join) =>
        join.onRef('s.workspace_id', '=', 'm.workspace_id').onRef('s.id', '=', 'm.segment_id'),
      )
      .select('s.slug')
      .where('m.workspace_id', '=', workspaceId)
      .where('m.profile_id', '=', profileId)
      .execute(),
    db
      .selectFrom('profile_consent')
      .select(['category', 'granted'])
      .where('workspace_id', '=', workspaceId)
      .where('profile_id', '=', profileId)
      .execute(),
    db
      .selectFrom('profile_groups as g')
      .innerJoin('profiles as a', (join) =>
        join.onRef('a.workspace_id', '=', 'g.workspace_id').onRef('a.id', '=', 'g.account_id'),
      )
      .select('a.traits')
      .where('g.workspace_id', '=', workspaceId)
      .where('g.profile_id', '=', profileId)
      .where('a.kind', '=', 'account')
      .execute(),
  ]);
  return {
    traits: openObject(sealing, parseObject(profile.traits)),
    computed: Object.fromEntries(computed.map((row) => [row.name, JSON.parse(row.value)])),
    events: events.map((row): SnapshotEvent => {
      const payload = parseObject(row.payload);
      return {
        type: row.type,
        event: row.event,
        timestampMs: Number(row.ts_ms),
        seq: Number(row.seq),
        properties: objectAt(payload, 'properties'),
        context: objectAt(payload, 'context'),
      };
    }),
    segments: new Set(segments.map((row) => row.slug)),
    consent: Object.fromEntries(consent.map((row) => [row.category, Number(row.granted) === 1])),
    groups: groups.map((row) => openObject(sealing, parseObject(row.traits))),
    lastSeenMs: Number(profile.last_seen_ms),
  };
}

export function parseObject(text: string): JsonObject {
  const value: unknown = JSON.parse(text);
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonObject) : {};
}

export function objectAt(payload: JsonObject, key: string): JsonObject | undefined {
  if (!Object.hasOwn(payload, key)) return undefined;
  const value = payload[key];
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as JsonObject)
    : undefined;
}

/** Traits with their sealed values opened (the evaluator compares what the person gave). */
function openObject(sealing: PiiSealing, traits: JsonObject): JsonObject {
  if (sealing.vault === undefined) return traits;
  for (const key of Object.keys(traits)) {
    const value = traits[key];
    if (typeof value === 'string')
      Object.defineProperty(traits, key, {
        value: sealing.open(value),
        enumerable: true,
        writable: true,
        configurable: true,
      });
  }
  return traits;
}
