/**
 * Reads the profile state the pipeline wrote, straight from the store's tables (SQLite file or
 * PostgreSQL database), for scoring: the repositories page through profiles one by one, which
 * would dominate the benchmark at these sizes.
 */
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { loadPiiVault } from '../../src/privacy/key-ring.ts';
import type { PiiVault } from '../../src/privacy/pii-vault.ts';

type Row = readonly unknown[];

/** Positional parameters written `$1`, `$2`… in order of use (rewritten to `?` for SQLite). */
interface RowSource {
  rows(sql: string, params: readonly unknown[]): Promise<Row[]>;
  close(): Promise<void>;
}

function sqliteRows(filename: string): RowSource {
  const db = new BetterSqlite3(filename, { readonly: true });
  return {
    rows: async (sql, params) =>
      db
        .prepare(sql.replace(/\$\d+/g, '?'))
        .raw(true)
        .all(...params) as Row[],
    close: async () => {
      db.close();
    },
  };
}

async function postgresRows(url: string): Promise<RowSource> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return {
    rows: async (sql, params) =>
      (await client.query<unknown[]>({ text: sql, values: [...params], rowMode: 'array' })).rows,
    close: () => client.end(),
  };
}

export interface ProfileStateSummary {
  readonly liveProfiles: number;
  readonly mergedProfiles: number;
  readonly demotions: number;
  /** Timeline entries pointing at a merged (non-surviving) profile: must be 0. */
  readonly staleAssignments: number;
}

export class ProfileStateReader {
  private constructor(
    private readonly source: RowSource,
    private readonly workspaceId: string,
    /** Opens sealed identifier values (their keys are keyed hashes: see pii-sealing.ts). */
    private readonly vault: PiiVault | undefined,
  ) {}

  static async open(
    location: { sqliteFile: string } | { postgresUrl: string },
    workspaceId: string,
    encryptionKey?: Buffer,
  ) {
    const source =
      'sqliteFile' in location ? sqliteRows(location.sqliteFile) : await postgresRows(location.postgresUrl);
    const readOnly = async (): Promise<boolean> => {
      throw new Error('the reader does not write');
    };
    const vault =
      encryptionKey === undefined
        ? undefined
        : await loadPiiVault(
            {
              get: async (key) => {
                const [row] = await source.rows('select value from instance_state where key = $1', [key]);
                return row === undefined ? undefined : String(row[0]);
              },
              setIfAbsent: readOnly,
              compareAndSet: readOnly,
            },
            encryptionKey,
          );
    return new ProfileStateReader(source, workspaceId, vault);
  }

  /** Each logged event's profile (the timeline). */
  async assignments(): Promise<Map<number, string>> {
    const rows = await this.source.rows(
      'select seq, profile_id from profile_events where workspace_id = $1',
      [this.workspaceId],
    );
    return new Map(rows.map(([seq, profile]) => [Number(seq), String(profile)]));
  }

  /** Each linked identifier (`type:value`) and the profile holding it. */
  async identifierOwners(): Promise<Map<string, string>> {
    const rows = await this.source.rows(
      'select id_key, profile_id, type, value from profile_identifiers where workspace_id = $1 and profile_id is not null',
      [this.workspaceId],
    );
    const vault = this.vault;
    const keyOf = (key: string, type: string, value: string): string =>
      vault !== undefined && key.startsWith(`${type}:#`) ? `${type}:${openedText(vault, value)}` : key;
    return new Map(
      rows.map(([key, profile, type, value]) => [
        keyOf(String(key), String(type), String(value)),
        String(profile),
      ]),
    );
  }

  async summary(): Promise<ProfileStateSummary> {
    const one = async (sql: string): Promise<number> =>
      Number((await this.source.rows(sql, [this.workspaceId]))[0]?.[0] ?? 0);
    return {
      liveProfiles: await one(
        "select count(*) from profiles where workspace_id = $1 and kind = 'person' and merged_into is null",
      ),
      mergedProfiles: await one(
        'select count(*) from profiles where workspace_id = $1 and merged_into is not null',
      ),
      demotions: await one(
        "select count(*) from identity_decisions where workspace_id = $1 and kind = 'demoted'",
      ),
      staleAssignments: await one(
        `select count(*) from profile_events e join profiles p
           on p.workspace_id = e.workspace_id and p.id = e.profile_id
         where e.workspace_id = $1 and p.merged_into is not null`,
      ),
    };
  }

  close(): Promise<void> {
    return this.source.close();
  }
}

function openedText(vault: PiiVault, value: string): string {
  const opened = vault.open(value);
  return typeof opened === 'string' ? opened : value;
}
