import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { generatePersons, type GeneratedPerson } from '../generate/index.ts';
import { LOG_SCHEMA, logFileOf } from '../../src/storage/sqlite/log-file.ts';

/**
 * Fills the profile tables straight from the generator's ground truth (one profile per real
 * person, no identity resolution), the way the profiles stage would leave them: traits merged
 * from identify calls in time order plus `country` and `lifetime_value` (sum of order revenue),
 * the person's track events in `events` + `profile_events`, consent from the latest
 * `context.consent.categoryPreferences`, accounts from group calls. Only track events are
 * stored: segments read nothing else.
 */
export const BENCH_WORKSPACE = 'ws_bench';

interface Row {
  readonly profile: (string | number | null)[];
  readonly events: (string | number | null)[][];
  readonly profileEvents: (string | number)[][];
  readonly consent: (string | number)[][];
  readonly account: (string | number | null)[] | null;
  readonly group: (string | number)[] | null;
}

export interface LoadStats {
  readonly people: number;
  readonly events: number;
  readonly accounts: number;
}

type JsonObject = Record<string, unknown>;

/** One person's rows, with `nextSeq` numbering the log. */
function rowsOf(generated: GeneratedPerson, nextSeq: () => number, accounts: Set<string>): Row {
  const { truth, messages } = generated;
  const traits: JsonObject = {};
  let consent: JsonObject | undefined;
  let lifetimeValue = 0;
  let group: { id: string; traits: JsonObject } | undefined;
  const events: (string | number | null)[][] = [];
  const profileEvents: (string | number)[][] = [];
  const ordered = [...messages].sort((a, b) => a.time - b.time);
  for (const { message, time } of ordered) {
    const m = message as unknown as JsonObject;
    const context = m['context'] as JsonObject | undefined;
    const preferences = (context?.['consent'] as JsonObject | undefined)?.['categoryPreferences'];
    if (preferences !== undefined) consent = preferences as JsonObject;
    if (m['type'] === 'identify') Object.assign(traits, m['traits'] as JsonObject);
    if (m['type'] === 'group') group = { id: String(m['groupId']), traits: m['traits'] as JsonObject };
    if (m['type'] !== 'track') continue;
    const properties = m['properties'] as JsonObject | undefined;
    if (m['event'] === 'Order Completed' && typeof properties?.['revenue'] === 'number') {
      lifetimeValue += properties['revenue'];
    }
    const seq = nextSeq();
    events.push([
      seq,
      BENCH_WORKSPACE,
      'src_bench',
      String(m['messageId']),
      'track',
      String(m['event']),
      (m['userId'] as string | undefined) ?? null,
      (m['anonymousId'] as string | undefined) ?? null,
      time,
      time,
      JSON.stringify(m),
    ]);
    profileEvents.push([BENCH_WORKSPACE, truth.personId, seq, time, 'track', String(m['event'])]);
  }
  traits['country'] = truth.country;
  traits['lifetime_value'] = Math.round(lifetimeValue * 100) / 100;
  const first = ordered[0]?.time ?? 0;
  const last = ordered.at(-1)?.time ?? 0;
  const profile = [
    BENCH_WORKSPACE,
    truth.personId,
    'person',
    first,
    last,
    events.length,
    JSON.stringify(traits),
  ];
  let account: Row['account'] = null;
  if (group !== undefined && !accounts.has(group.id)) {
    accounts.add(group.id);
    account = [BENCH_WORKSPACE, group.id, 'account', first, last, 0, JSON.stringify(group.traits)];
  }
  return {
    profile,
    events,
    profileEvents,
    consent: Object.entries(consent ?? {}).map(([category, granted]) => [
      BENCH_WORKSPACE,
      truth.personId,
      // Stored under the workspace's category name (lower case), as the consent stage does.
      category.toLowerCase(),
      granted === true ? 1 : 0,
      last,
    ]),
    account,
    group: group === undefined ? null : [BENCH_WORKSPACE, truth.personId, group.id],
  };
}

const PROFILE_COLUMNS =
  'workspace_id, id, kind, created_seq, created_ts_ms, created_message_id, created_content_key, first_seen_ms, last_seen_ms, updated_ms, event_count, traits, trait_meta, merged_into';
const profileValues = (p: (string | number | null)[]) => {
  const [ws, id, kind, first, last, count, traits] = p;
  return [ws, id, kind, 0, first, '', '', first, last, last, count, traits, '{}', null];
};

export async function loadSqlite(filename: string, people: number, seed: number): Promise<LoadStats> {
  const db = new BetterSqlite3(filename);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  // The log lives in a file of its own, attached as the store attaches it.
  db.prepare(`ATTACH DATABASE ? AS ${LOG_SCHEMA}`).run(logFileOf(filename));
  db.pragma(`${LOG_SCHEMA}.synchronous = OFF`);
  const insertProfile = db.prepare(
    `INSERT INTO profiles (${PROFILE_COLUMNS}) VALUES (${Array(14).fill('?').join(', ')})`,
  );
  const insertEvent = db.prepare(
    `INSERT INTO ${LOG_SCHEMA}.events (seq, workspace_id, source_id, message_id, type, event, user_id, anonymous_id, ts_ms, received_ms, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertTimeline = db.prepare(
    'INSERT INTO profile_events (workspace_id, profile_id, seq, ts_ms, type, event) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const insertConsent = db.prepare(
    "INSERT INTO profile_consent (workspace_id, profile_id, category, granted, source, ts_ms) VALUES (?, ?, ?, ?, 'bench', ?)",
  );
  const insertGroup = db.prepare(
    'INSERT INTO profile_groups (workspace_id, profile_id, account_id, seq, ts_ms) VALUES (?, ?, ?, 0, 0)',
  );
  let seq = 0;
  let events = 0;
  const accounts = new Set<string>();
  const writeBatch = db.transaction((rows: Row[]) => {
    for (const row of rows) {
      insertProfile.run(...profileValues(row.profile));
      if (row.account) insertProfile.run(...profileValues(row.account));
      for (const event of row.events) insertEvent.run(...event);
      for (const entry of row.profileEvents) insertTimeline.run(...entry);
      for (const entry of row.consent) insertConsent.run(...entry);
      if (row.group) insertGroup.run(...row.group);
      events += row.events.length;
    }
  });
  let batch: Row[] = [];
  for (const person of generatePersons({ people, seed })) {
    batch.push(rowsOf(person, () => ++seq, accounts));
    if (batch.length === 1000) {
      writeBatch(batch);
      batch = [];
    }
  }
  writeBatch(batch);
  db.exec('ANALYZE');
  db.close();
  return { people, events, accounts: accounts.size };
}

export async function loadPostgres(url: string, people: number, seed: number): Promise<LoadStats> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  let seq = 0;
  let events = 0;
  const accounts = new Set<string>();
  const insert = async (table: string, columns: string, types: string[], rows: unknown[][]) => {
    if (rows.length === 0) return;
    const arrays = types.map((_, i) => rows.map((row) => row[i]));
    const unnest = types.map((type, i) => `$${i + 1}::${type}[]`).join(', ');
    await client.query(`INSERT INTO ${table} (${columns}) SELECT * FROM unnest(${unnest})`, arrays);
  };
  const writeBatch = async (rows: Row[]) => {
    const profiles = rows
      .flatMap((row) => [row.profile, ...(row.account ? [row.account] : [])])
      .map(profileValues);
    await client.query('BEGIN');
    await insert(
      'profiles',
      PROFILE_COLUMNS,
      [
        'text',
        'text',
        'text',
        'int8',
        'int8',
        'text',
        'text',
        'int8',
        'int8',
        'int8',
        'int8',
        'text',
        'text',
        'text',
      ],
      profiles,
    );
    await insert(
      'events',
      'seq, workspace_id, source_id, message_id, type, event, user_id, anonymous_id, ts_ms, received_ms, payload',
      ['int8', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'int8', 'int8', 'text'],
      rows.flatMap((row) => row.events),
    );
    await insert(
      'profile_events',
      'workspace_id, profile_id, seq, ts_ms, type, event',
      ['text', 'text', 'int8', 'int8', 'text', 'text'],
      rows.flatMap((row) => row.profileEvents),
    );
    await insert(
      'profile_consent',
      'workspace_id, profile_id, category, granted, ts_ms, source',
      ['text', 'text', 'text', 'int4', 'int8', 'text'],
      rows.flatMap((row) => row.consent.map((entry) => [...entry, 'bench'])),
    );
    await insert(
      'profile_groups',
      'workspace_id, profile_id, account_id, seq, ts_ms',
      ['text', 'text', 'text', 'int8', 'int8'],
      rows.flatMap((row) => (row.group ? [[...row.group, 0, 0]] : [])),
    );
    await client.query('COMMIT');
    events += rows.reduce((n, row) => n + row.events.length, 0);
  };
  let batch: Row[] = [];
  for (const person of generatePersons({ people, seed })) {
    batch.push(rowsOf(person, () => ++seq, accounts));
    if (batch.length === 500) {
      await writeBatch(batch);
      batch = [];
    }
  }
  await writeBatch(batch);
  await client.query('VACUUM ANALYZE');
  await client.end();
  return { people, events, accounts: accounts.size };
}
