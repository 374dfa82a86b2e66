/** The definitions real-time evaluation reads, read every evaluation round and parsed once by text. */
import {
  checkComputedTraitDefinition,
  type CompiledComputedTrait,
} from '../computed-traits/computed-trait-definition.ts';
import type { ComputedTraitRepository } from '../computed-traits/computed-traits.port.ts';
import {
  collectFilteredEvents,
  parseSegmentDefinition,
  type Expression,
  type SegmentDependencies,
} from '../segment-language/index.ts';
import type { Segment } from './segment-types.ts';
import type { SegmentRepository } from './segments.port.ts';

export interface CompiledSegment {
  readonly segment: Segment;
  readonly ast: Expression;
  readonly dependencies: SegmentDependencies;
  /** Events whose properties or context the definition reads (`did … where`). */
  readonly filteredEvents: readonly string[];
}

export interface CompiledComputed {
  readonly name: string;
  readonly compiled: CompiledComputedTrait;
}

export interface Definitions {
  readonly segments: readonly CompiledSegment[];
  readonly computed: readonly CompiledComputed[];
}

export const NO_DEFINITIONS: Definitions = { segments: [], computed: [] };

/** A definition's text, parsed. */
interface ParsedSegment {
  readonly ast: Expression;
  readonly filteredEvents: readonly string[];
}

/** Definitions kept parsed, at most this many (a workspace has a few dozen). */
const MAX_PARSED = 2_000;

/**
 * Segment definitions parsed once by text: every pipeline batch reads the workspace's
 * definitions again (a change applies from the next batch on), and parsing them each time
 * cost more than reading them. The AST is immutable, so one parse serves every round.
 */
export class ParsedDefinitions {
  readonly #byText = new Map<string, ParsedSegment | null>();

  parse(definition: string): ParsedSegment | null {
    const known = this.#byText.get(definition);
    if (known !== undefined) return known;
    const parsed = parseSegmentDefinition(definition);
    const entry = parsed.ok ? { ast: parsed.ast, filteredEvents: collectFilteredEvents(parsed.ast) } : null;
    if (this.#byText.size >= MAX_PARSED) this.#byText.clear();
    this.#byText.set(definition, entry);
    return entry;
  }
}

/** The workspace's segments (in dependency order) and computed traits, parsed. */
export async function loadDefinitions(
  deps: { readonly segments: SegmentRepository; readonly computedTraits: ComputedTraitRepository },
  workspaceId: string,
  parsed: ParsedDefinitions = new ParsedDefinitions(),
): Promise<Definitions> {
  const [segments, computed] = await Promise.all([
    loadSegments(deps.segments, workspaceId, parsed),
    loadComputed(deps.computedTraits, workspaceId),
  ]);
  return { segments, computed };
}

/** The workspace's segments, parsed, referenced segments before the segments that use them. */
async function loadSegments(
  segments: SegmentRepository,
  workspaceId: string,
  parsed: ParsedDefinitions,
): Promise<CompiledSegment[]> {
  const all: Segment[] = [];
  for (let after: string | undefined; ;) {
    const page = await segments.list(workspaceId, { afterSlug: after, limit: 500 });
    all.push(...page);
    if (page.length < 500) break;
    after = page.at(-1)?.slug;
  }
  const compiled = new Map<string, CompiledSegment>();
  for (const segment of all) {
    const entry = parsed.parse(segment.definition);
    if (entry !== null)
      compiled.set(segment.slug, {
        segment,
        ast: entry.ast,
        dependencies: segment.dependencies,
        filteredEvents: entry.filteredEvents,
      });
  }
  const ordered: CompiledSegment[] = [];
  const placed = new Set<string>();
  const visit = (slug: string, depth: number): void => {
    const entry = compiled.get(slug);
    if (entry === undefined || placed.has(slug) || depth > compiled.size) return;
    for (const ref of entry.dependencies.segments) visit(ref, depth + 1);
    placed.add(slug);
    ordered.push(entry);
  };
  for (const slug of [...compiled.keys()].sort()) visit(slug, 0);
  return ordered;
}

async function loadComputed(
  computedTraits: ComputedTraitRepository,
  workspaceId: string,
): Promise<CompiledComputed[]> {
  const out: CompiledComputed[] = [];
  for (let after: string | undefined; ;) {
    const page = await computedTraits.list(workspaceId, { afterName: after, limit: 500 });
    for (const trait of page) {
      const check = checkComputedTraitDefinition(trait.definition);
      if (check.ok) out.push({ name: trait.name, compiled: check.compiled });
    }
    if (page.length < 500) break;
    after = page.at(-1)?.name;
  }
  return out;
}
