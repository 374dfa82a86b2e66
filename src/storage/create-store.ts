import path from 'node:path';
import type { Config } from '../config/config.ts';
import { createPostgresStore } from './postgres/postgres-store.ts';
import { createSqliteStore } from './sqlite/sqlite-store.ts';
import type { Store } from './store.ts';

/** CDP_DATABASE_URL selects PostgreSQL; otherwise the embedded SQLite file in the data dir. */
export function createStore(
  config: Pick<Config, 'databaseUrl' | 'dataDir'> &
    Partial<Pick<Config, 'sqliteCacheMb' | 'databasePoolSize'>>,
  options: { server?: boolean; secondary?: boolean } = {},
): Store {
  if (config.databaseUrl !== undefined)
    return createPostgresStore({
      connectionString: config.databaseUrl,
      ...(config.databasePoolSize === undefined ? {} : { maxConnections: config.databasePoolSize }),
    });
  return createSqliteStore({
    filename: path.join(config.dataDir, 'cdp.sqlite'),
    backgroundCheckpoints: options.server === true && options.secondary !== true,
    secondary: options.secondary === true,
    ...(config.sqliteCacheMb === undefined ? {} : { cacheMegabytes: config.sqliteCacheMb }),
  });
}
