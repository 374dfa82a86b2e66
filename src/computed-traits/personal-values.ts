/**
 * Which computed traits carry or reveal personal data. A trait's name says nothing about what it
 * holds (`last_email` is as personal as `traits.email`), so the rule reads the definition: the
 * event paths it reads are personal when their key is a PII trait name of the workspace, as
 * profile timelines mask them (`properties.email`, `context.traits.email`, `context.ip`).
 */
import { forEachExpression, type Expression, type PathNode } from '../segment-language/index.ts';
import { checkComputedTraitDefinition, type ComputedTraitKind } from './computed-trait-definition.ts';
import type { ComputedTrait } from './computed-traits.port.ts';
import { maskValue } from '../governance/pii-masking.ts';
import type { JsonObject } from '../shared/json.ts';

/** Classification of trait names (`PiiPolicy.isPiiTrait`). */
export type IsPiiTrait = (name: string) => boolean;

/** Kinds whose value is one of the property's values, or a list of them: shown masked. */
const VALUE_KINDS: ReadonlySet<ComputedTraitKind> = new Set([
  'first_value',
  'last_value',
  'most_frequent',
  'distinct_values',
]);

/** An event path (`properties.*`, `context.*`) whose values are personal data. */
export function isPersonalEventPath(path: PathNode, isPiiTrait: IsPiiTrait): boolean {
  const [first, second] = path.keys;
  if (first === undefined) return false;
  if (path.root === 'properties') return isPiiTrait(first);
  if (path.root !== 'context') return false;
  return first === 'ip' || (first === 'traits' && second !== undefined && isPiiTrait(second));
}

/** Some condition of an event filter (`did … where (…)`, a computed trait's `where`) reads one. */
export function readsPersonalEventPath(filter: Expression, isPiiTrait: IsPiiTrait): boolean {
  let found = false;
  forEachExpression(filter, ({ node }) => {
    if ((node.kind === 'compare' || node.kind === 'in' || node.kind === 'exists') && !found)
      found = isPersonalEventPath(node.path, isPiiTrait);
  });
  return found;
}

/**
 * Values to mask for someone without PII access: the trait shows the values of a personal
 * property (`last_value` of `properties.email`). Counts and sums of one are not masked.
 */
export function showsPersonalValues(
  trait: Pick<ComputedTrait, 'definition'>,
  isPiiTrait: IsPiiTrait,
): boolean {
  const checked = checkComputedTraitDefinition(trait.definition);
  if (!checked.ok || !VALUE_KINDS.has(checked.compiled.definition.kind)) return false;
  const { property } = checked.compiled;
  return property !== null && isPersonalEventPath(property, isPiiTrait);
}

/**
 * The trait's value depends on personal data in any way (its property or its `where`): a
 * condition on it answers questions about those values (an `event_count` of events whose
 * `properties.email` starts with "a"), so previews without PII access refuse it.
 */
export function revealsPersonalValues(
  trait: Pick<ComputedTrait, 'definition'>,
  isPiiTrait: IsPiiTrait,
): boolean {
  const checked = checkComputedTraitDefinition(trait.definition);
  if (!checked.ok) return false;
  const { property, where } = checked.compiled;
  return (
    (property !== null && isPersonalEventPath(property, isPiiTrait)) ||
    (where !== null && readsPersonalEventPath(where, isPiiTrait))
  );
}

/**
 * A profile's computed values as someone without PII access sees them: the values of traits
 * that show a personal property's values (`showsPersonalValues`) masked like that property.
 */
export function maskPersonalComputed(
  values: JsonObject,
  traits: readonly Pick<ComputedTrait, 'name' | 'definition'>[],
  isPiiTrait: IsPiiTrait,
): JsonObject {
  const personal = new Set(traits.filter((t) => showsPersonalValues(t, isPiiTrait)).map((t) => t.name));
  if (personal.size === 0) return values;
  const out: JsonObject = {};
  for (const [name, value] of Object.entries(values))
    Object.defineProperty(out, name, {
      value: personal.has(name) ? maskValue(value) : value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  return out;
}
