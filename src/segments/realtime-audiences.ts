/**
 * Real-time computed traits and segment memberships. After the profiles stage commits a batch,
 * only the touched profiles are re-evaluated, and for each only the segments whose dependencies
 * (event names, traits, computed traits, referenced segments) the batch touched. Every
 * membership change is written with its history and emitted as an `Audience Entered` /
 * `Audience Exited` track event into the log, where destinations, timelines and analytics read
 * it like any event. Conditions that change with the clock alone (`in last 7 days`) are
 * re-evaluated by the scheduler at the exact instant they can flip (`nextChangeAt`).
 */
import { computeTraitValue, nextValueChangeAt } from '../computed-traits/compute-trait.ts';
import type { ComputedTraitRepository } from '../computed-traits/computed-traits.port.ts';
import type { AcceptedEvent, StoredEvent } from '../ingestion/message-types.ts';
import type { ProfileBatchChange, ProfileChangeListener } from '../profiles/profile-state.port.ts';
import type { Clock } from '../shared/clock.ts';
import { groupTraitsSetByAccount } from './account-trait-changes.ts';
import {
  loadDefinitions,
  NO_DEFINITIONS,
  ParsedDefinitions,
  type CompiledComputed,
  type CompiledSegment,
  type Definitions,
} from './audience-definitions.ts';
import type {
  AudienceStateRepository,
  AudienceTransition,
  ProfileAudienceUpdate,
} from './audience-state.port.ts';
import { AudiencePublisher, type PublisherState } from './audience-publisher.ts';
import { evaluateSegment } from './evaluate-segment.ts';
import { nextChangeAt } from './next-change.ts';
import { audienceEvent, transitionsOf } from './audience-events.ts';
import { newTouch, touchesOfBatch, touchOf, touchReaches, type Touch } from './audience-touches.ts';
import type { JsonValue, ProfileSnapshot } from './profile-snapshot.ts';
import type { Segment } from './segment-types.ts';
import type { SegmentRepository } from './segments.port.ts';

export interface RealtimeAudiencesDeps {
  readonly segments: SegmentRepository;
  readonly computedTraits: ComputedTraitRepository;
  readonly state: AudienceStateRepository;
  readonly clock: Clock;
  /** The ids an emitted event carries, so it lands on the same profile. */
  readonly identityOf: (
    workspaceId: string,
    profileId: string,
  ) => Promise<{ userId: string | null; anonymousId: string | null }>;
  /** Person profiles linked to an account (`profile_groups`), in id order, one page at a time. */
  readonly accountMembers: (
    workspaceId: string,
    accountId: string,
    page: { readonly afterId: string | undefined; readonly limit: number },
  ) => Promise<readonly string[]>;
  /** Durably appends to the event log (and announces to the bus). */
  readonly emit: (events: readonly AcceptedEvent[]) => Promise<void>;
  /** Told when a profile gets an earlier due instant than the scheduler knows. */
  readonly onScheduled?: (dueMs: number) => void;
  /** Appending audience events failed (retried after a pause; the outbox keeps them meanwhile). */
  readonly onPublishError: (error: unknown) => void;
}

const MEMBER_PAGE = 500;
const PENDING_PAGE = 500;
/** Younger owed events are being appended by the evaluation that decided them. */
const PENDING_GRACE_MS = 10_000;
/** Profiles whose snapshots are read together (a few queries per page, not per profile). */
const SNAPSHOT_PAGE = 500;

export class RealtimeAudiences implements ProfileChangeListener {
  readonly name = 'audiences';
  readonly #deps: RealtimeAudiencesDeps;
  /**
   * One evaluation of a workspace at a time, in this process: the scheduler and the pipeline
   * both evaluate a profile, and the one that read its snapshot first must not write last
   * (an exit at a window's expiry overwritten by a batch that started before it). Across
   * processes this needs the bus to hand a workspace's (or profile's) evaluations to one
   * consumer at a time: the scale-out adapter's partition key.
   */
  readonly #lanes = new Map<string, Promise<void>>();

  readonly #parsed = new ParsedDefinitions();
  /** Appends the decided Audience events behind the evaluations, in decision order. */
  readonly #publisher: AudiencePublisher;

  constructor(deps: RealtimeAudiencesDeps) {
    this.#deps = deps;
    this.#publisher = new AudiencePublisher({
      publish: (workspaceId, transitions) => this.#publish(workspaceId, transitions),
      onError: deps.onPublishError,
    });
  }

  /** Resolves once every Audience event decided so far is in the log. */
  settled(): Promise<void> {
    return this.#publisher.settled();
  }

  /** Audience events decided and not yet appended, and a counter of decisions (see drained checks). */
  publishing(): PublisherState {
    return this.#publisher.state();
  }

  /** Sends what is queued (what it cannot send stays in the outbox for the next start). */
  async stop(): Promise<void> {
    await this.#publisher.stop();
  }

  async profilesChanged(change: ProfileBatchChange): Promise<void> {
    const { workspaceId, nowMs } = change;
    const removed = [...change.mergedProfiles.map((m) => m.id), ...change.deletedProfiles];
    const { touches, accounts } = touchesOfBatch(change);
    const touch = (id: string): Touch => touchOf(touches, id);
    const definitions =
      touches.size === 0 && accounts.length === 0
        ? NO_DEFINITIONS
        : await loadDefinitions(this.#deps, workspaceId, this.#parsed);
    await this.#touchNewProfiles(workspaceId, touches, change.events, definitions);
    // After the loop above: a member touched only through its account is not "re-resolved".
    await this.#touchAccountMembers(workspaceId, accounts, change.events, definitions.segments, touch);
    await this.#evaluateAll(workspaceId, touches, nowMs, definitions, removed);
  }

  /**
   * Runs `work` after every earlier evaluation of the workspace, at an instant no earlier than
   * the clock's when it starts: a batch that began before the clock passed a window's end is
   * evaluated after it, so it cannot bring back a value the expiry already took away.
   */
  async #inLane<T>(workspaceId: string, startedMs: number, work: (nowMs: number) => Promise<T>): Promise<T> {
    const before = this.#lanes.get(workspaceId) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = before.then(() => mine);
    this.#lanes.set(workspaceId, tail);
    await before;
    try {
      return await work(Math.max(startedMs, this.#deps.clock.now()));
    } finally {
      release();
      if (this.#lanes.get(workspaceId) === tail) this.#lanes.delete(workspaceId);
    }
  }

  /**
   * A profile this batch created has no membership to compare with: the dependency index says
   * which segments an event can change for a profile already evaluated, but a new profile may
   * belong to segments reading nothing it did (`not did "Order Completed"`, `not traits.plan
   * exists`). It is evaluated against every segment; updates of existing profiles keep the index.
   */
  async #touchNewProfiles(
    workspaceId: string,
    touches: Map<string, Touch>,
    events: readonly StoredEvent[],
    definitions: Definitions,
  ): Promise<void> {
    if (definitions.segments.length === 0) return;
    const open = [...touches].filter(([, t]) => !t.all).map(([id]) => id);
    const created = await this.#deps.state.createdBy(
      workspaceId,
      open,
      events.map((e) => e.seq),
    );
    for (const id of created) {
      const t = touches.get(id);
      if (t !== undefined) t.all = true;
    }
  }

  /**
   * Members of the accounts the batch changed read those accounts' traits through `group.*`:
   * they are evaluated again for the segments reading a trait that may have changed, even when
   * the `group` call came from another member. Only when some segment reads `group.*`.
   */
  async #touchAccountMembers(
    workspaceId: string,
    accounts: readonly string[],
    events: readonly StoredEvent[],
    segments: readonly CompiledSegment[],
    touch: (id: string) => Touch,
  ): Promise<void> {
    // Paths have at least one key (the language requires it): the first is the account trait.
    const read = new Set(
      segments.flatMap((s) => s.dependencies.groupTraitPaths.map((keys) => keys[0] ?? '')),
    );
    if (accounts.length === 0 || read.size === 0) return;
    const setBy = groupTraitsSetByAccount(events);
    for (const accountId of accounts) {
      const set = setBy.get(accountId);
      // No group call of this batch for it (a rebuild re-folded it): any trait may differ.
      const changed = set === undefined ? undefined : [...set].filter((key) => read.has(key));
      if (changed?.length === 0) continue;
      for (let afterId: string | undefined; ;) {
        const page = await this.#deps.accountMembers(workspaceId, accountId, { afterId, limit: MEMBER_PAGE });
        for (const id of page) {
          const t = touch(id);
          if (changed === undefined) t.groups = true;
          else for (const key of changed) t.groupTraits.add(key);
        }
        if (page.length < MEMBER_PAGE) break;
        afterId = page.at(-1);
      }
    }
  }

  /**
   * Run once a backfill (or a computed trait's recompute) that began at `sinceMs` wrote its last
   * step, before it says `ready`. Sends the Audience events its steps owe; re-evaluates every
   * profile the profiles stage wrote since `sinceMs` (the backfill computed from state read
   * before those writes, and may have stored it over what this path decided meanwhile); and
   * evaluates the workspace's due profiles, among them those whose changes other segments read
   * (the steps made them due), so dependent segments are right too. Returns how many profiles
   * it evaluated.
   */
  async reevaluateUpdatedSince(workspaceId: string, sinceMs: number): Promise<number> {
    await this.#publisher.settled();
    await this.#publishOwed(sinceMs, workspaceId);
    let count = 0;
    for (let afterId: string | undefined; ;) {
      const page = await this.#deps.state.profilesUpdatedSince(workspaceId, sinceMs, {
        afterId,
        limit: SNAPSHOT_PAGE,
      });
      if (page.length > 0) await this.evaluateDue(workspaceId, page, this.#deps.clock.now());
      count += page.length;
      if (page.length < SNAPSHOT_PAGE) break;
      afterId = page.at(-1);
    }
    const nowMs = this.#deps.clock.now();
    for (let afterId: string | undefined; ;) {
      const page = await this.#deps.state.dueIn(workspaceId, nowMs, { afterId, limit: SNAPSHOT_PAGE });
      if (page.length > 0) await this.evaluateDue(workspaceId, page, nowMs);
      count += page.length;
      if (page.length < SNAPSHOT_PAGE) break;
      afterId = page.at(-1);
    }
    // `ready` follows: by then the events these evaluations decided are in the log.
    await this.#publisher.settled();
    return count;
  }

  /**
   * Consent set outside the pipeline (the consent API) was stored for these profiles: the
   * segments reading `consent.*` are evaluated now, so Audience Entered/Exited follow at once.
   */
  async consentChanged(workspaceId: string, profileIds: readonly string[]): Promise<void> {
    const touches = new Map<string, Touch>(
      profileIds.map((id) => [id, { ...newTouch(false), consent: true }]),
    );
    await this.evaluate(workspaceId, touches, this.#deps.clock.now());
  }

  /** Re-evaluates profiles whose scheduled instant came (the clock moved a window). */
  async evaluateDue(workspaceId: string, profileIds: readonly string[], nowMs: number): Promise<void> {
    const touches = new Map<string, Touch>(profileIds.map((id) => [id, newTouch(true)]));
    await this.evaluate(workspaceId, touches, nowMs);
  }

  async evaluate(workspaceId: string, touches: ReadonlyMap<string, Touch>, nowMs: number): Promise<void> {
    const definitions =
      touches.size === 0 ? NO_DEFINITIONS : await loadDefinitions(this.#deps, workspaceId, this.#parsed);
    await this.#evaluateAll(workspaceId, touches, nowMs, definitions, []);
  }

  /**
   * Evaluates the touched profiles, then writes every outcome (and the removal of `removed`
   * profiles) in one transaction: a pipeline batch costs one commit here, not several per
   * profile. The audience events it owes are queued within the lane (so they go out in the
   * order decided) and appended behind it; only a long queue holds the caller back.
   */
  async #evaluateAll(
    workspaceId: string,
    touches: ReadonlyMap<string, Touch>,
    startedMs: number,
    definitions: Definitions,
    removed: readonly string[],
  ): Promise<void> {
    await this.#inLane(workspaceId, startedMs, async (nowMs) => {
      const owed = await this.#evaluateAndApply(workspaceId, touches, nowMs, definitions, removed);
      this.#publisher.enqueue(workspaceId, owed);
    });
    await this.#publisher.room();
  }

  /** Returns the transitions whose events are owed (written with the outcomes). */
  async #evaluateAndApply(
    workspaceId: string,
    touches: ReadonlyMap<string, Touch>,
    nowMs: number,
    { segments, computed }: Definitions,
    removed: readonly string[],
  ): Promise<AudienceTransition[]> {
    const gone = [...removed];
    const updates: ProfileAudienceUpdate[] = [];
    const owed: AudienceTransition[] = [];
    if (segments.length > 0 || computed.length > 0) {
      const trackEvents = [
        ...new Set([
          ...segments.flatMap((s) => s.dependencies.events),
          ...computed.map((c) => c.compiled.definition.event),
        ]),
      ];
      // Only these events are read with their payload (a filter or a property reads it).
      const payloadEvents = [
        ...new Set([
          ...segments.flatMap((s) => s.filteredEvents),
          ...computed
            .filter(
              ({ compiled }) => compiled.where !== null || (compiled.definition.property ?? null) !== null,
            )
            .map((c) => c.compiled.definition.event),
        ]),
      ];
      const entries = [...touches];
      for (let start = 0; start < entries.length; start += SNAPSHOT_PAGE) {
        const page = entries.slice(start, start + SNAPSHOT_PAGE);
        const snapshots = await this.#deps.segments.loadSnapshots(
          workspaceId,
          page.map(([profileId]) => profileId),
          { trackEvents, payloadEvents },
        );
        for (const [profileId, touch] of page) {
          const snapshot = snapshots.get(profileId);
          if (snapshot === undefined) {
            gone.push(profileId);
            continue;
          }
          // Read before this transaction removes the merged profiles' memberships.
          const inherited = new Set<string>();
          for (const mergedId of touch.mergedFrom ?? [])
            for (const slug of await this.#deps.state.membershipsOf(workspaceId, mergedId))
              inherited.add(slug);
          const update = this.#evaluateProfile(
            profileId,
            snapshot,
            touch,
            segments,
            computed,
            nowMs,
            inherited,
          );
          updates.push(update.state);
          if (update.changes.length > 0)
            owed.push(...transitionsOf(profileId, update.changes, nowMs, snapshot));
        }
      }
    }
    await this.#deps.state.apply(workspaceId, { removed: gone, updates, transitions: owed }, nowMs);
    for (const update of updates) if (update.dueMs !== null) this.#deps.onScheduled?.(update.dueMs);
    return owed;
  }

  #evaluateProfile(
    profileId: string,
    snapshot: ProfileSnapshot,
    touch: Touch,
    segments: readonly CompiledSegment[],
    computed: readonly CompiledComputed[],
    nowMs: number,
    inherited: ReadonlySet<string> = new Set(),
  ): { state: ProfileAudienceUpdate; changes: { member: boolean; segment: Segment }[] } {
    // Computed traits first: segments read them.
    const values: { name: string; value: JsonValue | undefined; nextChangeMs: number | null }[] = [];
    const computedNow: Record<string, JsonValue> = { ...snapshot.computed };
    const changedComputed = new Set<string>();
    let due: number | null = null;
    const earliest = (instant: number | null): void => {
      if (instant !== null && (due === null || instant < due)) due = instant;
    };
    for (const { name, compiled } of computed) {
      const value = computeTraitValue(compiled, snapshot.events, nowMs);
      const next = nextValueChangeAt(compiled, snapshot.events, nowMs);
      earliest(next);
      const before = Object.hasOwn(snapshot.computed, name) ? snapshot.computed[name] : undefined;
      if (
        JSON.stringify(before ?? null) !== JSON.stringify(value ?? null) ||
        (before === undefined) !== (value === undefined)
      ) {
        values.push({ name, value, nextChangeMs: next });
        changedComputed.add(name);
        if (value === undefined) delete computedNow[name];
        else computedNow[name] = value;
      }
    }

    const members = new Set(snapshot.segments);
    const changedSegments = new Set<string>();
    const memberships: { segmentId: string; member: boolean; segment: Segment }[] = [];
    const changes: { member: boolean; segment: Segment }[] = [];
    const current: ProfileSnapshot = { ...snapshot, computed: computedNow, segments: members };
    for (const { segment, ast, dependencies } of segments) {
      const relevant = touchReaches(touch, dependencies, changedComputed, changedSegments);
      if (dependencies.hasRelativeWindow) earliest(nextChangeAt(ast, current, nowMs));
      if (!relevant) continue;
      const member = evaluateSegment(ast, current, nowMs);
      // What downstream was told about this person: the profile's own membership, or that of
      // a profile merged into it (announced under identifiers that are this profile's now).
      // A merge of two members announces nothing; a member merged into a profile that does
      // not qualify announces the exit.
      const announced = members.has(segment.slug) || inherited.has(segment.slug);
      if (member !== announced) changes.push({ member, segment });
      if (member === members.has(segment.slug)) continue;
      if (member) members.add(segment.slug);
      else members.delete(segment.slug);
      changedSegments.add(segment.slug);
      memberships.push({ segmentId: segment.id, member, segment });
    }
    return {
      state: { profileId, memberships, computed: values, dueMs: due },
      changes,
    };
  }

  /**
   * Appends the transitions' events, then forgets them. Run right after they were decided, and
   * for what a crash left behind by `publishPending`: the message ids were fixed when decided,
   * so an event appended twice is stored once.
   */
  async #publish(workspaceId: string, transitions: readonly AudienceTransition[]): Promise<void> {
    if (transitions.length === 0) return;
    const events: AcceptedEvent[] = [];
    const identities = new Map<string, { userId: string | null; anonymousId: string | null }>();
    for (const transition of transitions) {
      let identity = identities.get(transition.profileId);
      if (identity === undefined) {
        identity = await this.#deps.identityOf(workspaceId, transition.profileId);
        identities.set(transition.profileId, identity);
      }
      const event = audienceEvent(workspaceId, transition, identity);
      if (event !== undefined) events.push(event);
    }
    if (events.length > 0) await this.#deps.emit(events);
    await this.#deps.state.transitionsSent(
      workspaceId,
      transitions.map((t) => t.messageId),
    );
  }

  /**
   * Sends the events of transitions decided at least `graceMs` ago and still owed (the process
   * stopped between writing a change and appending its event). Returns how many it sent.
   */
  async publishPending(graceMs = PENDING_GRACE_MS): Promise<number> {
    return this.#publishOwed(this.#deps.clock.now() - graceMs);
  }

  /** Sends what is owed decided at or before `decidedBeforeMs`, a page at a time. */
  async #publishOwed(decidedBeforeMs: number, workspaceId?: string): Promise<number> {
    let sent = 0;
    for (;;) {
      const pending = await this.#deps.state.pendingTransitions(decidedBeforeMs, PENDING_PAGE, workspaceId);
      const byWorkspace = new Map<string, AudienceTransition[]>();
      for (const { workspaceId: ws, ...transition } of pending) {
        const list = byWorkspace.get(ws) ?? [];
        list.push(transition);
        byWorkspace.set(ws, list);
      }
      for (const [ws, list] of byWorkspace) await this.#publish(ws, list);
      sent += pending.length;
      if (pending.length < PENDING_PAGE) return sent;
    }
  }
}
