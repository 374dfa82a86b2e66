/**
 * Pairwise precision and recall of the profiles against the ground truth, over events: every
 * pair of events put in the same profile should have the same author (precision), and every pair
 * of events that is deterministically connected should be in the same profile (recall). Counted
 * from contingency tables (Σ C(n, 2) per cell), never by enumerating pairs.
 */
import type { GroundTruth } from './ground-truth.ts';

export interface ClusterAccuracy {
  /** Events scored: assigned to a profile and carrying a personal identifier. */
  readonly scored: number;
  /** Events whose only identifiers are shared (left out of the pairs). */
  readonly ambiguous: number;
  /** Events with a personal identifier but no profile: must be 0. */
  readonly unassigned: number;
  readonly profiles: number;
  readonly precision: number;
  /** Against deterministic components: must be 1.0. */
  readonly recall: number;
  /** Against whole people, for information: devices that never log in cannot be linked. */
  readonly personRecall: number;
  /** Profiles holding scored events of two people or more: must be 0. */
  readonly mixedProfiles: number;
}

const pairs = (n: number): number => (n * (n - 1)) / 2;

function tally(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

function pairSum(counts: ReadonlyMap<string, number>): number {
  let sum = 0;
  for (const n of counts.values()) sum += pairs(n);
  return sum;
}

export function clusterAccuracy(truth: GroundTruth, profileOf: ReadonlyMap<number, string>): ClusterAccuracy {
  const byProfile = new Map<string, number>();
  const byPerson = new Map<string, number>();
  const byComponent = new Map<string, number>();
  const profilePerson = new Map<string, number>();
  const profileComponent = new Map<string, number>();
  const peopleOfProfile = new Map<string, Set<number>>();
  let ambiguous = 0;
  let unassigned = 0;
  let scored = 0;
  for (const seq of truth.seqs) {
    const component = truth.componentOf(seq);
    if (component === -1) {
      ambiguous += 1;
      continue;
    }
    const profile = profileOf.get(seq);
    if (profile === undefined) {
      unassigned += 1;
      continue;
    }
    const person = truth.personOf(seq);
    scored += 1;
    tally(byProfile, profile);
    tally(byPerson, String(person));
    tally(byComponent, String(component));
    tally(profilePerson, `${profile}|${person}`);
    tally(profileComponent, `${profile}|${component}`);
    const people = peopleOfProfile.get(profile) ?? new Set<number>();
    people.add(person);
    peopleOfProfile.set(profile, people);
  }
  const ratio = (hits: number, total: number): number => (total === 0 ? 1 : hits / total);
  return {
    scored,
    ambiguous,
    unassigned,
    profiles: byProfile.size,
    precision: ratio(pairSum(profilePerson), pairSum(byProfile)),
    recall: ratio(pairSum(profileComponent), pairSum(byComponent)),
    personRecall: ratio(pairSum(profilePerson), pairSum(byPerson)),
    mixedProfiles: [...peopleOfProfile.values()].filter((people) => people.size > 1).length,
  };
}
