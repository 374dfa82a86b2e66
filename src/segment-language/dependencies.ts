import type { Expression } from './ast.ts';
import type { PathNode } from './path.ts';
import { forEachExpression } from './walk.ts';

/**
 * What a segment definition reads, for the real-time dependency index: which changes to a
 * profile (trait updates, events, other segments' memberships, consent) can change membership.
 */
export interface SegmentDependencies {
  /** Paths under `traits`, as key lists: `traits.address.city` is `["address", "city"]`. */
  readonly traitPaths: readonly (readonly string[])[];
  /** Paths under `group` (account-level traits). */
  readonly groupTraitPaths: readonly (readonly string[])[];
  /** Names of computed traits (`computed.<name>…`). */
  readonly computed: readonly string[];
  readonly consentCategories: readonly string[];
  /** Event names of `did` conditions. */
  readonly events: readonly string[];
  /** Slugs of `in segment` references. */
  readonly segments: readonly string[];
  /** Some `did` has a window other than all time. */
  readonly hasTimeWindow: boolean;
  /** Some `did` has an `in last …` window: membership can change while nothing but the clock moves. */
  readonly hasRelativeWindow: boolean;
}

/** Each list holds distinct entries in order of first appearance. */
export function collectDependencies(ast: Expression): SegmentDependencies {
  const traitPaths = new UniqueList<readonly string[]>((keys) => JSON.stringify(keys));
  const groupTraitPaths = new UniqueList<readonly string[]>((keys) => JSON.stringify(keys));
  const computed = new UniqueList<string>(String);
  const consentCategories = new UniqueList<string>(String);
  const events = new UniqueList<string>(String);
  const segments = new UniqueList<string>(String);
  let hasTimeWindow = false;
  let hasRelativeWindow = false;

  const addPath = (path: PathNode): void => {
    const [first] = path.keys;
    if (path.root === 'traits') traitPaths.add(path.keys);
    else if (path.root === 'group') groupTraitPaths.add(path.keys);
    else if (path.root === 'computed' && first !== undefined) computed.add(first);
    else if (path.root === 'consent' && first !== undefined) consentCategories.add(first);
  };

  forEachExpression(ast, ({ node, enclosingDid }) => {
    // Paths inside `where (…)` read event properties, not the profile.
    if ((node.kind === 'compare' || node.kind === 'in' || node.kind === 'exists') && enclosingDid === null) {
      addPath(node.path);
    } else if (node.kind === 'did') {
      events.add(node.event);
      hasTimeWindow ||= node.window.kind !== 'all_time';
      hasRelativeWindow ||= node.window.kind === 'last';
    } else if (node.kind === 'in_segment') {
      segments.add(node.slug);
    }
  });

  return Object.freeze({
    traitPaths: traitPaths.items(),
    groupTraitPaths: groupTraitPaths.items(),
    computed: computed.items(),
    consentCategories: consentCategories.items(),
    events: events.items(),
    segments: segments.items(),
    hasTimeWindow,
    hasRelativeWindow,
  });
}

/**
 * Names of the events whose properties or context a `did … where (…)` reads: the only events
 * an evaluator must read in full. A `did` without `where` reads an event's name and time.
 */
export function collectFilteredEvents(ast: Expression): readonly string[] {
  const names = new UniqueList<string>(String);
  forEachExpression(ast, ({ node }) => {
    if (node.kind === 'did' && node.where !== null) names.add(node.event);
  });
  return names.items();
}

/** Distinct slugs named by `in segment`, in order of first appearance. */
export function collectSegmentRefs(ast: Expression): readonly string[] {
  const slugs = new UniqueList<string>(String);
  forEachExpression(ast, ({ node }) => {
    if (node.kind === 'in_segment') slugs.add(node.slug);
  });
  return slugs.items();
}

class UniqueList<T> {
  readonly #seen = new Set<string>();
  readonly #items: T[] = [];
  readonly #keyOf: (item: T) => string;

  constructor(keyOf: (item: T) => string) {
    this.#keyOf = keyOf;
  }

  add(item: T): void {
    const key = this.#keyOf(item);
    if (this.#seen.has(key)) return;
    this.#seen.add(key);
    this.#items.push(item);
  }

  items(): readonly T[] {
    return Object.freeze([...this.#items]);
  }
}
