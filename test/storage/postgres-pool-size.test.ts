import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { parseConfig } from '../../src/config/config.ts';
import { createStore } from '../../src/storage/create-store.ts';
import type { Store } from '../../src/storage/store.ts';
import { createTestDatabase, postgresReachable, TEST_PG_ADMIN_URL } from '../support/postgres.ts';

const reachable = await postgresReachable();

// Scale-out runs many processes against one PostgreSQL: each must keep to the connections it is
// given (CDP_DATABASE_POOL_SIZE), or their sum passes the server's max_connections.
describe('PostgreSQL connections per process', { skip: !reachable && 'PostgreSQL not reachable' }, () => {
  let database: { url: string; drop: () => Promise<void> };
  const stores: Store[] = [];

  before(async () => {
    database = await createTestDatabase();
  });
  after(async () => {
    for (const store of stores) await store.close();
    await database.drop();
  });

  /** Connections the store holds after 40 reads at once, counted by the server. */
  async function connectionsUnderLoad(env: Record<string, string>): Promise<number> {
    const config = parseConfig({ CDP_DATABASE_URL: database.url, ...env });
    const store = createStore(config);
    stores.push(store);
    await store.migrate();
    await Promise.all(Array.from({ length: 40 }, () => store.workspaces.list({ limit: 10 })));
    const admin = new pg.Client({ connectionString: TEST_PG_ADMIN_URL });
    await admin.connect();
    try {
      const name = new URL(database.url).pathname.slice(1);
      const { rows } = await admin.query<{ n: string }>(
        'SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1',
        [name],
      );
      const held = Number(rows[0]?.n);
      await store.close();
      stores.pop();
      return held;
    } finally {
      await admin.end();
    }
  }

  it('holds at most CDP_DATABASE_POOL_SIZE connections, and more by default', async () => {
    assert.equal(await connectionsUnderLoad({ CDP_DATABASE_POOL_SIZE: '2' }), 2);
    assert.ok((await connectionsUnderLoad({})) > 2, 'the default pool (10) opens more under the same reads');
  });
});
