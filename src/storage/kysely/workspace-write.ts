import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../database-schema.ts';
import type { SqlDialectName } from '../sql-dialect.ts';

export type Db = Kysely<Database> | Transaction<Database>;

/** Advisory lock classes (the first key of `pg_advisory_xact_lock(class, hashtext(workspace))`). */
export const LOCK_CLASS = {
  /** The profile state of a workspace (storage/kysely/profile-state.repository.ts). */
  profileState: 7_270_003,
  consent: 7_270_006,
  privacy: 7_270_007,
} as const;

/**
 * One write transaction per workspace and lock class, safe across processes. SQLite:
 * `BEGIN IMMEDIATE` takes the database's write lock up front (a deferred transaction could fail
 * to upgrade after another process wrote). PostgreSQL: a transaction-scoped advisory lock.
 */
export async function workspaceWrite<T>(
  db: Kysely<Database>,
  dialect: SqlDialectName,
  lockClass: number,
  workspaceId: string,
  work: (trx: Db) => Promise<T>,
): Promise<T> {
  if (dialect === 'postgres') {
    return db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(${lockClass}, hashtext(${workspaceId}))`.execute(trx);
      return work(trx);
    });
  }
  return db.connection().execute(async (connection) => {
    await sql`begin immediate`.execute(connection);
    try {
      const result = await work(connection);
      await sql`commit`.execute(connection);
      return result;
    } catch (error) {
      await sql`rollback`.execute(connection);
      throw error;
    }
  });
}

export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
