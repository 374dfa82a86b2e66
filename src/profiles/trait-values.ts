/**
 * Trait values with their provenance, and the rule that picks the current one. The winner of a
 * trait is a function of the set of observations only (source rank, then event timestamp, then
 * messageId, then log position), never of arrival order: merges, replays and late events all
 * agree.
 */
import type { StoredEvent } from '../ingestion/message-types.ts';
import { isJsonObject, type JsonObject, type JsonValue } from '../shared/json.ts';
import { sourceRank, type ProfileSettings } from './profile-settings.ts';

export interface TraitValue {
  readonly value: JsonValue;
  readonly sourceId: string;
  readonly seq: number;
  readonly messageId: string;
  readonly tsMs: number;
}

/** Trait name → current value with provenance. A null-prototype record: names are client data. */
export type TraitMap = Record<string, TraitValue>;

export interface TraitObservation extends TraitValue {
  readonly trait: string;
}

export interface DroppedTrait {
  readonly trait: string;
  readonly reason: TraitDropReason;
}

export const TRAIT_DROP_REASONS = {
  tooMany: 'traits.too_many',
  nameTooLong: 'traits.name_too_long',
  valueTooLarge: 'traits.value_too_large',
} as const;
export type TraitDropReason = (typeof TRAIT_DROP_REASONS)[keyof typeof TRAIT_DROP_REASONS];

/** Bounds per event: what a real identify carries, with a wide margin. */
export const TRAIT_LIMITS = { perEvent: 200, nameChars: 256, valueBytes: 8 * 1024 } as const;

export function emptyTraits(): TraitMap {
  return Object.create(null) as TraitMap;
}

/**
 * The traits an event sets: `identify` sets the person's, `group` the account's (its `traits`).
 * Bounded; what is dropped is returned with the reason, never silently lost.
 */
export function observeTraits(
  event: Pick<StoredEvent, 'seq' | 'messageId' | 'timestampMs' | 'sourceId' | 'message'>,
): { observations: TraitObservation[]; dropped: DroppedTrait[] } {
  const traits = Object.hasOwn(event.message, 'traits') ? event.message['traits'] : undefined;
  const observations: TraitObservation[] = [];
  const dropped: DroppedTrait[] = [];
  if (!isJsonObject(traits)) return { observations, dropped };
  const names = Object.keys(traits);
  for (const [index, trait] of names.entries()) {
    if (index >= TRAIT_LIMITS.perEvent) {
      dropped.push({ trait: '*', reason: TRAIT_DROP_REASONS.tooMany });
      break;
    }
    if (trait.length > TRAIT_LIMITS.nameChars) {
      dropped.push({ trait: trait.slice(0, 64), reason: TRAIT_DROP_REASONS.nameTooLong });
      continue;
    }
    const value = traits[trait] as JsonValue;
    if (Buffer.byteLength(JSON.stringify(value), 'utf8') > TRAIT_LIMITS.valueBytes) {
      dropped.push({ trait, reason: TRAIT_DROP_REASONS.valueTooLarge });
      continue;
    }
    observations.push({
      trait,
      value,
      sourceId: event.sourceId,
      seq: event.seq,
      messageId: event.messageId,
      tsMs: event.timestampMs,
    });
  }
  return { observations, dropped };
}

/** Positive if `a` beats `b` for this trait. */
export function compareTraitValues(
  settings: ProfileSettings,
  trait: string,
  a: TraitValue,
  b: TraitValue,
): number {
  const rankA = sourceRank(settings, trait, a.sourceId);
  const rankB = sourceRank(settings, trait, b.sourceId);
  if (rankA !== rankB) return rankB - rankA;
  if (a.tsMs !== b.tsMs) return a.tsMs - b.tsMs;
  if (a.messageId !== b.messageId) return a.messageId < b.messageId ? -1 : 1;
  return a.seq - b.seq;
}

/** Applies an observation; true if it became the current value. */
export function applyObservation(
  settings: ProfileSettings,
  traits: TraitMap,
  observation: TraitObservation,
): boolean {
  const current = Object.hasOwn(traits, observation.trait) ? traits[observation.trait] : undefined;
  if (current !== undefined && compareTraitValues(settings, observation.trait, observation, current) <= 0)
    return false;
  const { trait, ...value } = observation;
  traits[trait] = value;
  return true;
}

/** Merges `from` into `into` (both sides of a merge keep their observations' winners). */
export function mergeTraits(settings: ProfileSettings, into: TraitMap, from: TraitMap): void {
  for (const trait of Object.keys(from)) {
    const value = from[trait];
    if (value !== undefined) applyObservation(settings, into, { trait, ...value });
  }
}

/** The plain `{ name: value }` view that profiles show and segments query. */
export function traitValues(traits: TraitMap): JsonObject {
  const out: JsonObject = {};
  for (const trait of Object.keys(traits).sort()) {
    const value = traits[trait];
    if (value !== undefined)
      Object.defineProperty(out, trait, {
        value: value.value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
  }
  return out;
}
