import { AppError } from '../errors/app-error.ts';
import { RefreshingCache } from '../shared/refreshing-cache.ts';
import {
  identitySettings,
  validateIdentitySettings,
  type IdentitySettings,
  type IdentitySettingsInput,
} from '../identity/identity-settings.ts';
import type { WorkspaceSettingsRepository } from '../workspaces/workspaces.port.ts';
import {
  DEFAULT_PROFILE_SETTINGS,
  validateProfileSettings,
  type ProfileSettings,
} from './profile-settings.ts';

export const IDENTITY_SETTINGS = 'identity';
export const PROFILE_SETTINGS = 'profiles';
export const PRIVACY_SETTINGS = 'privacy';

export interface PrivacySettings {
  /** Traits the workspace classifies as personal data, besides the defaults (pii-masking.ts). */
  readonly piiTraits: readonly string[];
}

const MAX_PII_TRAITS = 500;

/**
 * How long a read path (a profile lookup, masking a view) trusts its copy of a workspace's
 * identity and privacy settings when another process may have changed them; a change made
 * through this process shows at once. The same window as the sealing's PII policy (pii-sealing.ts).
 */
const READ_FRESH_MS = 2_000;
const READ_MAX_STALE_MS = 60_000;

/** Reads and validates the identity and profile settings of a workspace. */
export class ProfileSettingsService {
  readonly #identityReads: RefreshingCache<IdentitySettings>;
  readonly #privacyReads: RefreshingCache<PrivacySettings>;

  constructor(
    private readonly repository: WorkspaceSettingsRepository,
    now: () => number = Date.now,
  ) {
    const options = { freshMs: READ_FRESH_MS, maxStaleMs: READ_MAX_STALE_MS, maxEntries: 10_000, now };
    this.#identityReads = new RefreshingCache(options);
    this.#privacyReads = new RefreshingCache(options);
  }

  /**
   * For reads that answer a request (two statements and a validation per lookup otherwise);
   * never for processing events, whose settings must be the stored ones.
   */
  identityForReads(workspaceId: string): Promise<IdentitySettings> {
    return this.#identityReads.get(workspaceId, () => this.identity(workspaceId));
  }

  privacyForReads(workspaceId: string): Promise<PrivacySettings> {
    return this.#privacyReads.get(workspaceId, () => this.privacy(workspaceId));
  }

  async identityInput(workspaceId: string): Promise<IdentitySettingsInput> {
    return (await this.repository.get(workspaceId, IDENTITY_SETTINGS)) ?? {};
  }

  async identity(workspaceId: string): Promise<IdentitySettings> {
    // Stored settings were validated when saved; defaults fill what is missing.
    return identitySettings(await this.identityInput(workspaceId));
  }

  async profiles(workspaceId: string): Promise<ProfileSettings> {
    const stored = await this.repository.get(workspaceId, PROFILE_SETTINGS);
    if (stored === undefined) return DEFAULT_PROFILE_SETTINGS;
    const result = validateProfileSettings(stored);
    return result.ok ? result.settings : DEFAULT_PROFILE_SETTINGS;
  }

  async privacy(workspaceId: string): Promise<PrivacySettings> {
    const stored = (await this.repository.get(workspaceId, PRIVACY_SETTINGS)) as
      Partial<PrivacySettings> | undefined;
    return { piiTraits: Array.isArray(stored?.piiTraits) ? stored.piiTraits : [] };
  }

  async putPrivacy(workspaceId: string, input: unknown, nowMs: number): Promise<PrivacySettings> {
    const traits = (input as { piiTraits?: unknown } | null)?.piiTraits;
    if (
      typeof input !== 'object' ||
      input === null ||
      !Array.isArray(traits) ||
      traits.length > MAX_PII_TRAITS ||
      !traits.every((t) => typeof t === 'string' && t.length > 0 && t.length <= 256)
    )
      throw new AppError(
        'settings.invalid',
        `piiTraits must be a list of at most ${MAX_PII_TRAITS} trait names`,
      );
    const settings: PrivacySettings = { piiTraits: traits as string[] };
    await this.repository.put(workspaceId, PRIVACY_SETTINGS, settings, nowMs);
    this.#privacyReads.delete(workspaceId);
    return settings;
  }

  async putIdentity(workspaceId: string, input: unknown, nowMs: number): Promise<IdentitySettingsInput> {
    if (typeof input !== 'object' || input === null || Array.isArray(input))
      throw new AppError('settings.invalid', 'identity settings must be an object');
    const result = validateIdentitySettings(input);
    if (!result.ok) throw invalid(result.problems);
    await this.repository.put(workspaceId, IDENTITY_SETTINGS, input, nowMs);
    this.#identityReads.delete(workspaceId);
    return input;
  }

  async putProfiles(workspaceId: string, input: unknown, nowMs: number): Promise<ProfileSettings> {
    const result = validateProfileSettings(input);
    if (!result.ok) throw invalid(result.problems);
    await this.repository.put(workspaceId, PROFILE_SETTINGS, result.settings, nowMs);
    return result.settings;
  }
}

function invalid(problems: readonly { path: string; message: string }[]): AppError {
  const message = problems.map((p) => (p.path === '' ? p.message : `${p.path}: ${p.message}`)).join('; ');
  return new AppError('settings.invalid', message, { problems });
}
