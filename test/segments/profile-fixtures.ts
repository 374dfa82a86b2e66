import path from 'node:path';
import { logFileOf } from '../../src/storage/sqlite/log-file.ts';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, type Transaction } from 'kysely';
import pg from 'pg';
import type { Database } from '../../src/storage/database-schema.ts';
import type { JsonObject, JsonValue, ProfileSnapshot } from '../../src/segments/profile-snapshot.ts';
import type { StoreHandle } from '../support/stores.ts';

/**
 * Profiles as tests write them, seeded straight into the tables the evaluator's snapshot and the
 * SQL compiler read (profiles, events + profile_events, computed_trait_values, profile_consent,
 * profile_groups, segment_memberships): test setup, not the pipeline.
 */
export interface EventFixture {
  readonly type?: string;
  readonly event: string;
  readonly atMs: number;
  readonly properties?: JsonObject;
  readonly context?: JsonObject;
}

export interface ProfileFixture {
  readonly id: string;
  readonly kind?: 'person' | 'account';
  readonly mergedInto?: string;
  readonly traits?: JsonObject;
  readonly computed?: Readonly<Record<string, JsonValue>>;
  readonly events?: readonly EventFixture[];
  readonly consent?: Readonly<Record<string, boolean>>;
  /** Ids of account profiles (kind 'account') this profile belongs to. */
  readonly groups?: readonly string[];
}

export function isLivePerson(profile: ProfileFixture): boolean {
  return (profile.kind ?? 'person') === 'person' && profile.mergedInto === undefined;
}

/** The snapshot the evaluator gets for a fixture profile, given the memberships. */
export function snapshotOf(
  profile: ProfileFixture,
  all: readonly ProfileFixture[],
  segments: ReadonlySet<string>,
): ProfileSnapshot {
  const accounts = new Map(all.filter((p) => p.kind === 'account').map((p) => [p.id, p.traits ?? {}]));
  return {
    traits: profile.traits ?? {},
    computed: profile.computed ?? {},
    events: (profile.events ?? []).map((event, index) => ({
      type: event.type ?? 'track',
      event: event.event,
      timestampMs: event.atMs,
      seq: index + 1,
      properties: event.properties ?? {},
      context: event.context ?? {},
    })),
    segments,
    consent: profile.consent ?? {},
    groups: (profile.groups ?? []).flatMap((id) => {
      const traits = accounts.get(id);
      return traits === undefined ? [] : [traits];
    }),
  };
}

/** A second connection to a test store's database, for seeding tables directly. */
export function openRawDatabase(handle: StoreHandle): Kysely<Database> {
  const url = handle.env['CDP_DATABASE_URL'];
  if (url !== undefined) {
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    // The test database is dropped (FORCE) when the suite ends, possibly before this pool closes.
    pool.on('error', () => undefined);
    return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  }
  const dir = handle.env['CDP_DATA_DIR'] as string;
  const sqlite = new BetterSqlite3(path.join(dir, 'cdp.sqlite'));
  sqlite.pragma('busy_timeout = 5000');
  // The event log is in a file of its own (storage/sqlite/log-file.ts). Committing a seed,
  // SQLite writes the main file before the log's, so a reader never sees an event without
  // its assignment.
  sqlite.prepare('ATTACH DATABASE ? AS log').run(logFileOf(path.join(dir, 'cdp.sqlite')));
  return new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
}

export async function seedProfiles(
  database: Kysely<Database>,
  workspaceId: string,
  profiles: readonly ProfileFixture[],
): Promise<void> {
  // One transaction: a running app's profiles stage must see each seeded event together with
  // its assignment (then it skips it), never the event alone (it would make a profile of it).
  await database.transaction().execute(async (db) => seedProfilesIn(db, workspaceId, profiles));
}

async function seedProfilesIn(
  db: Transaction<Database>,
  workspaceId: string,
  profiles: readonly ProfileFixture[],
): Promise<void> {
  for (const profile of profiles) {
    const events = profile.events ?? [];
    const times = events.map((event) => event.atMs);
    const first = times.length === 0 ? 0 : Math.min(...times);
    const last = times.length === 0 ? 0 : Math.max(...times);
    await db
      .insertInto('profiles')
      .values({
        workspace_id: workspaceId,
        id: profile.id,
        kind: profile.kind ?? 'person',
        created_seq: 0,
        created_ts_ms: first,
        created_message_id: `${profile.id}-created`,
        created_content_key: '',
        first_seen_ms: first,
        last_seen_ms: last,
        updated_ms: last,
        event_count: events.length,
        traits: JSON.stringify(profile.traits ?? {}),
        trait_meta: '{}',
        merged_into: profile.mergedInto ?? null,
      })
      .execute();
    for (const [index, event] of events.entries()) {
      const type = event.type ?? 'track';
      const payload = {
        type,
        ...(type === 'track' ? { event: event.event } : { name: event.event }),
        userId: profile.id,
        messageId: `${profile.id}-${index}`,
        timestamp: new Date(event.atMs).toISOString(),
        properties: event.properties ?? {},
        context: event.context ?? {},
      };
      const inserted = await db
        .insertInto('events')
        .values({
          workspace_id: workspaceId,
          source_id: 'src_test',
          message_id: `${workspaceId}-${profile.id}-${index}`,
          type,
          event: event.event,
          user_id: profile.id,
          anonymous_id: null,
          ts_ms: event.atMs,
          received_ms: event.atMs,
          payload: JSON.stringify(payload),
        } as never)
        .returning('seq')
        .executeTakeFirstOrThrow();
      await db
        .insertInto('profile_events')
        .values({
          workspace_id: workspaceId,
          profile_id: profile.id,
          seq: Number(inserted.seq),
          ts_ms: event.atMs,
          type,
          event: event.event,
        })
        .execute();
    }
    for (const [name, value] of Object.entries(profile.computed ?? {})) {
      await db
        .insertInto('computed_trait_values')
        .values({
          workspace_id: workspaceId,
          profile_id: profile.id,
          name,
          value: JSON.stringify(value),
          updated_ms: 0,
          next_change_ms: null,
        })
        .execute();
    }
    for (const [category, granted] of Object.entries(profile.consent ?? {})) {
      await db
        .insertInto('profile_consent')
        .values({
          workspace_id: workspaceId,
          profile_id: profile.id,
          category,
          granted: granted ? 1 : 0,
          source: 'test',
          ts_ms: 0,
        })
        .execute();
    }
    for (const accountId of profile.groups ?? []) {
      await db
        .insertInto('profile_groups')
        .values({
          workspace_id: workspaceId,
          profile_id: profile.id,
          account_id: accountId,
          seq: 0,
          ts_ms: 0,
        })
        .execute();
    }
  }
}

/** A segment row with its memberships, for `in segment` references. */
export async function seedSegment(
  db: Kysely<Database>,
  workspaceId: string,
  segment: { id: string; slug: string; definition: string; members: readonly string[] },
): Promise<void> {
  await db
    .insertInto('segments')
    .values({
      workspace_id: workspaceId,
      id: segment.id,
      slug: segment.slug,
      name: segment.slug,
      description: '',
      definition: segment.definition,
      dependencies: '{}',
      version: 1,
      created_ms: 0,
      updated_ms: 0,
      status: 'ready',
      backfill_total: 0,
      backfill_done: 0,
      backfill_started_ms: null,
      backfill_finished_ms: null,
      backfill_error: null,
    })
    .execute();
  for (const profileId of segment.members) {
    await db
      .insertInto('segment_memberships')
      .values({ workspace_id: workspaceId, segment_id: segment.id, profile_id: profileId, entered_ms: 0 })
      .execute();
  }
}
