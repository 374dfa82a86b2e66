/**
 * The `profiles` pipeline stage: identity resolution and profile traits, per workspace, one
 * transaction per batch. Idempotent: entries already assigned to a profile are skipped, so a
 * redelivered batch changes nothing.
 */
import { createBlockedValues } from '../identity/blocked-values.ts';
import type { StoredEvent } from '../ingestion/message-types.ts';
import type { Stage, StageContext } from '../pipeline/stage.ts';
import type { ProfileSettingsService } from './profile-settings.service.ts';
import { resolveBatch } from './profile-resolver.ts';
import type { ProfileStateStore } from './profile-state.port.ts';

export const PROFILES_STAGE = 'profiles';

export interface ProfileStageDeps {
  readonly state: ProfileStateStore;
  readonly settings: ProfileSettingsService;
  /** Told after each committed batch (e.g. to wake segment evaluation or the live console). */
  readonly onCommitted?: (workspaceId: string, profileIds: readonly string[]) => void;
}

export class ProfileStage implements Stage {
  readonly name = PROFILES_STAGE;
  readonly maxBatch = 500;

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
    const changed = await this.deps.state.exclusive(workspaceId, nowMs, async (session) => {
      const unlinked = await session.unlinkedKeys();
      const changes = await resolveBatch(
        session,
        { identity, blocked: createBlockedValues(identity), profiles, unlinked, nowMs },
        workspaceId,
        events,
      );
      await session.write(changes);
      return changes.profiles.map((p) => p.id);
    });
    if (changed.length > 0) this.deps.onCommitted?.(workspaceId, changed);
  }
}
