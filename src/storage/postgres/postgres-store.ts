import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from '../database-schema.ts';
import { createKyselyStore } from '../kysely/kysely-store.ts';
import type { Store } from '../store.ts';
import { isPostgresUnavailable } from '../store-unavailable.ts';
import { createPostgresAppender } from './postgres-event-appender.ts';

const INT8_OID = 20;

export interface PostgresStoreOptions {
  readonly connectionString: string;
  readonly maxConnections?: number;
  /** How long opening a connection may take before it counts as unreachable (default 5 s). */
  readonly connectTimeoutMs?: number;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

/** The scale-out store. BIGINT is parsed to a number per pool (never by patching pg globally). */
export function createPostgresStore(options: PostgresStoreOptions): Store {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.maxConnections ?? 10,
    // Without a timeout a server that does not answer (a network partition, a host gone
    // without a reset) holds every request and pipeline batch until TCP gives up, minutes
    // later; with it they get 503 `storage.unavailable` and retry. Keepalive notices a
    // connection that died silently while idle in the pool.
    connectionTimeoutMillis: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    keepAlive: true,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID
          ? (value: string) => Number(value)
          : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
    },
  });
  // A client losing its connection (server restart, failover, pg_terminate_backend) must not
  // crash the process. The pool handles idle clients' errors; a checked-out client emits its
  // own 'error' event when no query is running to reject (a transaction between statements),
  // and Node ends the process on an unhandled 'error'. Its next query fails instead, the
  // caller's transaction rolls back, and the pool drops the dead client on release.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return createKyselyStore({
    db,
    dialect: 'postgres',
    appender: createPostgresAppender(pool),
    isUnavailable: isPostgresUnavailable,
    close: async () => {
      await db.destroy();
    },
  });
}
