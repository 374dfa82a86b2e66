import type { SessionService } from '../access/session.service.ts';
import type { SetupService } from '../access/setup.service.ts';
import type { UserService } from '../access/user.service.ts';
import type { ComputedTraitService } from '../computed-traits/computed-trait.service.ts';
import type { Config } from '../config/config.ts';
import type { RateLimiter } from '../governance/rate-limiter.ts';
import type { DestinationService } from '../destinations/destination.service.ts';
import type { EventQueryService } from '../events/event-query.service.ts';
import type { AuditService } from '../governance/audit.service.ts';
import type { IngestionService } from '../ingestion/ingestion.service.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { ProfileSettingsService } from '../profiles/profile-settings.service.ts';
import type { ProfileService } from '../profiles/profile.service.ts';
import type { ProfileChangeFanout } from '../profiles/profile-change-fanout.ts';
import type { FailedEventsService } from '../pipeline/failed-events.service.ts';
import type { SegmentService } from '../segments/segment.service.ts';
import type { ConsentService } from '../privacy/consent.service.ts';
import type { PrivacyRequestService } from '../privacy/privacy-request.service.ts';
import type { RetentionService } from '../privacy/retention.service.ts';
import type { SuppressionList } from '../privacy/suppression-list.ts';
import type { Clock } from '../shared/clock.ts';
import type { SourceService } from '../workspaces/source.service.ts';
import type { TokenService } from '../workspaces/token.service.ts';
import type { WorkspaceService } from '../workspaces/workspace.service.ts';

/** What HTTP routes and the CLI may call. Routes never see the store. */
export interface AppServices {
  readonly config: Config;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly workspaces: WorkspaceService;
  readonly sources: SourceService;
  readonly tokens: TokenService;
  readonly ingestion: IngestionService;
  readonly events: EventQueryService;
  readonly failedEvents: FailedEventsService;
  readonly audit: AuditService;
  readonly profiles: ProfileService;
  readonly profileSettings: ProfileSettingsService;
  /** Register here to react to profile changes (consent, computed traits, segments…). */
  readonly profileChanges: ProfileChangeFanout;
  readonly users: UserService;
  readonly sessions: SessionService;
  readonly setup: SetupService;
  readonly segments: SegmentService;
  readonly computedTraits: ComputedTraitService;
  readonly consent: ConsentService;
  readonly privacyRequests: PrivacyRequestService;
  readonly retention: RetentionService;
  readonly suppressionList: SuppressionList;
  readonly destinations: DestinationService;
  /** Per write key (ingestion) and per API token or console user (admin API). */
  readonly rateLimits: { readonly ingest: RateLimiter; readonly api: RateLimiter };
  /** The store's reading of an error: unreachable or unable to write now (503, not 500). */
  readonly isStoreUnavailable: (error: unknown) => boolean;
  /** False while starting and once shutdown began. */
  readonly isAcceptingTraffic: () => boolean;
  /** Aborted when shutdown begins: long-lived responses (live streams) end on it. */
  readonly shutdownSignal: AbortSignal;
}
