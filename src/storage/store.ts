import type {
  LoginThrottleRepository,
  MembershipRepository,
  SessionRepository,
  SetupCodeRepository,
  UserRepository,
} from '../access/access.port.ts';
import type { AuditLogRepository } from '../governance/audit-log.ts';
import type { EventLogRepository } from '../ingestion/event-log.port.ts';
import type { AudienceStateRepository } from '../segments/audience-state.port.ts';
import type { ProfileQueryRepository } from '../profiles/profile-query.port.ts';
import type { ProfileStateStore } from '../profiles/profile-state.port.ts';
import type { ConsumerStateRepository } from '../pipeline/consumer-state.port.ts';
import type { FailedEventRepository } from '../pipeline/failed-events.port.ts';
import type { SegmentRepository } from '../segments/segments.port.ts';
import type { ComputedTraitRepository } from '../computed-traits/computed-traits.port.ts';
import type {
  InstanceStateRepository,
  SourceRepository,
  TokenRepository,
  WorkspaceRepository,
  WorkspaceSettingsRepository,
} from '../workspaces/workspaces.port.ts';
import type { ConsentRepository } from '../privacy/consent.port.ts';
import type {
  PrivacyRequestRepository,
  RetentionRepository,
  SubjectRepository,
  SuppressionRepository,
} from '../privacy/privacy.port.ts';
import type { SqlDialectName } from './sql-dialect.ts';
import type { DestinationRepository } from '../destinations/destinations.port.ts';
import type { PiiVault } from '../privacy/pii-vault.ts';
import type { PayloadSealing } from '../ingestion/payload-sealing.ts';
import type { JsonObject } from '../shared/json.ts';
import type { ResealCounts, ResealProgress } from '../privacy/key-rotation.ts';

export interface PiiSealingControl {
  install(vault: PiiVault): void;
  /** The vault cannot be opened: anything that needs it fails with `error`. */
  lock(error: Error): void;
  readonly vault: PiiVault | undefined;
  /** This process changed a workspace's PII classification. */
  forget(workspaceId: string): void;
  /** What the ingestion decoder needs to seal a request's messages (none without a vault). */
  payloadSealing(workspaceId: string, ip: string | null): Promise<PayloadSealing | undefined>;
  /** A stored message with its sealed fields opened. */
  openMessage(message: JsonObject): JsonObject;
  /** Brings every stored personal value under the active data key (after a rotation). */
  reseal(onProgress?: (progress: ResealProgress) => void): Promise<ResealCounts>;
}

/**
 * The storage port: every repository the platform needs, implemented once per store.
 * SQLite and PostgreSQL both pass test/storage/store-conformance.test.ts.
 */
export interface Store {
  readonly dialect: SqlDialectName;
  /** Encryption of personal data at rest: install the vault before serving (app/unlock-store.ts). */
  readonly pii: PiiSealingControl;
  readonly workspaces: WorkspaceRepository;
  readonly sources: SourceRepository;
  readonly tokens: TokenRepository;
  readonly instance: InstanceStateRepository;
  readonly events: EventLogRepository;
  readonly failedEvents: FailedEventRepository;
  readonly consumerState: ConsumerStateRepository;
  readonly auditLog: AuditLogRepository;
  readonly profileState: ProfileStateStore;
  /** Profile reads on the main connection: what an action resolves before it writes. */
  readonly profiles: ProfileQueryRepository;
  /** The same reads for answers alone (read-routing.ts): on SQLite they need not wait for a pipeline batch. */
  readonly profileViews: ProfileQueryRepository;
  readonly audienceState: AudienceStateRepository;
  readonly workspaceSettings: WorkspaceSettingsRepository;
  readonly users: UserRepository;
  readonly memberships: MembershipRepository;
  readonly sessions: SessionRepository;
  readonly loginThrottle: LoginThrottleRepository;
  readonly setupCodes: SetupCodeRepository;
  readonly segments: SegmentRepository;
  readonly computedTraits: ComputedTraitRepository;
  readonly consent: ConsentRepository;
  readonly privacyRequests: PrivacyRequestRepository;
  readonly suppressions: SuppressionRepository;
  readonly subjects: SubjectRepository;
  readonly retention: RetentionRepository;
  readonly destinations: DestinationRepository;
  migrate(): Promise<{ applied: string[] }>;
  ping(): Promise<void>;
  /**
   * The error says the store cannot be reached or cannot write right now (connection lost or
   * refused, server restarting, database locked past the busy timeout, disk full), not that
   * the request or event is wrong: requests get 503 with Retry-After, pipeline stages wait.
   */
  isUnavailable(error: unknown): boolean;
  /**
   * How a long write transaction lets waiting work use the thread between its statements
   * (SQLite, whose statements run synchronously on the event loop; PostgreSQL's awaits on the
   * network already do). The app passes the pipeline gate's yield.
   */
  yieldWithinTransactions(yieldFn: () => Promise<void>): void;
  close(): Promise<void>;
}
