/**
 * Profiles as the API, console and CLI see them: lookups by any identifier, the timeline, the
 * identity graph, trait history, and the admin actions (unlink/unmerge, rebuild from the log).
 * Personal data is masked unless the caller may read it.
 */
import { AppError } from '../errors/app-error.ts';
import { maskString, maskTraits, maskValue, piiPolicy, type PiiPolicy } from '../governance/pii-masking.ts';
import { createBlockedValues } from '../identity/blocked-values.ts';
import {
  isBuiltInIdentifierType,
  storedIdentifierKey,
  type Identifier,
} from '../identity/identifier-types.ts';
import { normalizeIdentifier, normalizeIdentifierPrefix } from '../identity/normalize-identifier.ts';
import type { EventLogRepository } from '../ingestion/event-log.port.ts';
import type { StoredEvent } from '../ingestion/message-types.ts';
import type { Clock } from '../shared/clock.ts';
import { isJsonObject, type JsonObject, type JsonValue } from '../shared/json.ts';
import type { ProfileSettingsService } from './profile-settings.service.ts';
import { ProfileRebuilds } from './profile-rebuild.ts';
import type {
  DecisionView,
  MergeRecordView,
  ProfileListQuery,
  ProfileQueryRepository,
  TimelineQuery,
  TraitHistoryQuery,
  TraitObservationView,
  UnlinkedIdentifierView,
} from './profile-query.port.ts';
import type { ResolveContext } from './profile-resolver.ts';
import { ProfileUnlinks, type RelinkResult, type UnmergeResult } from './profile-unlinks.ts';
import type {
  ProfileChangeListener,
  ProfileKind,
  ProfileStateStore,
  StoredIdentifier,
  StoredProfile,
  OwedProfileChange,
  ProfileRebuildState,
} from './profile-state.port.ts';
import { traitValues } from './trait-values.ts';

export interface ProfileView {
  readonly id: string;
  readonly kind: ProfileKind;
  readonly identities: readonly Identifier[];
  readonly traits: JsonObject;
  /** Where each current trait value came from. */
  readonly traitSources: Readonly<Record<string, { sourceId: string; messageId: string; timestamp: string }>>;
  readonly computed: JsonObject;
  readonly segments: readonly string[];
  readonly consent: JsonObject;
  readonly accounts: readonly string[];
  /** Ids merged into this profile: they resolve here. */
  readonly mergedIds: readonly string[];
  readonly eventCount: number;
  readonly firstSeenAt: string;
  readonly lastSeenAt: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** Extensions (computed traits, segments, consent) contribute their part of the profile view. */
export interface ProfileViewExtension {
  extend(
    workspaceId: string,
    profileId: string,
    /** Who reads: without PII access, personal values are masked (the extension knows which). */
    reader?: { readonly pii: boolean; readonly policy: PiiPolicy },
  ): Promise<Partial<Pick<ProfileView, 'computed' | 'segments' | 'consent'>>>;
}

export interface IdentityGraphView {
  readonly profileId: string;
  readonly identifiers: readonly {
    readonly type: string;
    readonly value: string;
    readonly linkedBy: { seq: number; messageId: string; timestamp: string } | null;
  }[];
  readonly mergedIds: readonly string[];
  readonly merges: readonly (Omit<MergeRecordView, 'event' | 'atMs'> & {
    event: { seq: number; messageId: string; timestamp: string };
    at: string;
  })[];
  readonly decisions: readonly (Omit<DecisionView, 'atMs'> & { at: string })[];
}

export interface ReadOptions {
  /** May the caller see personal data unmasked? */
  readonly pii: boolean;
}

export interface ProfileServiceDeps {
  readonly profiles: ProfileQueryRepository;
  /** The same reads for answers alone (views, lists, lookups); `profiles` when absent. */
  readonly views?: ProfileQueryRepository;
  readonly state: ProfileStateStore;
  readonly settings: ProfileSettingsService;
  readonly events: EventLogRepository;
  readonly clock: Clock;
  readonly extensions?: readonly ProfileViewExtension[];
  /** Told about the profiles an unmerge or a rebuild changed. */
  readonly listener?: ProfileChangeListener;
  /** A background rebuild's failure (it is retried). */
  readonly onRebuildError?: (workspaceId: string, error: unknown) => void;
}

const iso = (ms: number): string => new Date(ms).toISOString();

export class ProfileService {
  readonly #deps: ProfileServiceDeps;
  readonly #extensions: ProfileViewExtension[];
  readonly #rebuilds: ProfileRebuilds;
  readonly #unlinks: ProfileUnlinks;

  constructor(deps: ProfileServiceDeps) {
    this.#deps = deps;
    this.#unlinks = new ProfileUnlinks({
      state: deps.state,
      clock: deps.clock,
      listener: deps.listener,
      deliver: (workspaceId, id, change) => this.#deliverOwed(workspaceId, id, change),
    });
    this.#rebuilds = new ProfileRebuilds({
      state: deps.state,
      settings: deps.settings,
      events: deps.events,
      clock: deps.clock,
      listener: deps.listener,
      onError: deps.onRebuildError,
    });
    this.#extensions = [...(deps.extensions ?? [])];
  }

  /**
   * Where the answers to reads come from: `views` when given (on SQLite they need not wait for a
   * pipeline batch: storage/kysely/read-routing.ts). What an action resolves before it writes
   * (an unmerge, consent set through the API) is read by `resolve`, on `profiles`.
   */
  get #views(): ProfileQueryRepository {
    return this.#deps.views ?? this.#deps.profiles;
  }

  async #resolveOn(repository: ProfileQueryRepository, workspaceId: string, id: string): Promise<string> {
    const resolved = await repository.resolve(workspaceId, id);
    if (resolved === undefined) throw new AppError('profile.not_found', `no profile "${id.slice(0, 64)}"`);
    return resolved;
  }

  #resolveView(workspaceId: string, id: string): Promise<string> {
    return this.#resolveOn(this.#views, workspaceId, id);
  }

  /** Later modules (segments, consent) add their parts of the view. */
  addExtension(extension: ProfileViewExtension): void {
    this.#extensions.push(extension);
  }

  async normalize(workspaceId: string, type: string, value: string): Promise<Identifier> {
    const settings = await this.#deps.settings.identityForReads(workspaceId);
    if (!isBuiltInIdentifierType(type) && !settings.customTypes.includes(type))
      throw new AppError(
        'profile.invalid_identifier',
        `unknown identifier type "${type.slice(0, 64)}" (built-in: user_id, anonymous_id, email, phone; custom: ${settings.customTypes.join(', ') || 'none declared'})`,
      );
    const result = normalizeIdentifier(type, value, { settings, blocked: createBlockedValues(settings) });
    if (!result.ok)
      throw new AppError(
        'profile.invalid_identifier',
        `the ${type} value cannot be used as an identifier (${result.reason})`,
        {
          reason: result.reason,
        },
      );
    return result.identifier;
  }

  async lookup(workspaceId: string, type: string, value: string, options: ReadOptions): Promise<ProfileView> {
    return this.get(workspaceId, await this.ownerOf(workspaceId, type, value), options);
  }

  /** The id of the profile holding an identifier; 404 if none does. */
  async ownerOf(workspaceId: string, type: string, value: string): Promise<string> {
    const identifier = await this.normalize(workspaceId, type, value);
    const owner = await this.#views.ownerOf(workspaceId, storedIdentifierKey(identifier));
    if (owner === undefined) throw new AppError('profile.not_found', `no profile has this ${type}`);
    return owner;
  }

  /** Whether identifiers of this type are personal data in the workspace (e-mail, phone…). */
  async isPersonalIdentifierType(workspaceId: string, type: string): Promise<boolean> {
    return (await this.#policy(workspaceId)).isPiiIdentifierType(type);
  }

  /**
   * As `resolve`, for an answer that writes nothing (on SQLite it need not wait for a pipeline
   * batch; the batch under way may still move the profile).
   */
  resolveForReading(workspaceId: string, id: string): Promise<string> {
    return this.#resolveView(workspaceId, id);
  }

  /** The id a (possibly merged) profile id resolves to; 404 if it never existed. */
  async resolve(workspaceId: string, id: string): Promise<string> {
    return this.#resolveOn(this.#deps.profiles, workspaceId, id);
  }

  async get(workspaceId: string, id: string, options: ReadOptions): Promise<ProfileView> {
    const profile = await this.#views.resolved(workspaceId, id);
    if (profile === undefined) throw new AppError('profile.not_found', `no profile "${id.slice(0, 64)}"`);
    return this.#view(workspaceId, profile, options);
  }

  async list(workspaceId: string, query: ProfileListQuery, options: ReadOptions): Promise<ProfileView[]> {
    // Searching by personal values answers whether someone with that e-mail exists, even
    // with the results masked (a prefix search spells the address out letter by letter).
    if (!options.pii) {
      const policy = await this.#policy(workspaceId);
      const type = query.identifierType;
      if (
        (query.identifierPrefix !== undefined && type !== undefined && policy.isPiiIdentifierType(type)) ||
        (query.traitEquals ?? []).some(([name]) => policy.isPiiTrait(name))
      )
        throw new AppError('auth.forbidden', 'searching by personal data needs PII access');
      query = { ...query, personalIdentifiers: false };
    }
    const prefix = query.identifierPrefix;
    if (prefix !== undefined && (query.identifierType ?? 'email') === 'email') {
      // Stored e-mails are normalized, as a lookup's value is: a prefix typed as sent must match.
      const settings = await this.#deps.settings.identityForReads(workspaceId);
      query = {
        ...query,
        identifierPrefixByType: { email: normalizeIdentifierPrefix('email', prefix, settings) },
      };
    }
    const rows = await this.#views.list(workspaceId, query);
    return Promise.all(rows.map((row) => this.#view(workspaceId, row, options)));
  }

  async timeline(
    workspaceId: string,
    id: string,
    query: Omit<TimelineQuery, 'profileId'>,
    options: ReadOptions,
  ): Promise<StoredEvent[]> {
    const profileId = await this.#resolveView(workspaceId, id);
    const events = await this.#views.timeline(workspaceId, { ...query, profileId });
    if (options.pii) return events;
    const policy = await this.#policy(workspaceId);
    return events.map((event) => ({ ...event, message: maskMessage(event.message, policy) }));
  }

  async graph(workspaceId: string, id: string, options: ReadOptions): Promise<IdentityGraphView> {
    const profileId = await this.#resolveView(workspaceId, id);
    const policy = await this.#policy(workspaceId);
    const [identifiers, mergedIds, merges, decisions] = await Promise.all([
      this.#views.identifiers(workspaceId, profileId),
      this.#views.mergedIds(workspaceId, profileId),
      this.#views.merges(workspaceId, profileId),
      this.#views.decisions(workspaceId, profileId, 200),
    ]);
    const show = (type: string, value: string): string =>
      options.pii || !policy.isPiiIdentifierType(type) ? value : maskString(value);
    return {
      profileId,
      identifiers: identifiers.map((i) => ({
        type: i.type,
        value: show(i.type, i.value),
        linkedBy:
          i.linkedBy === null
            ? null
            : {
                seq: i.linkedBy.seq,
                messageId: i.linkedBy.messageId,
                timestamp: iso(i.linkedBy.timestampMs),
              },
      })),
      mergedIds,
      merges: merges.map((m) => ({
        survivorId: m.survivorId,
        mergedId: m.mergedId,
        event: { seq: m.event.seq, messageId: m.event.messageId, timestamp: iso(m.event.timestampMs) },
        at: iso(m.atMs),
      })),
      decisions: decisions.map(({ atMs, ...d }) => ({ ...d, value: show(d.type, d.value), at: iso(atMs) })),
    };
  }

  async traitHistory(
    workspaceId: string,
    id: string,
    query: TraitHistoryQuery,
    options: ReadOptions,
  ): Promise<TraitObservationView[]> {
    const profileId = await this.#resolveView(workspaceId, id);
    const rows = await this.#views.traitHistory(workspaceId, profileId, query);
    if (options.pii) return rows;
    const policy = await this.#policy(workspaceId);
    return rows.map((row) => (policy.isPiiTrait(row.trait) ? { ...row, value: maskValue(row.value) } : row));
  }

  async members(workspaceId: string, accountId: string, limit: number, afterId?: string) {
    const resolved = await this.#resolveView(workspaceId, accountId);
    return this.#views.membersOf(workspaceId, resolved, limit, afterId);
  }

  async quality(workspaceId: string) {
    return this.#views.decisionCounts(workspaceId);
  }

  async count(workspaceId: string, kind: ProfileKind = 'person'): Promise<number> {
    return this.#views.count(workspaceId, kind);
  }

  /** Unmerge: see ProfileUnlinks.unlink. */
  async unlink(
    workspaceId: string,
    id: string,
    raw: { type: string; value: string },
    actor: string,
  ): Promise<UnmergeResult> {
    const identifier = await this.normalize(workspaceId, raw.type, raw.value);
    const profileId = await this.resolve(workspaceId, id);
    return this.#unlinks.unlink(workspaceId, profileId, identifier, actor, await this.#context(workspaceId));
  }

  /** Undoes an unlink (see ProfileUnlinks.relink); the HTTP layer audits it. */
  async relink(workspaceId: string, raw: { type: string; value: string }): Promise<RelinkResult> {
    const identifier = await this.normalize(workspaceId, raw.type, raw.value);
    return this.#unlinks.relink(workspaceId, identifier, await this.#context(workspaceId));
  }

  /** The workspace's unlinked identifiers (personal values masked without PII access). */
  async unlinked(
    workspaceId: string,
    limit: number,
    afterKey: string | undefined,
    options: ReadOptions,
  ): Promise<UnlinkedIdentifierView[]> {
    const rows = await this.#views.unlinked(workspaceId, limit, afterKey);
    if (options.pii) return rows;
    const policy = await this.#policy(workspaceId);
    return rows.map((row) =>
      policy.isPiiIdentifierType(row.type) ? { ...row, value: maskString(row.value) } : row,
    );
  }

  /**
   * Starts replaying the workspace's log from zero into fresh profile state (or starts it over),
   * in the background: the result is the same as the incremental pipeline's (the property tests
   * prove it), so this repairs or re-applies changed identity settings. profile-rebuild.ts.
   */
  async startRebuild(workspaceId: string): Promise<ProfileRebuildState> {
    const state = await this.#rebuilds.start(workspaceId);
    this.#rebuilds.background(workspaceId);
    return state;
  }

  /** The workspace's latest rebuild; 404 if none ever ran. */
  async rebuildProgress(workspaceId: string): Promise<ProfileRebuildState> {
    const state = await this.#rebuilds.progress(workspaceId);
    if (state === undefined)
      throw new AppError('profile.rebuild_not_found', "no rebuild of this workspace's profiles has run");
    return state;
  }

  /** Starts a rebuild and runs it to its end in the caller (the CLI, with a progress bar). */
  async rebuild(
    workspaceId: string,
    onProgress?: (done: number, total: number) => void,
  ): Promise<{ events: number; profiles: number }> {
    await this.#rebuilds.start(workspaceId);
    const state = await this.#rebuilds.run(workspaceId, (s) =>
      onProgress?.(s.done, Math.max(s.total, s.done)),
    );
    if (state?.status !== 'done') throw new AppError('internal.error', 'the rebuild stopped before its end');
    return { events: state.done, profiles: await this.count(workspaceId) };
  }

  /**
   * Rebuilds a previous process left unfinished continue in the background, and the listeners
   * get the changes of admin actions a previous process made but did not pass on.
   */
  async resumeUnfinished(): Promise<void> {
    for (;;) {
      const owed = await this.#deps.state.owedChanges(100);
      for (const { workspaceId, id, change } of owed) await this.#deliverOwed(workspaceId, id, change);
      if (owed.length < 100) break;
    }
    await this.#rebuilds.resumeUnfinished();
  }

  /** A rebuild the profiles stage met, under way but maybe not running (see ProfileRebuilds). */
  continueRebuild(workspaceId: string): void {
    this.#rebuilds.ensureRunning(workspaceId);
  }

  async #deliverOwed(workspaceId: string, id: string, change: OwedProfileChange): Promise<void> {
    const listener = this.#deps.listener;
    if (listener === undefined) return;
    await listener.profilesChanged({ workspaceId, events: [], profileOf: new Map(), ...change });
    await this.#deps.state.settleChange(workspaceId, id);
  }

  /** Stops background rebuilds at the end of their current step (they resume at the next start). */
  close(): Promise<void> {
    return this.#rebuilds.close();
  }

  async #context(workspaceId: string): Promise<Omit<ResolveContext, 'unlinked'>> {
    const identity = await this.#deps.settings.identity(workspaceId);
    return {
      identity,
      blocked: createBlockedValues(identity),
      profiles: await this.#deps.settings.profiles(workspaceId),
      nowMs: this.#deps.clock.now(),
    };
  }

  async #policy(workspaceId: string): Promise<PiiPolicy> {
    const privacy = await this.#deps.settings.privacyForReads(workspaceId);
    return piiPolicy(privacy.piiTraits);
  }

  async #view(workspaceId: string, profile: StoredProfile, options: ReadOptions): Promise<ProfileView> {
    const [identifiers, mergedIds, accounts, policy] = await Promise.all([
      this.#views.identifiers(workspaceId, profile.id),
      this.#views.mergedIds(workspaceId, profile.id),
      profile.kind === 'person' ? this.#views.accountsOf(workspaceId, profile.id) : Promise.resolve([]),
      this.#policy(workspaceId),
    ]);
    const reader = { pii: options.pii, policy };
    const parts = await Promise.all(this.#extensions.map((e) => e.extend(workspaceId, profile.id, reader)));
    const traits = traitValues(profile.traits);
    const traitSources: Record<string, { sourceId: string; messageId: string; timestamp: string }> = {};
    for (const name of Object.keys(profile.traits)) {
      const value = profile.traits[name];
      if (value !== undefined)
        Object.defineProperty(traitSources, name, {
          value: { sourceId: value.sourceId, messageId: value.messageId, timestamp: iso(value.tsMs) },
          enumerable: true,
          writable: true,
          configurable: true,
        });
    }
    return {
      id: profile.id,
      kind: profile.kind,
      identities: identifiers.map((i: StoredIdentifier) => ({
        type: i.type,
        value: options.pii || !policy.isPiiIdentifierType(i.type) ? i.value : maskString(i.value),
      })),
      traits: options.pii ? traits : maskTraits(traits, policy),
      traitSources,
      computed: Object.assign({}, ...parts.map((p) => p.computed ?? {})) as JsonObject,
      segments: parts.flatMap((p) => p.segments ?? []),
      consent: Object.assign({}, ...parts.map((p) => p.consent ?? {})) as JsonObject,
      accounts: accounts.map((a) => a.accountId),
      mergedIds,
      eventCount: profile.eventCount,
      firstSeenAt: iso(profile.firstSeenMs),
      lastSeenAt: iso(profile.lastSeenMs),
      createdAt: iso(profile.firstSeenMs),
      updatedAt: iso(profile.updatedMs),
    };
  }
}

/** Timeline events for someone without PII access: traits and the IP masked. */
function maskMessage(message: JsonObject, policy: PiiPolicy): JsonObject {
  const out: JsonObject = { ...message };
  const traits = Object.hasOwn(message, 'traits') ? message['traits'] : undefined;
  if (isJsonObject(traits)) out['traits'] = maskTraits(traits, policy);
  const context = Object.hasOwn(message, 'context') ? message['context'] : undefined;
  if (isJsonObject(context)) {
    const masked: JsonObject = { ...context };
    const contextTraits = Object.hasOwn(context, 'traits') ? context['traits'] : undefined;
    if (isJsonObject(contextTraits)) masked['traits'] = maskTraits(contextTraits, policy);
    if (typeof context['ip'] === 'string') masked['ip'] = maskString(context['ip']);
    out['context'] = masked;
  }
  const properties = Object.hasOwn(message, 'properties') ? message['properties'] : undefined;
  if (isJsonObject(properties)) out['properties'] = maskTraits(properties, policy);
  return out satisfies Record<string, JsonValue>;
}
