import {
  type ComputedValueType,
  createDid,
  parseEventFilter,
  validateDefinition,
  type Expression,
  type PathNode,
} from '../segment-language/index.ts';

/**
 * A computed trait is one aggregate over a profile's track events of one name, optionally
 * filtered (`where`, the language of `did … where (…)`) and over a sliding window of days. Its
 * value is `computed.<name>` on profiles and in segment definitions.
 */
export const COMPUTED_TRAIT_KINDS = [
  'event_count',
  'sum',
  'average',
  'min',
  'max',
  'first_value',
  'last_value',
  'first_time',
  'last_time',
  'most_frequent',
  'distinct_values',
  'distinct_count',
  'days_since',
] as const;
export type ComputedTraitKind = (typeof COMPUTED_TRAIT_KINDS)[number];

/** Kinds that aggregate a property's values: `property` is required for them, refused otherwise. */
export const PROPERTY_KINDS: ReadonlySet<ComputedTraitKind> = new Set([
  'sum',
  'average',
  'min',
  'max',
  'first_value',
  'last_value',
  'most_frequent',
  'distinct_values',
  'distinct_count',
]);

/** What a kind's value is (compute-trait.ts), so that segments can refuse comparisons that never match. */
export function computedValueType(kind: ComputedTraitKind): ComputedValueType {
  switch (kind) {
    case 'event_count':
    case 'sum':
    case 'average':
    case 'min':
    case 'max':
    case 'distinct_count':
    case 'days_since':
      return 'number';
    case 'first_time':
    case 'last_time':
      return 'date';
    case 'distinct_values':
      return 'list';
    case 'first_value':
    case 'last_value':
    case 'most_frequent':
      return 'any';
  }
}

/** The JSON format, as stored and as the API takes it. */
export interface ComputedTraitDefinition {
  readonly kind: ComputedTraitKind;
  /** Track event name (case-sensitive). */
  readonly event: string;
  /** Condition on the event: `properties.currency = "EUR"`. */
  readonly where?: string | null;
  /** Path of the aggregated value: `properties.revenue`, `context.page.path`. */
  readonly property?: string | null;
  /** Sliding window `in last N days`; absent or null: all time. */
  readonly window?: { readonly days: number } | null;
}

/** A definition checked and parsed, ready to compute. */
export interface CompiledComputedTrait {
  readonly definition: ComputedTraitDefinition;
  readonly where: Expression | null;
  readonly property: PathNode | null;
  readonly windowDays: number | null;
}

export interface DefinitionProblem {
  /** Which field: `name`, `kind`, `event`, `where`, `property`, `window`. */
  readonly field: string;
  readonly message: string;
  readonly line?: number | null;
  readonly column?: number | null;
}

export type DefinitionCheck =
  | { readonly ok: true; readonly compiled: CompiledComputedTrait }
  | { readonly ok: false; readonly problems: readonly DefinitionProblem[] };

export const COMPUTED_TRAIT_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
export const MAX_WINDOW_DAYS = 3660;
const MAX_EVENT_NAME = 200;
const PATH_HINT = 'property is one path, such as properties.revenue or properties."first name"';

/**
 * Names that would be a key of every object rather than data in one: values are handed to
 * clients and evaluators as `computed` objects, where `__proto__` would vanish into the prototype.
 */
const RESERVED_NAMES = new Set(['__proto__']);

export function checkComputedTraitName(name: unknown): DefinitionProblem[] {
  if (typeof name === 'string' && RESERVED_NAMES.has(name))
    return [{ field: 'name', message: `"${name}" is reserved; choose another computed trait name` }];
  return typeof name === 'string' && COMPUTED_TRAIT_NAME_PATTERN.test(name)
    ? []
    : [
        {
          field: 'name',
          message:
            'a computed trait name is 1–64 letters, digits or underscores, not starting with a digit (it is read as computed.<name>)',
        },
      ];
}

/** Validates untrusted JSON; returns every problem found, or the compiled definition. */
export function checkComputedTraitDefinition(input: unknown): DefinitionCheck {
  const problems: DefinitionProblem[] = [];
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, problems: [{ field: 'definition', message: 'the definition is a JSON object' }] };
  }
  const raw = input as Record<string, unknown>;
  const allowed = new Set(['kind', 'event', 'where', 'property', 'window']);
  for (const key of Object.keys(raw)) {
    if (!allowed.has(key)) problems.push({ field: key, message: `unknown field "${key}"` });
  }
  const kind = raw['kind'];
  if (typeof kind !== 'string' || !(COMPUTED_TRAIT_KINDS as readonly string[]).includes(kind)) {
    problems.push({ field: 'kind', message: `kind is one of ${COMPUTED_TRAIT_KINDS.join(', ')}` });
  }
  const event = raw['event'];
  if (typeof event !== 'string' || event.length === 0 || event.length > MAX_EVENT_NAME) {
    problems.push({
      field: 'event',
      message: `event is the track event name (1–${MAX_EVENT_NAME} characters)`,
    });
  }
  const where = checkWhere(raw['where'], problems);
  const property = checkProperty(kind, raw['property'], problems);
  const windowDays = checkWindow(raw['window'], problems);
  if (problems.length > 0) return { ok: false, problems };
  const definition: ComputedTraitDefinition = {
    kind: kind as ComputedTraitKind,
    event: event as string,
    where: typeof raw['where'] === 'string' ? raw['where'] : null,
    property: typeof raw['property'] === 'string' ? raw['property'] : null,
    window: windowDays === null ? null : { days: windowDays },
  };
  return { ok: true, compiled: Object.freeze({ definition, where, property, windowDays }) };
}

function checkWhere(value: unknown, problems: DefinitionProblem[]): Expression | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') {
    problems.push({ field: 'where', message: 'where is a condition on the event, as text' });
    return null;
  }
  return parseEventCondition('where', value, problems);
}

function checkProperty(kind: unknown, value: unknown, problems: DefinitionProblem[]): PathNode | null {
  const needsProperty = PROPERTY_KINDS.has(kind as ComputedTraitKind);
  if (value === undefined || value === null) {
    if (needsProperty)
      problems.push({
        field: 'property',
        message: `${String(kind)} needs a property, such as properties.revenue`,
      });
    return null;
  }
  if (!needsProperty) {
    problems.push({ field: 'property', message: `${String(kind)} takes no property` });
    return null;
  }
  if (typeof value !== 'string') {
    problems.push({ field: 'property', message: 'property is a path, such as properties.revenue' });
    return null;
  }
  // A path is read with the language's own lexer: `properties."first name"` and friends.
  const condition = parseEventCondition('property', `${value} exists`, problems, PATH_HINT);
  if (condition === null) return null;
  if (condition.kind !== 'exists') {
    problems.push({ field: 'property', message: PATH_HINT });
    return null;
  }
  return condition.path;
}

function checkWindow(value: unknown, problems: DefinitionProblem[]): number | null {
  if (value === undefined || value === null) return null;
  const days =
    typeof value === 'object' && !Array.isArray(value) ? (value as { days?: unknown }).days : undefined;
  const keys = typeof value === 'object' ? Object.keys(value) : [];
  if (
    typeof days !== 'number' ||
    !Number.isInteger(days) ||
    days < 1 ||
    days > MAX_WINDOW_DAYS ||
    keys.some((key) => key !== 'days')
  ) {
    problems.push({
      field: 'window',
      message: `window is {"days": N} with N a whole number from 1 to ${MAX_WINDOW_DAYS}, or null for all time`,
    });
    return null;
  }
  return days;
}

/**
 * Parses a condition on one event and validates it where `did … where (…)` would, so it reads
 * `properties.*` and `context.*` only and gets the same messages, with line and column.
 */
function parseEventCondition(
  field: string,
  text: string,
  problems: DefinitionProblem[],
  syntaxHint?: string,
): Expression | null {
  const parsed = parseEventFilter(text);
  if (!parsed.ok) {
    const { message, line, column } = parsed.error;
    const detail = syntaxHint === undefined ? message : `line ${line}, column ${column}: ${syntaxHint}`;
    problems.push({ field, message: detail, line, column });
    return null;
  }
  const found = validateDefinition(createDid('event', { where: parsed.ast }), { spans: parsed.spans }).filter(
    (problem) => problem.severity === 'error',
  );
  for (const { message, line, column } of found) problems.push({ field, message, line, column });
  return found.length === 0 ? parsed.ast : null;
}
