import { computedValueType } from '../computed-traits/computed-trait-definition.ts';
import type { ComputedTrait } from '../computed-traits/computed-traits.port.ts';
import { isPersonalEventPath, revealsPersonalValues } from '../computed-traits/personal-values.ts';
import { AppError } from '../errors/app-error.ts';
import {
  analyzeSegmentDefinition,
  findSegmentCycle,
  forEachExpression,
  parseSegmentDefinition,
  type Expression,
  type SegmentAnalysis,
  type ValidationProblem,
} from '../segment-language/index.ts';
import type { Clock } from '../shared/clock.ts';
import { generateId } from '../shared/secrets.ts';
import { BackgroundTasks, chunkRanges } from './background-tasks.ts';
import { scheduleOfStep } from './backfill-schedule.ts';
import { definitionError } from './segment-definition-errors.ts';
import type { BackfillProgress, MembershipHistoryEntry, Segment, SegmentMember } from './segment-types.ts';
import type { SegmentReferenceMode, SegmentRepository } from './segments.port.ts';

/** Slugs are URL path segments and `in segment "…"` references: lower case, digits, `-`, `_`. */
export const SEGMENT_SLUG_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const DEFAULT_CHUNK = 5000;

type CheckedDefinition = Extract<SegmentAnalysis, { ok: true }>;
const MAX_SEGMENTS = 10_000;

export interface SegmentServiceDeps {
  readonly segments: SegmentRepository;
  /** Names of the workspace's computed traits, so `computed.<name>` of a missing one is a 400. */
  readonly computedTraitNames: (workspaceId: string) => Promise<ReadonlySet<string>>;
  /**
   * The workspace's configured consent categories, so `consent.<name>` of another one (a typo
   * that would match nobody) is a 400. Without it, any category is accepted.
   */
  readonly consentCategories?: (workspaceId: string) => Promise<readonly string[]>;
  /** The workspace's computed traits, so a preview can tell which read personal data. */
  readonly computedTraits?: (
    workspaceId: string,
  ) => Promise<readonly Pick<ComputedTrait, 'name' | 'definition'>[]>;
  readonly clock: Clock;
  readonly onBackgroundError: (error: unknown, context: { segmentId: string }) => void;
  /** Destinations that sync the segment (by id): deleting it would silently stop them. */
  readonly destinationsUsing?: (workspaceId: string, slug: string) => Promise<readonly string[]>;
  /** Profiles per backfill step; each step is one short query, so ingestion keeps flowing. */
  readonly chunkSize?: number;
  /**
   * Called once a backfill wrote its last step, with the instant it began: profiles the
   * pipeline wrote meanwhile are evaluated again, since the backfill may have stored what it
   * computed from their older state over what the real-time path decided.
   */
  readonly reevaluateSince?: (workspaceId: string, sinceMs: number) => Promise<unknown>;
}

export interface SegmentInput {
  readonly name: string;
  readonly slug: string;
  readonly definition: string;
  readonly description?: string | undefined;
}

export interface Preview {
  readonly size: number;
  /** Profile ids of the first members in id order. */
  readonly sample: readonly string[];
  readonly warnings: readonly ValidationProblem[];
}

/**
 * Segments: definitions checked against the workspace (segments, computed traits, cycles), kept
 * with their dependencies, backfilled over every profile in chunks through the store's compiled
 * queries. Each step stores the memberships with what it owes the real-time stage (the Audience
 * Entered/Exited events of its changes, the instants its members' windows lapse, the profiles
 * whose changes other segments read); keeping memberships live is that stage's job.
 */
export class SegmentService {
  readonly #repository: SegmentRepository;
  readonly #computedTraitNames: SegmentServiceDeps['computedTraitNames'];
  readonly #consentCategories: SegmentServiceDeps['consentCategories'];
  readonly #computedTraits: SegmentServiceDeps['computedTraits'];
  readonly #clock: Clock;
  readonly #destinationsUsing: SegmentServiceDeps['destinationsUsing'];
  readonly #chunkSize: number;
  readonly #reevaluateSince: SegmentServiceDeps['reevaluateSince'];
  readonly #tasks: BackgroundTasks;

  constructor(deps: SegmentServiceDeps) {
    this.#repository = deps.segments;
    this.#computedTraitNames = deps.computedTraitNames;
    this.#consentCategories = deps.consentCategories;
    this.#computedTraits = deps.computedTraits;
    this.#clock = deps.clock;
    this.#destinationsUsing = deps.destinationsUsing;
    this.#chunkSize = deps.chunkSize ?? DEFAULT_CHUNK;
    this.#reevaluateSince = deps.reevaluateSince;
    this.#tasks = new BackgroundTasks((segmentId, error) => deps.onBackgroundError(error, { segmentId }));
  }

  /** Creates the segment and starts its backfill in the background. */
  async create(
    workspaceId: string,
    input: SegmentInput,
  ): Promise<{ segment: Segment; warnings: readonly ValidationProblem[] }> {
    const name = requireName(input.name);
    if (!SEGMENT_SLUG_PATTERN.test(input.slug)) {
      throw new AppError(
        'request.invalid_body',
        'slug must be 1–64 lower-case letters, digits, "-" or "_", starting with a letter or digit',
      );
    }
    const all = await this.#all(workspaceId);
    if (all.some((segment) => segment.slug === input.slug))
      throw new AppError('segment.slug_taken', `a segment with slug "${input.slug}" exists`);
    const analysis = await this.#analyze(workspaceId, input.definition, input.slug, all);
    const now = this.#clock.now();
    const segment: Segment = {
      id: generateId('seg'),
      workspaceId,
      slug: input.slug,
      name,
      description: input.description ?? '',
      definition: input.definition,
      dependencies: analysis.dependencies,
      version: 1,
      createdMs: now,
      updatedMs: now,
      backfill: { status: 'backfilling', total: 0, done: 0, startedMs: null, finishedMs: null, error: null },
    };
    if (!(await this.#repository.create(segment)))
      throw new AppError('segment.slug_taken', `a segment with slug "${input.slug}" exists`);
    void this.#schedule(segment);
    return { segment, warnings: analysis.warnings };
  }

  async get(workspaceId: string, slug: string): Promise<Segment> {
    const segment = await this.#repository.find(workspaceId, slug);
    if (!segment) throw new AppError('segment.not_found', `no segment "${slug}"`);
    return segment;
  }

  list(workspaceId: string, page: { afterSlug?: string | undefined; limit: number }): Promise<Segment[]> {
    return this.#repository.list(workspaceId, page);
  }

  size(segment: Segment): Promise<number> {
    return this.#repository.countMembers(segment.workspaceId, segment.id);
  }

  /** Renames or redefines; a new definition is checked like a new segment and backfilled again. */
  async update(
    workspaceId: string,
    slug: string,
    changes: { name?: string | undefined; description?: string | undefined; definition?: string | undefined },
  ): Promise<{ segment: Segment; warnings: readonly ValidationProblem[] }> {
    const current = await this.get(workspaceId, slug);
    let analysis: CheckedDefinition | undefined;
    if (changes.definition !== undefined) {
      analysis = await this.#analyze(workspaceId, changes.definition, slug, await this.#all(workspaceId));
    }
    const updated = await this.#repository.update(workspaceId, current.id, {
      ...(changes.name !== undefined ? { name: requireName(changes.name) } : {}),
      ...(changes.description !== undefined ? { description: changes.description } : {}),
      ...(changes.definition !== undefined && analysis
        ? { definition: changes.definition, dependencies: analysis.dependencies }
        : {}),
      updatedMs: this.#clock.now(),
    });
    if (!updated) throw new AppError('segment.not_found', `no segment "${slug}"`);
    if (updated.version !== current.version) void this.#schedule(updated);
    return { segment: updated, warnings: analysis?.warnings ?? [] };
  }

  /** Refused while another segment refers to it. */
  async delete(workspaceId: string, slug: string): Promise<void> {
    const segment = await this.get(workspaceId, slug);
    const users = (await this.#all(workspaceId)).filter((other) =>
      other.dependencies.segments.includes(slug),
    );
    if (users.length > 0) {
      throw new AppError(
        'segment.in_use',
        `segments ${users.map((u) => `"${u.slug}"`).join(', ')} use "${slug}"`,
        {
          usedBy: users.map((u) => u.slug),
        },
      );
    }
    const destinations = (await this.#destinationsUsing?.(workspaceId, slug)) ?? [];
    if (destinations.length > 0)
      throw new AppError('segment.in_use', `destinations ${destinations.join(', ')} sync "${slug}"`, {
        usedByDestinations: [...destinations],
      });
    await this.#repository.delete(workspaceId, segment.id);
  }

  async members(
    workspaceId: string,
    slug: string,
    page: { afterProfileId?: string | undefined; limit: number },
  ): Promise<SegmentMember[]> {
    const segment = await this.get(workspaceId, slug);
    return this.#repository.listMembers(workspaceId, segment.id, page);
  }

  history(
    workspaceId: string,
    profileId: string,
    page: { beforeSeq?: number | undefined; limit: number },
  ): Promise<MembershipHistoryEntry[]> {
    return this.#repository.membershipHistory(workspaceId, profileId, page);
  }

  /**
   * The size at the end of each bucket in which members entered or left, from the membership
   * history (complete since the segment was created: the backfill records every entry).
   */
  async sizeHistory(
    workspaceId: string,
    slug: string,
    bucketMs: number,
  ): Promise<{ atMs: number; size: number; entered: number; exited: number }[]> {
    const segment = await this.get(workspaceId, slug);
    let size = 0;
    return (await this.#repository.membershipChanges(workspaceId, segment.id, bucketMs)).map((bucket) => {
      size += bucket.entered - bucket.exited;
      return { atMs: bucket.bucketStartMs, size, entered: bucket.entered, exited: bucket.exited };
    });
  }

  /** Size and first members of a draft definition, computed now, without saving anything. */
  async preview(
    workspaceId: string,
    definition: string,
    sampleSize: number,
    /** Set for a caller without PII access: conditions on these traits are refused. */
    personalTrait?: (name: string) => boolean,
  ): Promise<Preview> {
    const all = await this.#all(workspaceId);
    const analysis = await this.#analyze(workspaceId, definition, undefined, all);
    if (personalTrait !== undefined && (await this.#readsPersonalData(workspaceId, analysis, personalTrait)))
      throw new AppError('auth.forbidden', 'a preview with conditions on personal traits needs PII access');
    const query = { nowMs: this.#clock.now(), references: referencesOf(all) };
    let size = 0;
    const sample: string[] = [];
    for (const range of chunkRanges(await this.#repository.chunkBoundaries(workspaceId, this.#chunkSize))) {
      size += await this.#repository.countMatching(workspaceId, analysis.ast, { ...query, range });
      if (sample.length < sampleSize) {
        const ids = await this.#repository.matchingIds(workspaceId, analysis.ast, {
          ...query,
          range,
          limit: sampleSize - sample.length,
        });
        sample.push(...ids);
      }
    }
    return { size, sample, warnings: analysis.warnings };
  }

  /**
   * A condition on personal data: a personal trait of the profile or its accounts, a personal
   * property of an event (`did "Signup" where (properties.email starts_with "a")`), or a
   * computed trait whose value depends on one. A preview's size answers it as well as the value.
   */
  async #readsPersonalData(
    workspaceId: string,
    analysis: CheckedDefinition,
    personalTrait: (name: string) => boolean,
  ): Promise<boolean> {
    const { traitPaths, groupTraitPaths, computed } = analysis.dependencies;
    if ([...traitPaths, ...groupTraitPaths].some(([name]) => name !== undefined && personalTrait(name)))
      return true;
    let eventPath = false;
    forEachExpression(analysis.ast, ({ node, enclosingDid }) => {
      if (enclosingDid !== null && (node.kind === 'compare' || node.kind === 'in' || node.kind === 'exists'))
        eventPath ||= isPersonalEventPath(node.path, personalTrait);
    });
    if (eventPath) return true;
    if (computed.length === 0 || this.#computedTraits === undefined) return false;
    const read = new Set(computed);
    return (await this.#computedTraits(workspaceId)).some(
      (trait) => read.has(trait.name) && revealsPersonalValues(trait, personalTrait),
    );
  }

  /**
   * Computes the members over every live person profile, chunk by chunk, and stores them with
   * their history; progress is visible on the segment. Superseded by a newer version, it stops.
   */
  backfill(segment: Segment): Promise<void> {
    return this.#schedule(segment);
  }

  /** Restarts the backfills a previous process left unfinished. */
  async resumeUnfinished(): Promise<void> {
    for (const segment of await this.#repository.listUnfinished()) void this.#schedule(segment);
  }

  /** Settles when every background backfill queued so far is done (tests, CLI). */
  idle(): Promise<void> {
    return this.#tasks.idle();
  }

  close(): Promise<void> {
    return this.#tasks.close();
  }

  #schedule(segment: Segment): Promise<void> {
    return this.#tasks.run(segment.id, () => this.#runBackfill(segment));
  }

  async #runBackfill(segment: Segment): Promise<void> {
    const { workspaceId, id, version } = segment;
    const startedMs = this.#clock.now();
    const total = await this.#repository.countLivePersons(workspaceId);
    let progress: BackfillProgress = {
      status: 'backfilling',
      total,
      done: 0,
      startedMs,
      finishedMs: null,
      error: null,
    };
    if (!(await this.#repository.setBackfill(workspaceId, id, version, progress))) return;
    try {
      const parsed = parseSegmentDefinition(segment.definition);
      if (!parsed.ok) throw new Error(`stored definition does not parse: ${parsed.error.message}`);
      const all = await this.#all(workspaceId);
      const references = referencesOf(all);
      const definition = { ast: parsed.ast, dependencies: segment.dependencies };
      // Segments reading this one follow its changes (transitively) in real time.
      const dueOnChange = all.some((other) => other.dependencies.segments.includes(segment.slug));
      const audience = { slug: segment.slug, name: segment.name };
      const ranges = chunkRanges(await this.#repository.chunkBoundaries(workspaceId, this.#chunkSize));
      for (const range of ranges) {
        if (this.#tasks.closing) return;
        const query = { nowMs: startedMs, references, range };
        const ids = await this.#repository.matchingIds(workspaceId, parsed.ast, query);
        const schedule = await scheduleOfStep(this.#repository, workspaceId, definition, query);
        const followUp = { audience, dueOnChange, schedule };
        const written = await this.#repository.replaceMembers(
          workspaceId,
          id,
          version,
          range,
          ids,
          startedMs,
          followUp,
        );
        if (written === null) return;
        progress = { ...progress, done: Math.min(total, progress.done + this.#chunkSize) };
        if (!(await this.#repository.setBackfill(workspaceId, id, version, progress))) return;
      }
      // Also sends the Audience events the steps owe and evaluates the profiles they made due.
      await this.#reevaluateSince?.(workspaceId, startedMs);
      await this.#repository.setBackfill(workspaceId, id, version, {
        ...progress,
        status: 'ready',
        done: total,
        finishedMs: this.#clock.now(),
      });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      await this.#repository.setBackfill(workspaceId, id, version, {
        ...progress,
        status: 'failed',
        finishedMs: this.#clock.now(),
        error: message,
      });
      throw error;
    }
  }

  async #all(workspaceId: string): Promise<Segment[]> {
    return this.#repository.list(workspaceId, { limit: MAX_SEGMENTS });
  }

  async #analyze(
    workspaceId: string,
    text: string,
    selfSlug: string | undefined,
    all: readonly Segment[],
  ): Promise<CheckedDefinition> {
    const consent = await this.#consentCategories?.(workspaceId);
    const analysis = analyzeSegmentDefinition(text, {
      knownSegments: new Set(all.map((segment) => segment.slug)),
      knownComputed: await this.#computedTraitNames(workspaceId),
      ...(this.#computedTraits === undefined
        ? {}
        : {
            computedTypes: new Map(
              (await this.#computedTraits(workspaceId)).map((trait) => [
                trait.name,
                computedValueType(trait.definition.kind),
              ]),
            ),
          }),
      ...(consent !== undefined ? { knownConsentCategories: new Set(consent) } : {}),
      ...(selfSlug !== undefined ? { selfSlug } : {}),
    });
    if (!analysis.ok) throw definitionError(analysis.errors);
    if (selfSlug !== undefined) {
      const definitions = new Map<string, Expression>();
      for (const segment of all) {
        const parsed = parseSegmentDefinition(segment.definition);
        if (parsed.ok) definitions.set(segment.slug, parsed.ast);
      }
      definitions.set(selfSlug, analysis.ast);
      const found = findSegmentCycle(definitions);
      if (found !== undefined) {
        const cycle = startingAt(found, selfSlug);
        throw new AppError('segment.cycle', `segments refer to each other in a loop: ${cycle.join(' → ')}`, {
          cycle,
        });
      }
    }
    return analysis;
  }
}

/** The loop `[a, b, a]` told from `slug` when it is on it: `[b, a, b]`. */
function startingAt(cycle: readonly string[], slug: string): readonly string[] {
  const at = cycle.indexOf(slug);
  if (at <= 0) return cycle;
  const loop = cycle.slice(0, -1);
  return [...loop.slice(at), ...loop.slice(0, at), slug];
}

/** `in segment` reads the stored memberships of the workspace's segments. */
function referencesOf(all: readonly Segment[]): SegmentReferenceMode {
  return { kind: 'membership', segmentIds: new Map(all.map((segment) => [segment.slug, segment.id])) };
}

function requireName(raw: string): string {
  const name = raw.trim();
  if (name === '' || name.length > 200)
    throw new AppError('request.invalid_body', 'name must be 1–200 characters');
  return name;
}
