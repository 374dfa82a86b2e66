/**
 * What changed for a profile, and so which of its segments must be evaluated again: the real
 * time path re-evaluates only the segments whose dependencies (event names, traits, account
 * traits, consent, computed traits, referenced segments) a batch, the clock or the API touched.
 */
import type { StoredEvent } from '../ingestion/message-types.ts';
import { carriesConsent } from '../privacy/consent.ts';
import { ACCOUNT_ID_PREFIX } from '../profiles/profile-resolver.ts';
import type { ProfileBatchChange } from '../profiles/profile-state.port.ts';
import type { SegmentDependencies } from '../segment-language/index.ts';

/** What changed for one profile, deciding which segments must be evaluated again. */
export interface Touch {
  /** Everything (a merge, the clock, a definition change): evaluate every segment. */
  all: boolean;
  readonly eventNames: Set<string>;
  traits: boolean;
  /** The profile joined an account, or one of its accounts changed in unknown ways. */
  groups: boolean;
  /** Top-level traits one of the profile's accounts was sent by this batch's `group` calls. */
  readonly groupTraits: Set<string>;
  /**
   * Its consent may have changed: an event of the batch carried `context.consent` (any type,
   * not only `identify`), or values were set through the consent API.
   */
  consent: boolean;
  /** Profiles merged into this one by the batch: their announced memberships are its own now. */
  mergedFrom?: string[];
}

export const newTouch = (all: boolean): Touch => ({
  all,
  eventNames: new Set(),
  traits: false,
  groups: false,
  groupTraits: new Set(),
  consent: false,
});

/** The profile's touch in `touches`, added untouched when absent. */
export function touchOf(touches: Map<string, Touch>, id: string): Touch {
  let t = touches.get(id);
  if (t === undefined) {
    t = newTouch(false);
    touches.set(id, t);
  }
  return t;
}

/**
 * What a committed batch touched: per person profile, the event names, traits, groups and
 * consent its events carried; everything for survivors of merges and profiles whose events
 * moved or were re-resolved. Accounts that changed are returned apart (their members are
 * touched through them).
 */
export function touchesOfBatch(change: ProfileBatchChange): {
  touches: Map<string, Touch>;
  accounts: string[];
} {
  const touches = new Map<string, Touch>();
  const eventsById = new Map<number, StoredEvent>(change.events.map((e) => [e.seq, e]));
  for (const [seq, profileId] of change.profileOf) {
    const event = eventsById.get(seq);
    if (event === undefined) continue;
    const t = touchOf(touches, profileId);
    if (event.event !== null) t.eventNames.add(event.event);
    if (event.type === 'identify') t.traits = true;
    if (event.type === 'group') t.groups = true;
    // The consent listener runs before the audiences: the snapshot holds what the event said.
    if (carriesConsent(event)) t.consent = true;
  }
  // Survivors of merges, profiles whose events moved (a re-resolution, an unmerge: the new
  // profiles of a split among them) and profiles re-resolved without an event of this batch:
  // everything about them may have changed.
  const merged = new Set(change.mergedProfiles.map((m) => m.into));
  const reassigned = new Set(change.reassignedProfiles);
  const accounts: string[] = [];
  for (const id of new Set([...change.changedProfiles, ...change.reassignedProfiles])) {
    if (id.startsWith(ACCOUNT_ID_PREFIX)) accounts.push(id);
    else if (merged.has(id) || reassigned.has(id) || !touches.has(id))
      touches.set(id, { ...touchOf(touches, id), all: true });
  }
  for (const [id, survivor] of survivorsOf(change.mergedProfiles)) {
    const t = touchOf(touches, survivor);
    t.all = true;
    (t.mergedFrom ??= []).push(id);
  }
  return { touches, accounts };
}

/** Whether what touched the profile can change its membership of a segment with these dependencies. */
export function touchReaches(
  touch: Touch,
  dependencies: SegmentDependencies,
  changedComputed: ReadonlySet<string>,
  changedSegments: ReadonlySet<string>,
): boolean {
  return (
    touch.all ||
    dependencies.events.some((e) => touch.eventNames.has(e)) ||
    (touch.traits && dependencies.traitPaths.length > 0) ||
    (touch.groups && dependencies.groupTraitPaths.length > 0) ||
    (touch.consent && dependencies.consentCategories.length > 0) ||
    dependencies.groupTraitPaths.some(([first]) => touch.groupTraits.has(first ?? '')) ||
    dependencies.computed.some((c) => changedComputed.has(c)) ||
    dependencies.segments.some((s) => changedSegments.has(s))
  );
}

/** Each merged profile with the survivor it ends in (a batch may merge A into B, then B into C). */
function survivorsOf(merges: readonly { readonly id: string; readonly into: string }[]): Map<string, string> {
  const into = new Map(merges.map((m) => [m.id, m.into]));
  const out = new Map<string, string>();
  for (const { id } of merges) {
    let survivor = into.get(id) ?? id;
    for (let hops = 0; into.has(survivor) && hops < merges.length; hops++)
      survivor = into.get(survivor) ?? survivor;
    out.set(id, survivor);
  }
  return out;
}
