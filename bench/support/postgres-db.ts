import { randomBytes } from 'node:crypto';
import pg from 'pg';

const ADMIN_URL = process.env['CDP_BENCH_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A throwaway database for one benchmark run, or undefined when PostgreSQL is not reachable. */
export async function createBenchDatabase(): Promise<{ url: string; drop: () => Promise<void> } | undefined> {
  const name = `cdp_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 2000 });
  try {
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
  } catch {
    return undefined;
  } finally {
    await admin.end().catch(() => undefined);
  }
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: ADMIN_URL });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}
