/**
 * Rebuilding a workspace's profiles from its event log (after its identity settings changed, or
 * to repair them). The work is a sequence of short steps, each one transaction that also records
 * how far the rebuild is (profile-state.port.ts, `ProfileRebuildState`): a chunk of the old
 * derived state deleted, then the log applied page by page to its end. So a rebuild never holds
 * the store for long whatever the workspace's size (at the end, the profiles the replay did not
 * bring back are reported deleted), and one that a crash, a restart or a killed
 * `cdp profiles rebuild` interrupted continues where it stopped (the server resumes it at start)
 * instead of leaving profiles with part of their history. Until it is done the profiles stage
 * leaves the workspace's events to it: the rebuild reads the log to its end, and its last step
 * (nothing left after its position) and the stage's check run under the same workspace lock, so
 * no event falls between the two. Steps may run in several processes at once: each reads the
 * position in its own transaction, and re-applying a page is a no-op (pipeline idempotency).
 */
import { randomUUID } from 'node:crypto';
import { createBlockedValues } from '../identity/blocked-values.ts';
import type { StoredEvent } from '../ingestion/message-types.ts';
import type { EventLogRepository } from '../ingestion/event-log.port.ts';
import { DEFAULT_MAX_BATCH_BYTES } from '../pipeline/stage.ts';
import type { Clock } from '../shared/clock.ts';
import type { ProfileSettingsService } from './profile-settings.service.ts';
import { reassignedProfilesOf, resolveBatch } from './profile-resolver.ts';
import type {
  PendingRebuildChange,
  ProfileChangeListener,
  ProfileRebuildState,
  ProfileStateStore,
} from './profile-state.port.ts';

/** Rows of old state deleted per transaction. */
const CLEAR_ROWS = 5_000;
/** Logged events applied per transaction. */
const REPLAY_PAGE = 2_000;
/** Deleted profiles checked per transaction at the end. */
const PRUNE_PAGE = 1_000;
/** A background rebuild that failed (store away, say) tries again after this long. */
const RETRY_MS = 5_000;

export interface ProfileRebuildDeps {
  readonly state: ProfileStateStore;
  readonly settings: ProfileSettingsService;
  readonly events: Pick<EventLogRepository, 'countByWorkspace'>;
  readonly clock: Clock;
  /** Told about each applied page, as after a pipeline batch (consent, computed traits, segments). */
  readonly listener?: ProfileChangeListener | undefined;
  /** A background rebuild's failure (it is retried). */
  readonly onError?: ((workspaceId: string, error: unknown) => void) | undefined;
}

interface StepOutcome {
  readonly state: ProfileRebuildState | undefined;
  /** A page applied (now, or before a crash) whose change the listeners have yet to take. */
  readonly notify?: {
    readonly change: PendingRebuildChange;
    readonly events: readonly StoredEvent[];
    readonly profileOf: ReadonlyMap<number, string>;
    readonly nowMs: number;
  };
}

export class ProfileRebuilds {
  readonly #deps: ProfileRebuildDeps;
  /** One runner per workspace in this process; callers queue behind it. */
  readonly #running = new Map<string, Promise<ProfileRebuildState | undefined>>();
  readonly #retries = new Map<string, NodeJS.Timeout>();
  #closing = false;

  constructor(deps: ProfileRebuildDeps) {
    this.#deps = deps;
  }

  /** Starts the workspace's rebuild, or starts it over if one is under way. */
  async start(workspaceId: string): Promise<ProfileRebuildState> {
    const nowMs = this.#deps.clock.now();
    const state: ProfileRebuildState = {
      status: 'clearing',
      afterSeq: 0,
      done: 0,
      total: await this.#deps.events.countByWorkspace(workspaceId),
      startedMs: nowMs,
      finishedMs: null,
      pending: null,
    };
    // Not `replayable`: the request to rebuild is an admin change, kept through a power loss.
    await this.#deps.state.exclusive(workspaceId, nowMs, (session) => session.saveRebuild(state));
    return state;
  }

  progress(workspaceId: string): Promise<ProfileRebuildState | undefined> {
    return this.#deps.state.rebuildOf(workspaceId);
  }

  /** Runs the workspace's rebuild to its end in the caller; `onProgress` after each step. */
  run(
    workspaceId: string,
    onProgress?: (state: ProfileRebuildState) => void,
  ): Promise<ProfileRebuildState | undefined> {
    const previous = this.#running.get(workspaceId) ?? Promise.resolve(undefined);
    const next = previous.catch(() => undefined).then(() => this.#runSteps(workspaceId, onProgress));
    this.#running.set(workspaceId, next);
    const forget = (): void => {
      if (this.#running.get(workspaceId) === next) this.#running.delete(workspaceId);
    };
    next.then(forget, forget);
    return next;
  }

  /** Runs it in the background, again after a pause whenever a step fails. */
  background(workspaceId: string): void {
    this.run(workspaceId).catch((error: unknown) => {
      this.#deps.onError?.(workspaceId, error);
      if (this.#closing || this.#retries.has(workspaceId)) return;
      const timer = setTimeout(() => {
        this.#retries.delete(workspaceId);
        if (!this.#closing) this.background(workspaceId);
      }, RETRY_MS);
      timer.unref();
      this.#retries.set(workspaceId, timer);
    });
  }

  /**
   * A rebuild under way that this process is not running (another process started it and may
   * have died: a killed `cdp profiles rebuild`): this process takes part, so the workspace's
   * profiles do not wait for a restart. Steps of several processes interleave safely.
   */
  ensureRunning(workspaceId: string): void {
    if (this.#closing || this.#running.has(workspaceId) || this.#retries.has(workspaceId)) return;
    this.background(workspaceId);
  }

  /** Continues, in the background, the rebuilds a previous process left unfinished. */
  async resumeUnfinished(): Promise<void> {
    for (const workspaceId of await this.#deps.state.unfinishedRebuilds()) this.background(workspaceId);
  }

  /** Settles when the rebuilds running in this process have stopped (at a step's end). */
  async close(): Promise<void> {
    this.#closing = true;
    for (const timer of this.#retries.values()) clearTimeout(timer);
    this.#retries.clear();
    await Promise.allSettled([...this.#running.values()]);
  }

  async #runSteps(
    workspaceId: string,
    onProgress?: (state: ProfileRebuildState) => void,
  ): Promise<ProfileRebuildState | undefined> {
    for (;;) {
      if (this.#closing) return this.progress(workspaceId);
      const state = await this.#step(workspaceId);
      if (state !== undefined) onProgress?.(state);
      if (state === undefined || state.status === 'done') return state;
    }
  }

  async #step(workspaceId: string): Promise<ProfileRebuildState | undefined> {
    const { settings, state: store, listener } = this.#deps;
    const identity = await settings.identity(workspaceId);
    const profiles = await settings.profiles(workspaceId);
    const nowMs = this.#deps.clock.now();
    const outcome = await store.exclusive(
      workspaceId,
      nowMs,
      async (session): Promise<StepOutcome> => {
        const current = await session.rebuild();
        if (current === undefined || current.status === 'done') return { state: current };
        if (current.pending !== null) {
          // Applied before a crash, the listeners not told: the same page again. Not bounded by
          // bytes: payloads rewritten since (erased, resealed) could cut it short of afterSeq.
          const events = (await session.logAfter(current.pending.fromSeq, REPLAY_PAGE)).filter(
            (e) => e.seq <= current.afterSeq,
          );
          const profileOf = await session.assignmentsOf(events.map((e) => e.seq));
          return { state: current, notify: { change: current.pending, events, profileOf, nowMs } };
        }
        if (current.status === 'clearing') {
          if ((await session.clearSome(CLEAR_ROWS)) >= CLEAR_ROWS) return { state: current };
          const next: ProfileRebuildState = { ...current, status: 'replaying', afterSeq: 0 };
          await session.saveRebuild(next);
          return { state: next };
        }
        if (current.status === 'pruning') {
          const { taken, gone } = await session.takeGoneProfiles(PRUNE_PAGE);
          if (taken === 0) {
            const next: ProfileRebuildState = {
              ...current,
              status: 'done',
              total: Math.max(current.total, current.done),
              finishedMs: nowMs,
            };
            await session.saveRebuild(next);
            return { state: next };
          }
          if (gone.length === 0 || listener === undefined) return { state: current };
          // Profiles of the old state that the replay did not bring back (the settings changed):
          // what derives from them (memberships, computed values, consent) goes.
          const change: PendingRebuildChange = {
            id: randomUUID(),
            fromSeq: current.afterSeq,
            changedProfiles: [],
            mergedProfiles: [],
            deletedProfiles: gone,
            reassignedProfiles: [],
          };
          const next: ProfileRebuildState = { ...current, pending: change };
          await session.saveRebuild(next);
          return { state: next, notify: { change, events: [], profileOf: new Map(), nowMs } };
        }
        const page = await session.logAfter(current.afterSeq, REPLAY_PAGE, DEFAULT_MAX_BATCH_BYTES);
        const last = page.at(-1);
        if (last === undefined) {
          const next: ProfileRebuildState = { ...current, status: 'pruning' };
          await session.saveRebuild(next);
          return { state: next };
        }
        const unlinked = await session.unlinkedKeys();
        const blocked = createBlockedValues(identity);
        const changes = await resolveBatch(
          session,
          { identity, blocked, profiles, unlinked, nowMs },
          workspaceId,
          page,
        );
        await session.write(changes);
        const changed = changes.profiles.map((p) => p.id);
        const change: PendingRebuildChange = {
          id: randomUUID(),
          fromSeq: current.afterSeq,
          changedProfiles: changed,
          mergedProfiles: changes.mergedProfiles,
          deletedProfiles: changes.deletedProfiles,
          // Events may have moved to other profiles than before the rebuild: what derives from
          // them follows too.
          reassignedProfiles: [...new Set([...changed, ...reassignedProfilesOf(changes)])],
        };
        const done = current.done + page.length;
        const next: ProfileRebuildState = {
          ...current,
          afterSeq: last.seq,
          done,
          total: Math.max(current.total, done),
          pending: listener === undefined ? null : change,
        };
        await session.saveRebuild(next);
        const profileOf = await session.assignmentsOf(page.map((e) => e.seq));
        return { state: next, notify: { change, events: page, profileOf, nowMs } };
      },
      { replayable: true },
    );
    const { state, notify } = outcome;
    if (notify === undefined || listener === undefined || state === undefined) return state;
    const { change, events, profileOf, nowMs: changedMs } = notify;
    await listener.profilesChanged({
      workspaceId,
      nowMs: changedMs,
      events,
      profileOf,
      changedProfiles: change.changedProfiles,
      mergedProfiles: change.mergedProfiles,
      deletedProfiles: change.deletedProfiles,
      reassignedProfiles: change.reassignedProfiles,
    });
    return store.exclusive(
      workspaceId,
      this.#deps.clock.now(),
      async (session) => {
        const current = await session.rebuild();
        // Unless the rebuild was started over (or moved on in another process) meanwhile.
        if (current?.pending != null && current.pending.id === change.id) {
          const next = { ...current, pending: null };
          await session.saveRebuild(next);
          return next;
        }
        return current;
      },
      { replayable: true },
    );
  }
}
