import { KyselyDestinationRepository } from './destination.repository.ts';
import { Migrator, sql, type Kysely } from 'kysely';
import type { Database } from '../database-schema.ts';
import { MIGRATION_NAMES, migrationProvider } from '../migrations/migration-list.ts';
import { refuseNewerSchema } from '../migrations/newer-schema.ts';
import type { SqlDialectName } from '../sql-dialect.ts';
import type { Store } from '../store.ts';
import { KyselyAuditLogRepository, type MainFileFlush } from './audit-log.repository.ts';
import { KyselyConsumerStateRepository } from './consumer-state.repository.ts';
import { KyselyEventLogRepository, type EventAppender } from './event-log.repository.ts';
import { KyselyFailedEventRepository } from './failed-event.repository.ts';
import { KyselyAudienceStateRepository } from './audience-state.repository.ts';
import { KyselyProfileQueryRepository } from './profile-query.repository.ts';
import { KyselyProfileStateStore } from './profile-state.repository.ts';
import type { ReadRouting } from './read-routing.ts';
import { PiiSealing } from './pii-sealing.ts';
import { KyselyWorkspaceSettingsRepository } from './workspace-settings.repository.ts';
import { KyselyLoginThrottleRepository } from './login-throttle.repository.ts';
import { KyselyMembershipRepository } from './membership.repository.ts';
import { KyselySessionRepository } from './session.repository.ts';
import { KyselySetupCodeRepository } from './setup-code.repository.ts';
import { KyselySegmentRepository } from './segment.repository.ts';
import { KyselyComputedTraitRepository } from './computed-trait.repository.ts';
import { KyselyConsentRepository } from './consent.repository.ts';
import { KyselyPrivacyRequestRepository, KyselySuppressionRepository } from './privacy-request.repository.ts';
import { KyselySubjectRepository } from './privacy-subject.repository.ts';
import { KyselyRetentionRepository } from './retention.repository.ts';
import { KyselySourceRepository } from './source.repository.ts';
import { KyselyTokenRepository } from './token.repository.ts';
import { KyselyUserRepository } from './user.repository.ts';
import { KyselyInstanceStateRepository, KyselyWorkspaceRepository } from './workspace.repository.ts';

/** Assembles the shared repositories over one Kysely instance; adapters add the dialect bits. */
export function createKyselyStore(options: {
  db: Kysely<Database>;
  dialect: SqlDialectName;
  appender: EventAppender;
  /** Dialect upkeep after migrations ran (SQLite: planner statistics for new indexes). */
  afterMigrate?: () => Promise<void>;
  /** The dialect's reading of "cannot reach or write the store" (storage/store-unavailable.ts). */
  isUnavailable: (error: unknown) => boolean;
  /** See `Store.yieldWithinTransactions`; absent where the driver yields by itself. */
  yieldWithinTransactions?: (yieldFn: () => Promise<void>) => void;
  /** SQLite on a file: the fsync of the main file's WAL (storage/sqlite/wal-file-sync.ts). */
  mainFile?: MainFileFlush;
  /** Where stand-alone reads run (read-routing.ts); by default, on `db`. */
  reads?: ReadRouting;
  close: () => Promise<void>;
}): Store {
  const { db, dialect } = options;
  const sealing = new PiiSealing(db);
  const routing = options.reads ?? (() => db);
  return {
    dialect,
    pii: sealing,
    workspaces: new KyselyWorkspaceRepository(db, routing),
    sources: new KyselySourceRepository(db, routing),
    tokens: new KyselyTokenRepository(db, routing),
    instance: new KyselyInstanceStateRepository(db),
    events: new KyselyEventLogRepository(db, options.appender, sealing, routing),
    failedEvents: new KyselyFailedEventRepository(db, routing),
    consumerState: new KyselyConsumerStateRepository(db, dialect, routing),
    auditLog: new KyselyAuditLogRepository(db, dialect, options.mainFile),
    profileState: new KyselyProfileStateStore(db, dialect, sealing),
    profiles: new KyselyProfileQueryRepository(db, dialect, sealing),
    profileViews: new KyselyProfileQueryRepository(db, dialect, sealing, routing),
    audienceState: new KyselyAudienceStateRepository(db, dialect, routing),
    workspaceSettings: new KyselyWorkspaceSettingsRepository(db, (ws) => sealing.forget(ws), routing),
    users: new KyselyUserRepository(db),
    memberships: new KyselyMembershipRepository(db),
    sessions: new KyselySessionRepository(db),
    loginThrottle: new KyselyLoginThrottleRepository(db, dialect),
    setupCodes: new KyselySetupCodeRepository(db),
    segments: new KyselySegmentRepository(db, dialect, sealing, routing),
    computedTraits: new KyselyComputedTraitRepository(db, dialect, routing),
    consent: new KyselyConsentRepository(db, dialect, routing),
    privacyRequests: new KyselyPrivacyRequestRepository(db, sealing),
    suppressions: new KyselySuppressionRepository(db, dialect),
    subjects: new KyselySubjectRepository(db, dialect, sealing),
    destinations: new KyselyDestinationRepository(db, dialect, sealing, routing),
    retention: new KyselyRetentionRepository(db, dialect),
    async migrate() {
      // Migrations are independent of each other's numbers (004 landed before 003), so a
      // store that ran a later one still takes an earlier one that arrived afterwards.
      await refuseNewerSchema(db as Kysely<unknown>, MIGRATION_NAMES);
      const migrator = new Migrator({
        db,
        provider: migrationProvider(dialect),
        allowUnorderedMigrations: true,
      });
      const { error, results } = await migrator.migrateToLatest();
      if (error)
        throw error instanceof Error ? error : new Error(`migration failed: ${JSON.stringify(error)}`);
      await options.afterMigrate?.();
      return { applied: (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName) };
    },
    async ping() {
      await sql`select 1`.execute(db);
    },
    isUnavailable: options.isUnavailable,
    yieldWithinTransactions: options.yieldWithinTransactions ?? (() => undefined),
    close: options.close,
  };
}
