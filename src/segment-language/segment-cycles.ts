import type { Expression } from './ast.ts';
import { collectSegmentRefs } from './dependencies.ts';

/**
 * Finds a loop of `in segment` references among definitions keyed by slug, such as
 * `["a", "b", "a"]` when a uses b and b uses a; undefined when there is none. References to slugs
 * missing from the map are ignored (the validator reports them). Iterative, so a long chain of
 * segments cannot overflow the stack; deterministic for a given map order.
 */
export function findSegmentCycle(
  definitions: ReadonlyMap<string, Expression>,
): readonly string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  for (const start of definitions.keys()) {
    if (state.has(start)) continue;
    const cycle = searchFrom(start, definitions, state);
    if (cycle !== undefined) return cycle;
  }
  return undefined;
}

interface Frame {
  readonly slug: string;
  readonly refs: readonly string[];
  next: number;
}

function searchFrom(
  start: string,
  definitions: ReadonlyMap<string, Expression>,
  state: Map<string, 'visiting' | 'done'>,
): readonly string[] | undefined {
  const refsOf = (slug: string): readonly string[] => {
    const definition = definitions.get(slug);
    return definition === undefined ? [] : collectSegmentRefs(definition);
  };
  const stack: Frame[] = [{ slug: start, refs: refsOf(start), next: 0 }];
  state.set(start, 'visiting');
  for (let frame = stack.at(-1); frame !== undefined; frame = stack.at(-1)) {
    const ref = frame.refs[frame.next];
    frame.next += 1;
    if (ref === undefined) {
      state.set(frame.slug, 'done');
      stack.pop();
    } else if (state.get(ref) === 'visiting') {
      const from = stack.findIndex((entry) => entry.slug === ref);
      return Object.freeze([...stack.slice(from).map((entry) => entry.slug), ref]);
    } else if (!state.has(ref) && definitions.has(ref)) {
      state.set(ref, 'visiting');
      stack.push({ slug: ref, refs: refsOf(ref), next: 0 });
    }
  }
  return undefined;
}
