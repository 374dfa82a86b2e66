import type { Kysely, Migration, MigrationProvider } from 'kysely';
import type { SqlDialectName } from '../sql-dialect.ts';
import * as m001 from './001-event-log-and-workspaces.ts';
import * as m002 from './002-audit-log.ts';
import * as m003 from './003-identity-and-profiles.ts';
import * as m004 from './004-users-and-sessions.ts';
import * as m005 from './005-segments-and-computed-traits.ts';
import * as m006 from './006-consent-and-privacy.ts';
import * as m007 from './007-audience-schedule.ts';
import * as m008 from './008-profile-merge-index.ts';
import * as m009 from './009-consent-current-message.ts';
import * as m010 from './010-destinations.ts';
import * as m011 from './011-audience-event-outbox.ts';
import * as m012 from './012-profile-rebuilds.ts';
import * as m013 from './013-profile-change-outbox.ts';
import * as m014 from './014-profile-rebuild-gone.ts';
import * as m015 from './015-timeline-track-index.ts';

interface DialectMigration {
  up(db: Kysely<unknown>, dialect: SqlDialectName): Promise<void>;
}

/** Migrations are listed explicitly (no directory scan) so bundling and ordering are obvious. */
const MIGRATIONS: Record<string, DialectMigration> = {
  '001-event-log-and-workspaces': m001,
  '002-audit-log': m002,
  '003-identity-and-profiles': m003,
  '004-users-and-sessions': m004,
  '005-segments-and-computed-traits': m005,
  '006-consent-and-privacy': m006,
  '007-audience-schedule': m007,
  '008-profile-merge-index': m008,
  '009-consent-current-message': m009,
  '010-destinations': m010,
  '011-audience-event-outbox': m011,
  '012-profile-rebuilds': m012,
  '013-profile-change-outbox': m013,
  '014-profile-rebuild-gone': m014,
  '015-timeline-track-index': m015,
};

/** Every migration this version knows, by name. */
export const MIGRATION_NAMES: readonly string[] = Object.keys(MIGRATIONS);

export function migrationProvider(dialect: SqlDialectName): MigrationProvider {
  return {
    async getMigrations(): Promise<Record<string, Migration>> {
      const out: Record<string, Migration> = {};
      for (const [name, migration] of Object.entries(MIGRATIONS)) {
        out[name] = { up: (db) => migration.up(db, dialect) };
      }
      return out;
    },
  };
}
