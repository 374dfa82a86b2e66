import type { Expression, PathNode } from '../segment-language/index.ts';
import { compareValue, existsValue, inValues } from './compare-values.ts';
import { countInWindow, countSatisfies, didCandidates } from './event-conditions.ts';
import { ownValue, readPath } from './json-path.ts';
import type { ProfileSnapshot } from './profile-snapshot.ts';

/**
 * Whether a profile, as given by `snapshot`, is in the segment `definition` at instant `nowMs`.
 * Pure: the same inputs give the same answer, and it agrees with the SQL compilers on the same
 * data (test/segments/conformance.test.ts). The tree is trusted to be validated; nesting is
 * bounded by the validator, so recursion depth is too.
 */
export function evaluateSegment(definition: Expression, snapshot: ProfileSnapshot, nowMs: number): boolean {
  return new SnapshotEvaluator(snapshot, nowMs).evaluate(definition);
}

class SnapshotEvaluator {
  readonly #snapshot: ProfileSnapshot;
  readonly #nowMs: number;
  /** `did` nodes seen in this evaluation: each one filters the timeline once. */
  readonly #didTimestamps = new Map<Expression, number[]>();

  constructor(snapshot: ProfileSnapshot, nowMs: number) {
    this.#snapshot = snapshot;
    this.#nowMs = nowMs;
  }

  evaluate(node: Expression): boolean {
    switch (node.kind) {
      case 'and':
        return node.operands.every((operand) => this.evaluate(operand));
      case 'or':
        return node.operands.some((operand) => this.evaluate(operand));
      case 'not':
        return !this.evaluate(node.operand);
      case 'compare':
        return this.#someValue(node.path, (value) => compareValue(value, node.op, node.value));
      case 'in':
        return this.#someValue(node.path, (value) => inValues(value, node.values));
      case 'exists':
        return this.#someValue(node.path, existsValue);
      case 'did': {
        let timestamps = this.#didTimestamps.get(node);
        if (timestamps === undefined) {
          timestamps = didCandidates(node, this.#snapshot.events);
          this.#didTimestamps.set(node, timestamps);
        }
        return countSatisfies(node.count, countInWindow(timestamps, node.window, this.#nowMs));
      }
      case 'in_segment':
        return this.#snapshot.segments.has(node.slug);
    }
  }

  /**
   * Applies a condition to the value a profile path reads. `group.*` reads every account of the
   * profile and holds when any account satisfies it; without accounts the value is missing.
   */
  #someValue(path: PathNode, test: (value: unknown) => boolean): boolean {
    const snapshot = this.#snapshot;
    switch (path.root) {
      case 'traits':
        return test(readPath(snapshot.traits, path.keys));
      case 'computed':
        return test(readPath(snapshot.computed, path.keys));
      case 'consent': {
        const [category] = path.keys;
        return test(
          path.keys.length === 1 && category !== undefined ? ownValue(snapshot.consent, category) : undefined,
        );
      }
      case 'group':
        if (snapshot.groups.length === 0) return test(undefined);
        return snapshot.groups.some((account) => test(readPath(account, path.keys)));
      default:
        // Roots of other scopes (refused by the validator) read nothing.
        return test(undefined);
    }
  }
}
