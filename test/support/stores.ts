import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe } from 'node:test';
import { createPostgresStore } from '../../src/storage/postgres/postgres-store.ts';
import { createSqliteStore } from '../../src/storage/sqlite/sqlite-store.ts';
import type { Store } from '../../src/storage/store.ts';
import { createTestDatabase, postgresReachable } from './postgres.ts';

export type StoreKind = 'sqlite' | 'postgres';

/**
 * How a test reaches a store of one kind. `open()` may be called again after `close()` on the
 * same location: that is how restart tests reopen the same data.
 */
export interface StoreFixture {
  readonly kind: StoreKind;
  /** A store on a fresh location, migrated. */
  fresh(): Promise<StoreHandle>;
}

export interface StoreHandle {
  readonly store: Store;
  /** The same data, opened again (after `store.close()`), migrated. */
  reopen(): Promise<Store>;
  /** Environment that points a server process at this location. */
  readonly env: Record<string, string>;
}

const pgAvailable = await postgresReachable();
if (!pgAvailable && process.env['CI']) {
  throw new Error(
    'PostgreSQL is not reachable at 127.0.0.1:5432, and CI is set: the PostgreSQL tests must run in CI',
  );
}

function sqliteFixture(cleanups: (() => Promise<void>)[]): StoreFixture {
  return {
    kind: 'sqlite',
    async fresh() {
      const dir = mkdtempSync(path.join(tmpdir(), 'cdp-test-'));
      cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
      const filename = path.join(dir, 'cdp.sqlite');
      const open = async () => {
        const store = createSqliteStore({ filename });
        await store.migrate();
        return store;
      };
      return { store: await open(), reopen: open, env: { CDP_DATA_DIR: dir } };
    },
  };
}

function postgresFixture(cleanups: (() => Promise<void>)[]): StoreFixture {
  return {
    kind: 'postgres',
    async fresh() {
      const db = await createTestDatabase();
      const stores: Store[] = [];
      cleanups.push(async () => {
        for (const store of stores) await store.close().catch(() => undefined);
        await db.drop();
      });
      const open = async () => {
        // Four test files run at once against one PostgreSQL (max_connections 100).
        const store = createPostgresStore({ connectionString: db.url, maxConnections: 4 });
        stores.push(store);
        await store.migrate();
        return store;
      };
      return { store: await open(), reopen: open, env: { CDP_DATABASE_URL: db.url } };
    },
  };
}

/**
 * Runs the same suite once per store. Without a reachable PostgreSQL (and outside CI) the
 * PostgreSQL run is reported as skipped, with the reason.
 */
export function describeEachStore(name: string, suite: (fixture: StoreFixture) => void): void {
  for (const kind of ['sqlite', 'postgres'] as const) describeOnStore(kind, name, suite);
}

/**
 * The suite on one store: for the slowest suites, one file per store, so that each runs in
 * parallel with the rest and has the whole per-file time limit to itself.
 */
export function describeOnStore(kind: StoreKind, name: string, suite: (fixture: StoreFixture) => void): void {
  const skip =
    kind === 'postgres' && !pgAvailable
      ? 'PostgreSQL not reachable at 127.0.0.1:5432 (set CI=1 to make this an error)'
      : false;
  describe(`${name} [${kind}]`, { skip }, () => {
    const cleanups: (() => Promise<void>)[] = [];
    after(async () => {
      for (const cleanup of cleanups.reverse()) await cleanup();
    });
    suite(kind === 'sqlite' ? sqliteFixture(cleanups) : postgresFixture(cleanups));
  });
}
