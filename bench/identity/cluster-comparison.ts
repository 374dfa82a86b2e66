/**
 * Whether two clusterings of the identifiers are the same partition: our profiles (identifier →
 * profile id) and the label propagation's (identifier → label). Labels differ by construction;
 * the partitions are equal when each profile maps to exactly one label and back.
 */

export interface ClusterComparison {
  readonly identifiers: number;
  readonly ourClusters: number;
  readonly theirClusters: number;
  /** Identifiers one side has and the other does not. */
  readonly missing: number;
  /** Profiles spread over several labels, and labels spread over several profiles. */
  readonly split: number;
  readonly joined: number;
  readonly same: boolean;
}

export function compareClusters(
  ours: ReadonlyMap<string, string>,
  theirs: ReadonlyMap<string, number>,
): ClusterComparison {
  const labelsOfProfile = new Map<string, Set<number>>();
  const profilesOfLabel = new Map<number, Set<string>>();
  let missing = 0;
  for (const [key, profile] of ours) {
    const label = theirs.get(key);
    if (label === undefined) {
      missing += 1;
      continue;
    }
    const labels = labelsOfProfile.get(profile) ?? new Set<number>();
    labels.add(label);
    labelsOfProfile.set(profile, labels);
    const profiles = profilesOfLabel.get(label) ?? new Set<string>();
    profiles.add(profile);
    profilesOfLabel.set(label, profiles);
  }
  for (const key of theirs.keys()) if (!ours.has(key)) missing += 1;
  const split = [...labelsOfProfile.values()].filter((s) => s.size > 1).length;
  const joined = [...profilesOfLabel.values()].filter((s) => s.size > 1).length;
  return {
    identifiers: ours.size,
    ourClusters: labelsOfProfile.size,
    theirClusters: new Set(theirs.values()).size,
    missing,
    split,
    joined,
    same: missing === 0 && split === 0 && joined === 0,
  };
}
