/**
 * Consent per profile: the settings (categories), the values from events (a profile change
 * listener), from the API and from a `Sec-GPC: 1` request, the history, and the `consent` part
 * of the profile view.
 */
import { parseIsoTimestamp } from '../ingestion/timestamps.ts';
import { AppError } from '../errors/app-error.ts';
import type { ProfileViewExtension } from '../profiles/profile.service.ts';
import type { ProfileBatchChange, ProfileChangeListener } from '../profiles/profile-state.port.ts';
import type { Clock } from '../shared/clock.ts';
import { isJsonObject, type JsonObject } from '../shared/json.ts';
import type { WorkspaceSettingsRepository } from '../workspaces/workspaces.port.ts';
import {
  carriesConsent,
  consentOf,
  DEFAULT_CONSENT_SETTINGS,
  SOURCE_PATTERN,
  validateConsentSettings,
  type ConsentSettings,
} from './consent.ts';
import type { ConsentBatch, ConsentRecord, ConsentRepository } from './consent.port.ts';

export const CONSENT_SETTINGS = 'consent';
/** How far in the future an API-given consent time may be (clock skew). */
const FUTURE_TOLERANCE_MS = 5 * 60_000;

export interface ConsentValueView {
  readonly granted: boolean;
  readonly source: string;
  readonly timestamp: string;
}

export interface ConsentHistoryView {
  readonly category: string;
  readonly granted: boolean;
  readonly source: string;
  readonly timestamp: string;
  readonly messageId: string | null;
  readonly actor: string | null;
  readonly recordedAt: string;
  /** For paging. */
  readonly seq: number;
  readonly tsMs: number;
}

export interface ConsentUpdate {
  readonly categoryPreferences: Readonly<Record<string, unknown>>;
  readonly source?: string | undefined;
  readonly timestamp?: string | undefined;
}

const iso = (ms: number): string => new Date(ms).toISOString();

export class ConsentService implements ProfileChangeListener, ProfileViewExtension {
  readonly name = 'consent';
  /** See `onRecorded`. */
  readonly #recorded: ((workspaceId: string, profileId: string) => Promise<void>)[] = [];

  constructor(
    private readonly deps: {
      readonly consent: ConsentRepository;
      readonly settings: WorkspaceSettingsRepository;
      /** The profile a (possibly merged) id resolves to; throws profile.not_found. */
      readonly resolveProfile: (workspaceId: string, id: string) => Promise<string>;
      /** The same, for `get`, whose answer writes nothing (default: `resolveProfile`). */
      readonly resolveProfileForReading?: (workspaceId: string, id: string) => Promise<string>;
      readonly clock: Clock;
    },
  ) {}

  /**
   * Told once values set through the API are stored. Values from events reach the profile
   * change listeners with their batch; these do not, and segments read consent (real-time
   * audiences register here, so Audience Entered/Exited follow the change).
   */
  onRecorded(listener: (workspaceId: string, profileId: string) => Promise<void>): void {
    this.#recorded.push(listener);
  }

  async settings(workspaceId: string): Promise<ConsentSettings> {
    const stored = await this.deps.settings.get(workspaceId, CONSENT_SETTINGS);
    if (stored === undefined) return DEFAULT_CONSENT_SETTINGS;
    const result = validateConsentSettings(stored);
    return result.ok ? result.settings : DEFAULT_CONSENT_SETTINGS;
  }

  async putSettings(workspaceId: string, input: unknown): Promise<ConsentSettings> {
    const result = validateConsentSettings(input);
    if (!result.ok)
      throw new AppError(
        'settings.invalid',
        result.problems.map((p) => (p.path === '' ? p.message : `${p.path}: ${p.message}`)).join('; '),
        { problems: result.problems },
      );
    await this.deps.settings.put(workspaceId, CONSENT_SETTINGS, result.settings, this.deps.clock.now());
    return result.settings;
  }

  /** The profiles stage committed a batch: record what its events say, follow merges and moves. */
  async profilesChanged(change: ProfileBatchChange): Promise<void> {
    const carrying = change.events.filter(carriesConsent);
    const settings = carrying.length > 0 ? await this.settings(change.workspaceId) : undefined;
    const observations: ConsentBatch['observations'][number][] = [];
    for (const event of carrying)
      for (const o of consentOf(event, settings ?? DEFAULT_CONSENT_SETTINGS))
        observations.push({ ...o, profileId: change.profileOf.get(event.seq) ?? null });
    await this.deps.consent.applyBatch(
      change.workspaceId,
      {
        observations,
        mergedProfiles: change.mergedProfiles,
        deletedProfiles: change.deletedProfiles,
        changedProfiles: change.reassignedProfiles,
      },
      change.nowMs,
    );
  }

  async extend(workspaceId: string, profileId: string): Promise<{ consent: JsonObject }> {
    // The stored current values: the history can hold a value per event and category.
    return { consent: Object.fromEntries(await this.deps.consent.currentValues(workspaceId, profileId)) };
  }

  async get(
    workspaceId: string,
    id: string,
  ): Promise<{
    profileId: string;
    categories: readonly string[];
    consent: Record<string, ConsentValueView>;
  }> {
    const resolve = this.deps.resolveProfileForReading ?? this.deps.resolveProfile;
    const profileId = await resolve(workspaceId, id);
    const [settings, current] = await Promise.all([
      this.settings(workspaceId),
      this.deps.consent.current(workspaceId, profileId),
    ]);
    return { profileId, categories: settings.categories, consent: valuesView(current) };
  }

  /**
   * Values set through the API (a preference center, an import): `source` labels where they
   * come from (`api` by default), `timestamp` when the person gave them (default: now). The
   * latest time still wins, so an import of old choices never overrides newer ones.
   */
  async put(
    workspaceId: string,
    id: string,
    update: ConsentUpdate,
    actor: string,
  ): Promise<ReturnType<ConsentService['get']>> {
    const profileId = await this.deps.resolveProfile(workspaceId, id);
    const settings = await this.settings(workspaceId);
    const nowMs = this.deps.clock.now();
    const source = update.source ?? 'api';
    if (!SOURCE_PATTERN.test(source) || source === 'event' || source === 'gpc')
      throw new AppError(
        'consent.invalid',
        'source is a label of lower-case letters, digits and _ . : - (not "event" or "gpc")',
      );
    // As ingestion reads times: strict ISO 8601, a time without an offset is UTC (never the
    // server's zone).
    const tsMs = update.timestamp === undefined ? nowMs : parseIsoTimestamp(update.timestamp);
    if (tsMs === undefined || tsMs > nowMs + FUTURE_TOLERANCE_MS)
      throw new AppError('consent.invalid', 'timestamp must be an ISO 8601 date-time, not in the future');
    const entries: Omit<ConsentRecord, 'seq' | 'eventSeq' | 'atMs' | 'messageId'>[] = [];
    const preferences = update.categoryPreferences;
    if (!isJsonObject(preferences) || Object.keys(preferences).length === 0)
      throw new AppError('consent.invalid', 'categoryPreferences must name at least one category');
    for (const [name, granted] of Object.entries(preferences)) {
      // Names match without regard to case, as in events (consent.ts).
      const category = settings.categories.find((c) => c.toLowerCase() === name.toLowerCase()) ?? name;
      if (!settings.categories.includes(category))
        throw new AppError(
          'consent.unknown_category',
          `"${category.slice(0, 64)}" is not a consent category of this workspace (${settings.categories.join(', ')})`,
        );
      if (typeof granted !== 'boolean')
        throw new AppError('consent.invalid', `categoryPreferences.${category} must be true or false`);
      entries.push({ category, granted, source, tsMs, actor });
    }
    await this.deps.consent.record(workspaceId, profileId, entries, nowMs);
    for (const listener of this.#recorded) await listener(workspaceId, profileId);
    return this.get(workspaceId, profileId);
  }

  async history(
    workspaceId: string,
    id: string,
    query: {
      category?: string | undefined;
      before?: { tsMs: number; seq: number } | undefined;
      limit: number;
    },
  ): Promise<ConsentHistoryView[]> {
    const profileId = await this.deps.resolveProfile(workspaceId, id);
    const rows = await this.deps.consent.history(workspaceId, profileId, query);
    return rows.map(historyView);
  }
}

export function historyView(r: ConsentRecord): ConsentHistoryView {
  return {
    category: r.category,
    granted: r.granted,
    source: r.source,
    timestamp: iso(r.tsMs),
    messageId: r.messageId,
    actor: r.actor,
    recordedAt: iso(r.atMs),
    seq: r.seq,
    tsMs: r.tsMs,
  };
}

function valuesView(current: readonly ConsentRecord[]): Record<string, ConsentValueView> {
  const out: Record<string, ConsentValueView> = {};
  for (const c of current) out[c.category] = { granted: c.granted, source: c.source, timestamp: iso(c.tsMs) };
  return out;
}
