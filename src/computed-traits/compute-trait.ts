import { eventMatchesWhere, eventPathValue } from '../segments/event-conditions.ts';
import type { JsonValue, SnapshotEvent } from '../segments/profile-snapshot.ts';
import type { CompiledComputedTrait } from './computed-trait-definition.ts';

const DAY_MS = 86_400_000;
/** distinct_values keeps the first this many distinct values (distinct_count counts them all). */
export const MAX_DISTINCT_VALUES = 100;
/** nextValueChangeAt tries at most this many instants, then answers the next one (conservative). */
const MAX_CANDIDATES = 1000;

/**
 * The value of a computed trait for one profile at `nowMs`, from its timeline; undefined when it
 * has none (no value is stored, and `computed.<name>` is missing). Pure and order-independent:
 * events are taken in (timestamp, seq) order whatever order they come in. See README.md for the
 * meaning of each kind.
 */
export function computeTraitValue(
  trait: CompiledComputedTrait,
  events: readonly SnapshotEvent[],
  nowMs: number,
): JsonValue | undefined {
  const matching = matchingEvents(trait, events, nowMs);
  const kind = trait.definition.kind;
  switch (kind) {
    case 'event_count':
      return matching.length;
    case 'first_time':
    case 'last_time': {
      const event = kind === 'first_time' ? matching[0] : matching.at(-1);
      return event === undefined ? undefined : new Date(event.timestampMs).toISOString();
    }
    case 'days_since': {
      const last = matching.at(-1);
      return last === undefined ? undefined : Math.max(0, Math.floor((nowMs - last.timestampMs) / DAY_MS));
    }
    case 'sum':
    case 'average':
    case 'min':
    case 'max':
    case 'first_value':
    case 'last_value':
    case 'most_frequent':
    case 'distinct_values':
    case 'distinct_count':
      return aggregateValues(kind, valuesOf(trait, matching));
  }
}

/**
 * The first instant after `nowMs` at which the value changes with no new event: an event leaving
 * the window (at `ts + days + 1 ms`) or, for `days_since`, the next whole day; null when never.
 */
export function nextValueChangeAt(
  trait: CompiledComputedTrait,
  events: readonly SnapshotEvent[],
  nowMs: number,
): number | null {
  const matching = matchingEvents(trait, events, nowMs);
  const candidates = new Set<number>();
  if (trait.windowDays !== null) {
    for (const event of matching) candidates.add(event.timestampMs + trait.windowDays * DAY_MS + 1);
  }
  const last = matching.at(-1);
  if (trait.definition.kind === 'days_since' && last !== undefined) {
    const elapsedDays = Math.max(0, Math.floor((nowMs - last.timestampMs) / DAY_MS));
    candidates.add(last.timestampMs + (elapsedDays + 1) * DAY_MS);
  }
  const sorted = [...candidates].filter((instant) => instant > nowMs).sort((a, b) => a - b);
  const current = JSON.stringify(computeTraitValue(trait, events, nowMs) ?? null);
  for (const [index, instant] of sorted.entries()) {
    if (index >= MAX_CANDIDATES) return instant;
    if (JSON.stringify(computeTraitValue(trait, events, instant) ?? null) !== current) return instant;
  }
  return null;
}

/** Track events of the name, passing `where`, inside the window, in (timestamp, seq) order. */
function matchingEvents(
  trait: CompiledComputedTrait,
  events: readonly SnapshotEvent[],
  nowMs: number,
): SnapshotEvent[] {
  const { definition, where, windowDays } = trait;
  const from = windowDays === null ? null : nowMs - windowDays * DAY_MS;
  return events
    .filter(
      (event) =>
        event.type === 'track' &&
        event.event === definition.event &&
        (from === null || event.timestampMs >= from) &&
        (where === null || eventMatchesWhere(event, where)),
    )
    .sort((a, b) => a.timestampMs - b.timestampMs || (a.seq ?? 0) - (b.seq ?? 0));
}

function valuesOf(trait: CompiledComputedTrait, events: readonly SnapshotEvent[]): JsonValue[] {
  const path = trait.property;
  if (path === null) return [];
  const out: JsonValue[] = [];
  for (const event of events) {
    const value = eventPathValue(event, path) as JsonValue | undefined;
    if (value !== undefined && value !== null) out.push(value);
  }
  return out;
}

type Scalar = string | number | boolean;
const isScalar = (value: JsonValue): value is Scalar =>
  typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';

function aggregateValues(kind: string, values: readonly JsonValue[]): JsonValue | undefined {
  const numbers = values.filter((value): value is number => typeof value === 'number');
  switch (kind) {
    case 'sum':
      return numbers.reduce((total, n) => total + n, 0);
    case 'average':
      return numbers.length === 0 ? undefined : numbers.reduce((total, n) => total + n, 0) / numbers.length;
    case 'min':
      return numbers.length === 0 ? undefined : numbers.reduce((a, b) => Math.min(a, b));
    case 'max':
      return numbers.length === 0 ? undefined : numbers.reduce((a, b) => Math.max(a, b));
    case 'first_value':
      return values[0];
    case 'last_value':
      return values.at(-1);
    case 'most_frequent':
      return mostFrequent(values.filter(isScalar));
    case 'distinct_values':
      return distinct(values.filter(isScalar)).slice(0, MAX_DISTINCT_VALUES);
    case 'distinct_count':
      return distinct(values.filter(isScalar)).length;
    default:
      return undefined;
  }
}

/** Distinct by type and value (`"1"` and `1` differ), in order of first occurrence. */
function distinct(values: readonly Scalar[]): Scalar[] {
  const seen = new Set<string>();
  const out: Scalar[] = [];
  for (const value of values) {
    const key = `${typeof value}:${String(value)}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(value);
    }
  }
  return out;
}

/** The value seen most often; a tie goes to the value seen most recently. */
function mostFrequent(values: readonly Scalar[]): Scalar | undefined {
  const counts = new Map<string, { value: Scalar; count: number; last: number }>();
  values.forEach((value, index) => {
    const key = `${typeof value}:${String(value)}`;
    const entry = counts.get(key);
    if (entry === undefined) counts.set(key, { value, count: 1, last: index });
    else {
      entry.count += 1;
      entry.last = index;
    }
  });
  let best: { value: Scalar; count: number; last: number } | undefined;
  for (const entry of counts.values()) {
    if (
      best === undefined ||
      entry.count > best.count ||
      (entry.count === best.count && entry.last > best.last)
    )
      best = entry;
  }
  return best?.value;
}
