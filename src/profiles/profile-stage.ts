/**
 * The `profiles` pipeline stage: identity resolution and profile traits, per workspace, one
 * transaction per batch. Idempotent: entries already assigned to a profile are skipped, so a
 * redelivered batch changes nothing.
 */
import { createBlockedValues } from '../identity/blocked-values.ts';
import type { StoredEvent } from '../ingestion/message-types.ts';
import type { Stage, StageContext } from '../pipeline/stage.ts';
import type { ProfileSettingsService } from './profile-settings.service.ts';
import { reassignedProfilesOf, reresolveComponents, resolveBatch } from './profile-resolver.ts';
import type { ProfileBatchChange, ProfileChangeListener, ProfileStateStore } from './profile-state.port.ts';

export const PROFILES_STAGE = 'profiles';

export interface ProfileStageDeps {
  readonly state: ProfileStateStore;
  readonly settings: ProfileSettingsService;
  /** Called after each committed batch, in order (consent, computed traits, segments…). */
  readonly listeners?: readonly ProfileChangeListener[];
  /** See ResolveContext.maxInlineReresolveEvents. */
  readonly maxInlineReresolveEvents?: number;
  /** Told when a workspace's events are left to its rebuild, so that it surely runs. */
  readonly rebuildUnderWay?: (workspaceId: string) => void;
}

/** How often, at most, a workspace's stale components are re-resolved (one per round). */
const RECONCILE_INTERVAL_MS = 2_000;

export class ProfileStage implements Stage {
  readonly name = PROFILES_STAGE;
  /**
   * Catching up (nothing else waiting on the process), one batch takes up to this many log
   * entries: most of a batch's cost is per batch (its commits, the pages they rewrite, the
   * profiles created and merged again within it), so 5,000 runs 2.2× the events/s of 500 on
   * the identity benchmark. While requests come, the foreground gate admits far smaller ones.
   */
  readonly maxBatch = 5_000;
  readonly #lastReconcile = new Map<string, number>();

  constructor(private readonly deps: ProfileStageDeps) {}

  async handle(event: StoredEvent, context: StageContext): Promise<void> {
    await this.handleBatch([event], context);
  }

  async handleBatch(events: readonly StoredEvent[], context: StageContext): Promise<void> {
    const byWorkspace = new Map<string, StoredEvent[]>();
    for (const event of events) {
      const list = byWorkspace.get(event.workspaceId) ?? [];
      list.push(event);
      byWorkspace.set(event.workspaceId, list);
    }
    for (const [workspaceId, list] of byWorkspace)
      await this.processWorkspace(workspaceId, list, context.clock.now());
  }

  async processWorkspace(workspaceId: string, events: readonly StoredEvent[], nowMs: number): Promise<void> {
    const identity = await this.deps.settings.identity(workspaceId);
    const profiles = await this.deps.settings.profiles(workspaceId);
    const change = await this.deps.state.exclusive(
      workspaceId,
      nowMs,
      async (session): Promise<ProfileBatchChange | undefined> => {
        // A rebuild of the workspace is under way: it applies these events itself, since it
        // reads the log to its end and finishes under this same lock (profile-rebuild.ts).
        const rebuild = await session.rebuild();
        if (rebuild !== undefined && rebuild.status !== 'done') return undefined;
        const unlinked = await session.unlinkedKeys();
        const changes = await resolveBatch(
          session,
          {
            identity,
            blocked: createBlockedValues(identity),
            profiles,
            unlinked,
            nowMs,
            ...(this.deps.maxInlineReresolveEvents === undefined
              ? {}
              : { maxInlineReresolveEvents: this.deps.maxInlineReresolveEvents }),
          },
          workspaceId,
          events,
        );
        await session.write(changes);
        return {
          workspaceId,
          nowMs,
          events: [...events].sort((a, b) => a.seq - b.seq),
          profileOf: await session.assignmentsOf(events.map((e) => e.seq)),
          changedProfiles: changes.profiles.map((p) => p.id),
          mergedProfiles: changes.mergedProfiles,
          deletedProfiles: changes.deletedProfiles,
          reassignedProfiles: reassignedProfilesOf(changes),
        };
      },
      { replayable: true },
    );
    if (change === undefined) {
      this.deps.rebuildUnderWay?.(workspaceId);
      return;
    }
    await this.#notify(change);
    await this.reconcile(workspaceId, nowMs);
  }

  /**
   * Re-resolves one component whose late events were linked in arrival order (too large to
   * re-resolve inline): eventual exactness for super-nodes at a bounded cost per batch.
   */
  async reconcile(workspaceId: string, nowMs: number, force = false): Promise<boolean> {
    const last = this.#lastReconcile.get(workspaceId) ?? -Infinity;
    if (!force && nowMs - last < RECONCILE_INTERVAL_MS) return false;
    this.#lastReconcile.set(workspaceId, nowMs);
    const identity = await this.deps.settings.identity(workspaceId);
    const profiles = await this.deps.settings.profiles(workspaceId);
    return this.deps.state
      .exclusive(
        workspaceId,
        nowMs,
        async (session) => {
          const stale = await session.staleComponents(1);
          if (stale.length === 0) return false as const;
          const unlinked = await session.unlinkedKeys();
          const ctx = { identity, blocked: createBlockedValues(identity), profiles, unlinked, nowMs };
          const changes = await reresolveComponents(session, ctx, workspaceId, stale);
          await session.write(changes);
          return changes;
        },
        { replayable: true },
      )
      .then(async (changes) => {
        if (changes === false) return false;
        await this.#notify({
          workspaceId,
          nowMs,
          events: [],
          profileOf: new Map(),
          changedProfiles: changes.profiles.map((p) => p.id),
          mergedProfiles: changes.mergedProfiles,
          deletedProfiles: changes.deletedProfiles,
          reassignedProfiles: reassignedProfilesOf(changes),
        });
        return true;
      });
  }

  async #notify(change: ProfileBatchChange): Promise<void> {
    for (const listener of this.deps.listeners ?? []) await listener.profilesChanged(change);
  }
}
