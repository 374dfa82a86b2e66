import { Argon2idPasswordHasher } from '../access/argon2id-password-hasher.ts';
import { UserService } from '../access/user.service.ts';
import { buildRealtimeAudiences, buildSegmentServices } from '../app/segment-services.ts';
import type { ComputedTraitService } from '../computed-traits/computed-trait.service.ts';
import { parseConfig, type Config } from '../config/config.ts';
import type { SegmentService } from '../segments/segment.service.ts';
import type { RealtimeAudiences } from '../segments/realtime-audiences.ts';
import { systemClock } from '../shared/clock.ts';
import { createStore } from '../storage/create-store.ts';
import { AppError } from '../errors/app-error.ts';
import { loadOrCreateEncryptionKey } from '../app/encryption-key.ts';
import { loadPiiVault } from '../privacy/key-ring.ts';
import type { Store } from '../storage/store.ts';
import { SourceService } from '../workspaces/source.service.ts';
import { TokenService } from '../workspaces/token.service.ts';
import { InProcessBus } from '../bus/in-process-bus.ts';
import { FailedEventsService } from '../pipeline/failed-events.service.ts';
import { AuditService } from '../governance/audit.service.ts';
import { WorkspaceService } from '../workspaces/workspace.service.ts';
import { ProfileSettingsService } from '../profiles/profile-settings.service.ts';
import { ProfileService } from '../profiles/profile.service.ts';
import { ProfileChangeFanout } from '../profiles/profile-change-fanout.ts';
import { ConsentService } from '../privacy/consent.service.ts';

export interface CliContext {
  readonly config: Config;
  readonly store: Store;
  readonly workspaces: WorkspaceService;
  readonly sources: SourceService;
  readonly tokens: TokenService;
  readonly failedEvents: FailedEventsService;
  readonly audit: AuditService;
  readonly profiles: ProfileService;
  readonly users: UserService;
  readonly segments: SegmentService;
  readonly computedTraits: ComputedTraitService;
  /** Records a change made from the command line in the audit log. */
  readonly auditChange: (
    action: string,
    workspaceId: string | null,
    target: Record<string, string>,
  ) => Promise<void>;
  /** Migrations this command applied before running (every command migrates first). */
  readonly applied: readonly string[];
}

/** Opens the configured store (migrated), runs one command, and always closes it. */
export async function withCli<T>(
  env: NodeJS.ProcessEnv,
  run: (context: CliContext) => Promise<T>,
): Promise<T> {
  const config = parseConfig(env);
  const store = createStore(config);
  let audiences: RealtimeAudiences | undefined;
  try {
    const { applied } = await store.migrate();
    // Profiles read and written here are sealed and opened like the server's (same key). With
    // another key, commands that touch no personal data (users, tokens, sources) still run.
    try {
      store.pii.install(
        await loadPiiVault(store.instance, loadOrCreateEncryptionKey(config.encryptionKey, config.dataDir)),
      );
    } catch (error) {
      if (!AppError.is(error) || error.code !== 'privacy.key_mismatch') throw error;
      store.pii.lock(error);
    }
    const clock = systemClock;
    const audit = new AuditService({
      auditLog: store.auditLog,
      clock,
      readsWaitForDisk: config.auditReadsWaitForDisk,
    });
    const cliAudience = cliAudiences(store, config);
    audiences = cliAudience;
    return await run({
      applied,
      config,
      store,
      workspaces: new WorkspaceService({ workspaces: store.workspaces, clock }),
      sources: new SourceService({ sources: store.sources, clock }),
      tokens: new TokenService({ tokens: store.tokens, clock, adminToken: config.adminToken }),
      // Replays go through the bus's durable redelivery schedule; a running server picks them up.
      audit,
      users: new UserService({
        users: store.users,
        memberships: store.memberships,
        sessions: store.sessions,
        hasher: new Argon2idPasswordHasher(),
        clock,
      }),
      // Backfills run in this process: commands wait for them (`segments.idle()`).
      ...buildSegmentServices({
        store,
        clock,
        logError: (details, message) => process.stderr.write(`cdp: ${message}: ${String(details['err'])}\n`),
        reevaluateSince: (workspaceId, sinceMs) => cliAudience.reevaluateUpdatedSince(workspaceId, sinceMs),
      }),
      auditChange: async (action, workspaceId, target) => {
        await audit.record({
          workspaceId,
          actor: { kind: 'cli', tokenId: null, role: 'owner' },
          action: `cli ${action}`,
          target: JSON.stringify(target),
          ip: null,
          details: { kind: 'change' },
        });
      },
      profiles: cliProfileService(store, cliAudience),
      failedEvents: new FailedEventsService({
        failedEvents: store.failedEvents,
        bus: new InProcessBus({ log: store.events, state: store.consumerState, clock }),
        clock,
      }),
    });
  } finally {
    // An unmerge or a rebuild queued audience events: they are appended before the store closes.
    await audiences?.stop();
    await store.close();
  }
}

/**
 * The profile service with the server's listeners, so an unmerge or a rebuild from the command
 * line moves consent and re-evaluates computed traits and segments as the server's would.
 * Audience events go straight to the log, where the server's pipeline picks them up.
 */
function cliProfileService(store: Store, audiences: RealtimeAudiences): ProfileService {
  const clock = systemClock;
  const changes = new ProfileChangeFanout();
  const profiles: ProfileService = new ProfileService({
    profiles: store.profiles,
    state: store.profileState,
    settings: new ProfileSettingsService(store.workspaceSettings),
    events: store.events,
    clock,
    listener: changes,
  });
  changes.add(
    new ConsentService({
      consent: store.consent,
      settings: store.workspaceSettings,
      resolveProfile: (ws, id) => profiles.resolve(ws, id),
      clock,
    }),
  );
  changes.add(audiences);
  return profiles;
}

/** Audience events go straight to the log, where the server's pipeline picks them up. */
function cliAudiences(store: Store, config: Config): RealtimeAudiences {
  const clock = systemClock;
  return buildRealtimeAudiences({
    store,
    clock,
    emit: async (events) => {
      await store.events.append(events, clock.now() - config.dedupWindowMs);
    },
    onPublishError: (error) =>
      process.stderr.write(`cdp: could not append audience events (retrying): ${String(error)}\n`),
  });
}
