/**
 * What a destination's definition must be, checked before anything is stored: the shape, the
 * URL (syntax and, for IP literals, the egress policy), the event filter (parsed and validated
 * by the segment language). References to segments and consent categories are checked by the
 * service, which knows the workspace.
 */
import { analyzeEventFilter, type Diagnostic } from '../segment-language/index.ts';
import { isJsonObject, ownField } from '../shared/json.ts';
import { DESTINATION_TYPES, type DestinationType } from './destination-types.ts';
import { checkDestinationUrl } from './egress-policy.ts';

export const MAX_NAME_LENGTH = 200;
export const MAX_SECRET_LENGTH = 512;
/** The receiver chose it: any non-empty secret is taken (a generated one has 192 random bits). */
export const MIN_SECRET_LENGTH = 1;
export const MAX_FILTER_LENGTH = 10_000;
export const MAX_SEGMENTS = 50;

/** A definition as given; absent fields keep their value on an update. */
export interface DestinationDraft {
  readonly type?: DestinationType;
  readonly name?: string;
  readonly url?: string;
  readonly secret?: string;
  readonly sendDeletions?: boolean;
  readonly filter?: string | null;
  readonly segments?: readonly string[];
  readonly consentCategories?: readonly string[];
  readonly enabled?: boolean;
}

export interface DefinitionProblem {
  readonly path: string;
  readonly message: string;
}

export type DraftCheck =
  | { readonly ok: true; readonly draft: DestinationDraft }
  | {
      readonly ok: false;
      readonly problems: readonly DefinitionProblem[];
      readonly filterErrors?: readonly Diagnostic[];
    };

const TOP_FIELDS = new Set(['type', 'name', 'config', 'filter', 'segments', 'consentCategories', 'enabled']);
const CONFIG_FIELDS = new Set(['url', 'secret', 'sendDeletions']);

/**
 * Reads a create (`mode: 'create'`: type, name and config.url required) or update body. Unknown
 * fields are refused rather than ignored: a misspelt `consentCategory` must not silently send
 * data without consent.
 */
export function readDestinationDraft(input: unknown, mode: 'create' | 'update'): DraftCheck {
  if (!isJsonObject(input)) return { ok: false, problems: [{ path: '', message: 'must be a JSON object' }] };
  const problems: DefinitionProblem[] = [];
  const problem = (path: string, message: string): void => void problems.push({ path, message });
  for (const key of Object.keys(input)) if (!TOP_FIELDS.has(key)) problem(key, 'unknown field');
  const draft: { -readonly [K in keyof DestinationDraft]: DestinationDraft[K] } = {};

  const type = ownField(input, 'type');
  if (type !== undefined) {
    if (typeof type === 'string' && (DESTINATION_TYPES as readonly string[]).includes(type))
      draft.type = type as DestinationType;
    else problem('type', `must be one of: ${DESTINATION_TYPES.join(', ')}`);
  } else if (mode === 'create') problem('type', 'is required');

  const name = ownField(input, 'name');
  if (name !== undefined) {
    if (typeof name === 'string' && name.trim() !== '' && name.length <= MAX_NAME_LENGTH)
      draft.name = name.trim();
    else problem('name', `must be a non-empty string of at most ${MAX_NAME_LENGTH} characters`);
  } else if (mode === 'create') problem('name', 'is required');

  readConfig(ownField(input, 'config'), mode, draft, problem);

  const filter = ownField(input, 'filter');
  let filterErrors: Diagnostic[] | undefined;
  if (filter === null || (typeof filter === 'string' && filter.trim() === '')) draft.filter = null;
  else if (typeof filter === 'string') {
    if (filter.length > MAX_FILTER_LENGTH)
      problem('filter', `must be at most ${MAX_FILTER_LENGTH} characters`);
    else {
      const analysis = analyzeEventFilter(filter);
      if (analysis.ok) draft.filter = filter;
      else filterErrors = [...analysis.errors];
    }
  } else if (filter !== undefined)
    problem('filter', 'must be an event filter in the segment language, or null');

  const segments = readNames(ownField(input, 'segments'), 'segments', MAX_SEGMENTS, problem);
  if (segments !== undefined) draft.segments = segments;
  const categories = readNames(ownField(input, 'consentCategories'), 'consentCategories', 50, problem);
  if (categories !== undefined) draft.consentCategories = categories;

  const enabled = ownField(input, 'enabled');
  if (typeof enabled === 'boolean') draft.enabled = enabled;
  else if (enabled !== undefined) problem('enabled', 'must be true or false');

  if (problems.length > 0 || filterErrors !== undefined)
    return { ok: false, problems, ...(filterErrors ? { filterErrors } : {}) };
  return { ok: true, draft };
}

function readConfig(
  config: unknown,
  mode: 'create' | 'update',
  draft: { url?: string; secret?: string; sendDeletions?: boolean },
  problem: (path: string, message: string) => void,
): void {
  if (config === undefined) {
    if (mode === 'create') problem('config', 'is required: {"url","secret"}');
    return;
  }
  if (!isJsonObject(config)) return problem('config', 'must be an object: {"url","secret"}');
  for (const key of Object.keys(config))
    if (!CONFIG_FIELDS.has(key)) problem(`config.${key}`, 'unknown field');
  const url = ownField(config, 'url');
  if (typeof url === 'string') {
    const checked = checkDestinationUrl(url);
    if (checked.ok) draft.url = checked.url.toString();
    else problem('config.url', checked.message);
  } else if (url !== undefined || mode === 'create') problem('config.url', 'is required: an http(s) URL');
  const secret = ownField(config, 'secret');
  if (typeof secret === 'string') {
    if (secret.length >= MIN_SECRET_LENGTH && secret.length <= MAX_SECRET_LENGTH) draft.secret = secret;
    else
      problem(
        'config.secret',
        `must be ${MIN_SECRET_LENGTH} to ${MAX_SECRET_LENGTH} characters (or absent: one is generated)`,
      );
  } else if (secret !== undefined) problem('config.secret', 'must be a string');
  const sendDeletions = ownField(config, 'sendDeletions');
  if (typeof sendDeletions === 'boolean') draft.sendDeletions = sendDeletions;
  else if (sendDeletions !== undefined) problem('config.sendDeletions', 'must be true or false');
}

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$/;

function readNames(
  value: unknown,
  path: string,
  max: number,
  problem: (path: string, message: string) => void,
): string[] | undefined {
  if (value === undefined) return undefined;
  if (value === null) return [];
  if (!Array.isArray(value) || value.length > max) {
    problem(path, `must be a list of at most ${max} names`);
    return undefined;
  }
  const out: string[] = [];
  value.forEach((item: unknown, index) => {
    if (typeof item === 'string' && NAME_PATTERN.test(item)) {
      if (!out.includes(item)) out.push(item);
    } else problem(`${path}.${index}`, 'must be a name (letters, digits, _ . -)');
  });
  return out;
}
