import type { AuditActor } from '../governance/audit-log.ts';
import type { AuditService } from '../governance/audit.service.ts';
import { PROFILES_STAGE } from '../profiles/profile-stage.ts';
import type { ProfileService } from '../profiles/profile.service.ts';
import type { ProfileSettingsService } from '../profiles/profile-settings.service.ts';
import { ConsentService } from '../privacy/consent.service.ts';
import { PrivacyRequestService, type PrivacyRequestDeps } from '../privacy/privacy-request.service.ts';
import { RetentionService } from '../privacy/retention.service.ts';
import { SuppressionHasher } from '../privacy/suppression-hasher.ts';
import { SuppressionList } from '../privacy/suppression-list.ts';
import type { Clock } from '../shared/clock.ts';
import type { Store } from '../storage/store.ts';
import type { WorkspaceService } from '../workspaces/workspace.service.ts';

export interface PrivacyServices {
  readonly consent: ConsentService;
  readonly privacyRequests: PrivacyRequestService;
  readonly retention: RetentionService;
  readonly suppressionList: SuppressionList;
}

/** How often a process looks for suppression changes made by other processes. */
export const SUPPRESSION_POLL_MS = 2_000;

/**
 * Consent, privacy requests, the suppression list and retention over one store. The
 * suppression list is loaded here, before anything is served.
 */
export async function buildPrivacyServices(deps: {
  store: Store;
  clock: Clock;
  encryptionKey: Buffer;
  audit: AuditService;
  profiles: ProfileService;
  profileSettings: ProfileSettingsService;
  workspaces: WorkspaceService;
  actor: AuditActor;
  /** Events accepted by this process that wait for their commit (0 in the CLI). */
  pendingEvents: () => number;
  /** Whether other processes may be ingesting into the same store (they learn by polling). */
  sharedStore: boolean;
  onDropped?: (count: number) => void;
  /** Deletion calls to destinations on erasure (privacy-request.service.ts). */
  deletionCalls?: PrivacyRequestDeps['deletionCalls'];
  logError: (details: Record<string, unknown>, message: string) => void;
}): Promise<PrivacyServices> {
  const { store, clock } = deps;
  const hasher = await SuppressionHasher.load(store.instance, deps.encryptionKey);
  const suppressionList = new SuppressionList({
    repository: store.suppressions,
    hasher,
    identitySettings: (ws) => deps.profileSettings.identity(ws),
    now: () => clock.now(),
    pollIntervalMs: SUPPRESSION_POLL_MS,
    openMessage: (message) => store.pii.openMessage(message),
    ...(deps.onDropped ? { onDropped: deps.onDropped } : {}),
  });
  await suppressionList.refresh();
  const consent = new ConsentService({
    consent: store.consent,
    settings: store.workspaceSettings,
    resolveProfile: (ws, id) => deps.profiles.resolve(ws, id),
    resolveProfileForReading: (ws, id) => deps.profiles.resolveForReading(ws, id),
    clock,
  });
  const privacyRequests = new PrivacyRequestService({
    requests: store.privacyRequests,
    subjects: store.subjects,
    suppressions: store.suppressions,
    consent: store.consent,
    hasher,
    audit: deps.audit,
    clock,
    normalize: (ws, type, value) => deps.profiles.normalize(ws, type, value),
    identitySettings: (ws) => deps.profileSettings.identity(ws),
    profileSettings: (ws) => deps.profileSettings.profiles(ws),
    workspace: (ws) => deps.workspaces.get(ws),
    profilesCursor: () => store.consumerState.getCursor(PROFILES_STAGE),
    logHead: () => store.events.headSeq(),
    suppressionChanged: (ws) => suppressionList.refresh(ws),
    suppressionSettled: async () => {
      // Events that passed the check before the change are in the commit queue: wait for it
      // to empty once (bounded), then for other processes' next poll.
      for (let waited = 0; deps.pendingEvents() > 0 && waited < 2_000; waited += 10)
        await new Promise((resolve) => setTimeout(resolve, 10));
      if (deps.sharedStore) await new Promise((resolve) => setTimeout(resolve, SUPPRESSION_POLL_MS + 500));
    },
    actor: deps.actor,
    ...(deps.deletionCalls ? { deletionCalls: deps.deletionCalls } : {}),
    onError: (error, request) =>
      deps.logError({ err: error, requestId: request.id, type: request.type }, 'privacy request failed'),
    isUnavailable: (error) => store.isUnavailable(error),
  });
  const retention = new RetentionService({
    retention: store.retention,
    requests: store.privacyRequests,
    workspaces: store.workspaces,
    settings: store.workspaceSettings,
    audit: deps.audit,
    clock,
    onError: (error) => deps.logError({ err: error }, 'retention run failed'),
  });
  return { consent, privacyRequests, retention, suppressionList };
}
