import { sql, type Kysely } from 'kysely';
import type {
  JsonObject,
  JsonValue,
  ProfileSnapshot,
  SnapshotEvent,
} from '../../segments/profile-snapshot.ts';
import type { SnapshotOptions } from '../../segments/segments.port.ts';
import type { Database } from '../database-schema.ts';
import type { PiiSealing } from './pii-sealing.ts';
import { TRACK } from './track-type.ts';

/**
 * Reads profiles as the in-memory evaluator sees them, with the same joins as the SQL compiler:
 * traits, computed values, the timeline with each event's properties and context, memberships,
 * consent and the traits of its accounts (profiles of kind 'account'). Six queries for the whole
 * list, not six per profile: a pipeline batch re-evaluates thousands of profiles at once.
 * Missing profiles (erased, merged away) are absent from the map.
 */
export async function loadProfileSnapshots(
  db: Kysely<Database>,
  sealing: PiiSealing,
  workspaceId: string,
  profileIds: readonly string[],
  /** See SegmentRepository.loadSnapshots: all events with their payloads when empty. */
  options: SnapshotOptions = {},
): Promise<Map<string, ProfileSnapshot>> {
  const ids = [...new Set(profileIds)];
  const snapshots = new Map<string, ProfileSnapshot>();
  if (ids.length === 0) return snapshots;
  const profiles = await db
    .selectFrom('profiles')
    .select(['id', 'traits', 'last_seen_ms'])
    .where('workspace_id', '=', workspaceId)
    .where('id', 'in', ids)
    .execute();
  if (profiles.length === 0) return snapshots;
  const found = profiles.map((p) => p.id);
  const [computed, events, segments, consent, groups] = await Promise.all([
    db
      .selectFrom('computed_trait_values')
      .select(['profile_id', 'name', 'value'])
      .where('workspace_id', '=', workspaceId)
      .where('profile_id', 'in', found)
      .execute(),
    timelineOf(db, workspaceId, found, options),
    db
      .selectFrom('segment_memberships as m')
      .innerJoin('segments as s', (join) =>
        join.onRef('s.workspace_id', '=', 'm.workspace_id').onRef('s.id', '=', 'm.segment_id'),
      )
      .select(['m.profile_id', 's.slug'])
      .where('m.workspace_id', '=', workspaceId)
      .where('m.profile_id', 'in', found)
      .execute(),
    db
      .selectFrom('profile_consent')
      .select(['profile_id', 'category', 'granted'])
      .where('workspace_id', '=', workspaceId)
      .where('profile_id', 'in', found)
      .execute(),
    db
      .selectFrom('profile_groups as g')
      .innerJoin('profiles as a', (join) =>
        join.onRef('a.workspace_id', '=', 'g.workspace_id').onRef('a.id', '=', 'g.account_id'),
      )
      .select(['g.profile_id', 'a.traits'])
      .where('g.workspace_id', '=', workspaceId)
      .where('g.profile_id', 'in', found)
      .where('a.kind', '=', 'account')
      .execute(),
  ]);
  const parts = new Map<string, SnapshotParts>(
    found.map((id) => [id, { computed: {}, events: [], segments: new Set(), consent: {}, groups: [] }]),
  );
  for (const row of computed) {
    const part = parts.get(row.profile_id);
    if (part) part.computed[row.name] = JSON.parse(row.value) as JsonValue;
  }
  for (const row of events) {
    const { payload } = row;
    parts
      .get(row.profile_id)
      ?.events.push(payload === null ? bareEventOf(row) : snapshotEventOf({ ...row, payload }));
  }
  for (const row of segments) parts.get(row.profile_id)?.segments.add(row.slug);
  for (const row of consent) {
    const part = parts.get(row.profile_id);
    if (part) part.consent[row.category] = Number(row.granted) === 1;
  }
  for (const row of groups)
    parts.get(row.profile_id)?.groups.push(openObject(sealing, parseObject(row.traits)));
  for (const profile of profiles) {
    const part = parts.get(profile.id);
    if (part)
      snapshots.set(profile.id, {
        traits: openObject(sealing, parseObject(profile.traits)),
        ...part,
        lastSeenMs: Number(profile.last_seen_ms),
      });
  }
  return snapshots;
}

type TimelineRow = {
  readonly profile_id: string;
  readonly type: string;
  readonly event: string | null;
  readonly ts_ms: number | string;
  readonly seq: number | string;
  readonly payload: string | null;
};

/**
 * The profiles' timelines in log order. Events whose payload nobody reads come from the
 * timeline's `(workspace, event, profile, ts, seq)` index of track events alone, without the log.
 */
async function timelineOf(
  db: Kysely<Database>,
  workspaceId: string,
  profileIds: readonly string[],
  { trackEvents, payloadEvents }: SnapshotOptions,
): Promise<TimelineRow[]> {
  if (trackEvents?.length === 0) return [];
  const withPayload = (names: readonly string[] | undefined): Promise<TimelineRow[]> =>
    db
      .selectFrom('profile_events as pe')
      .innerJoin('events as e', 'e.seq', 'pe.seq')
      .select(['pe.profile_id', 'pe.type', 'pe.event', 'pe.ts_ms', 'pe.seq', 'e.payload'])
      .where('pe.workspace_id', '=', workspaceId)
      .where('pe.profile_id', 'in', profileIds)
      .$if(names !== undefined, (q) => q.where('pe.type', '=', TRACK).where('pe.event', 'in', names ?? []))
      .orderBy('pe.seq')
      .execute();
  if (trackEvents === undefined || payloadEvents === undefined) return withPayload(trackEvents);
  const full = new Set(payloadEvents);
  const bare = trackEvents.filter((name) => !full.has(name));
  const read = trackEvents.filter((name) => full.has(name));
  const [withPayloads, without] = await Promise.all([
    read.length === 0 ? Promise.resolve([]) : withPayload(read),
    bare.length === 0
      ? Promise.resolve([])
      : db
          .selectFrom('profile_events')
          .select(['profile_id', 'type', 'event', 'ts_ms', 'seq', sql<null>`null`.as('payload')])
          .where('workspace_id', '=', workspaceId)
          .where('event', 'in', bare)
          .where('type', '=', TRACK)
          .where('profile_id', 'in', profileIds)
          .execute(),
  ]);
  if (withPayloads.length === 0) return without.sort((a, b) => Number(a.seq) - Number(b.seq));
  if (without.length === 0) return withPayloads;
  return [...withPayloads, ...without].sort((a, b) => Number(a.seq) - Number(b.seq));
}

/** A timeline row whose payload was not read: its name and time. */
function bareEventOf(row: TimelineRow): SnapshotEvent {
  return { type: row.type, event: row.event, timestampMs: Number(row.ts_ms), seq: Number(row.seq) };
}

/** What a snapshot gathers from the other tables while they are read. */
interface SnapshotParts {
  computed: Record<string, JsonValue>;
  events: SnapshotEvent[];
  segments: Set<string>;
  consent: Record<string, boolean>;
  groups: JsonObject[];
}

/** A timeline row joined with its log payload, as the evaluator reads it. */
export function snapshotEventOf(row: {
  readonly type: string;
  readonly event: string | null;
  readonly ts_ms: number | string;
  readonly seq: number | string;
  readonly payload: string;
}): SnapshotEvent {
  const payload = parseObject(row.payload);
  return {
    type: row.type,
    event: row.event,
    timestampMs: Number(row.ts_ms),
    seq: Number(row.seq),
    properties: objectAt(payload, 'properties'),
    context: objectAt(payload, 'context'),
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
