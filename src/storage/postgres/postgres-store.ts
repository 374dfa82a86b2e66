import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from '../database-schema.ts';
import { createKyselyStore } from '../kysely/kysely-store.ts';
import type { Store } from '../store.ts';
import { createPostgresAppender } from './postgres-event-appender.ts';

const INT8_OID = 20;

export interface PostgresStoreOptions {
  readonly connectionString: string;
  readonly maxConnections?: number;
}

/** The scale-out store. BIGINT is parsed to a number per pool (never by patching pg globally). */
export function createPostgresStore(options: PostgresStoreOptions): Store {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.maxConnections ?? 10,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID
          ? (value: string) => Number(value)
          : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
    },
  });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return createKyselyStore({
    db,
    dialect: 'postgres',
    appender: createPostgresAppender(pool),
    close: async () => {
      await db.destroy();
    },
  });
}
