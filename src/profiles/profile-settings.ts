/**
 * Per-workspace profile settings: which source wins a trait. By default the latest `timestamp`
 * wins; a priority list (per trait, or `*` for all) makes a source win over later values from
 * sources ranked below it, e.g. the CRM beats the website for `name`.
 */
export interface ProfileSettingsInput {
  /** Trait name (or `*`) → source ids, highest priority first. */
  readonly sourcePriority?: Readonly<Record<string, readonly string[]>>;
}

export interface ProfileSettings {
  readonly sourcePriority: Readonly<Record<string, readonly string[]>>;
}

export interface ProfileSettingsProblem {
  readonly path: string;
  readonly message: string;
}

export const DEFAULT_PROFILE_SETTINGS: ProfileSettings = Object.freeze({ sourcePriority: {} });

const MAX_PRIORITY_TRAITS = 200;
const MAX_SOURCES_PER_TRAIT = 50;

export function validateProfileSettings(
  input: unknown,
): { ok: true; settings: ProfileSettings } | { ok: false; problems: ProfileSettingsProblem[] } {
  const problems: ProfileSettingsProblem[] = [];
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    return { ok: false, problems: [{ path: '', message: 'must be an object' }] };
  const known = new Set(['sourcePriority']);
  for (const key of Object.keys(input))
    if (!known.has(key)) problems.push({ path: key, message: 'unknown setting' });
  const raw = (input as { sourcePriority?: unknown }).sourcePriority;
  const sourcePriority: Record<string, readonly string[]> = Object.create(null) as Record<string, string[]>;
  if (raw !== undefined) {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      problems.push({ path: 'sourcePriority', message: 'must be an object of trait name → source ids' });
    } else {
      const entries = Object.entries(raw);
      if (entries.length > MAX_PRIORITY_TRAITS)
        problems.push({ path: 'sourcePriority', message: `at most ${MAX_PRIORITY_TRAITS} traits` });
      for (const [trait, sources] of entries.slice(0, MAX_PRIORITY_TRAITS)) {
        const path = `sourcePriority.${trait}`;
        if (
          !Array.isArray(sources) ||
          sources.length > MAX_SOURCES_PER_TRAIT ||
          !sources.every((s) => typeof s === 'string' && s.length > 0 && s.length <= 128)
        ) {
          problems.push({ path, message: `must be a list of at most ${MAX_SOURCES_PER_TRAIT} source ids` });
          continue;
        }
        sourcePriority[trait] = [...(sources as string[])];
      }
    }
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, settings: { sourcePriority } };
}

/** Lower is stronger; sources not listed share the weakest rank, so time decides among them. */
export function sourceRank(settings: ProfileSettings, trait: string, sourceId: string): number {
  const list = Object.hasOwn(settings.sourcePriority, trait)
    ? settings.sourcePriority[trait]
    : Object.hasOwn(settings.sourcePriority, '*')
      ? settings.sourcePriority['*']
      : undefined;
  if (list === undefined) return 0;
  const index = list.indexOf(sourceId);
  return index === -1 ? list.length : index;
}
