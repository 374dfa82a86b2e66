import { AppError } from '../errors/app-error.ts';
import { analyzeSegmentDefinition } from '../segment-language/index.ts';
import { BackgroundTasks, chunkRanges } from '../segments/background-tasks.ts';
import type { BackfillProgress } from '../segments/segment-types.ts';
import type { Clock } from '../shared/clock.ts';
import { generateId } from '../shared/secrets.ts';
import { computeTraitValue, nextValueChangeAt } from './compute-trait.ts';
import {
  checkComputedTraitDefinition,
  checkComputedTraitName,
  computedValueType,
  type CompiledComputedTrait,
  type ComputedTraitKind,
  type DefinitionProblem,
} from './computed-trait-definition.ts';
import type { ComputedTrait, ComputedTraitRepository, ComputedValue } from './computed-traits.port.ts';

const DEFAULT_CHUNK = 2000;
const MAX_TRAITS = 10_000;

export interface ComputedTraitServiceDeps {
  readonly computedTraits: ComputedTraitRepository;
  /** Slugs of the segments whose definitions read `computed.<name>` (deleting it is refused). */
  /** The segments whose definition reads `computed.<name>`: slug and definition text. */
  readonly segmentsUsing: (
    workspaceId: string,
    name: string,
  ) => Promise<readonly { readonly slug: string; readonly definition: string }[]>;
  readonly clock: Clock;
  readonly onBackgroundError: (error: unknown, context: { computedTraitId: string }) => void;
  readonly chunkSize?: number;
  /**
   * Called once a backfill wrote its last step, with the instant it began: profiles the
   * pipeline wrote meanwhile are evaluated again, since the backfill may have stored what it
   * computed from their older state over what the real-time path decided.
   */
  readonly reevaluateSince?: (workspaceId: string, sinceMs: number) => Promise<unknown>;
}

/**
 * Computed traits: definitions validated with every problem reported, and values computed for
 * every live person from the timeline in the background, chunk by chunk, with progress. Keeping
 * values current on each new event and at each window expiry (`next_change_ms`) is the
 * real-time stage's job, with the same pure functions (compute-trait.ts).
 */
export class ComputedTraitService {
  readonly #repository: ComputedTraitRepository;
  readonly #segmentsUsing: ComputedTraitServiceDeps['segmentsUsing'];
  readonly #clock: Clock;
  readonly #chunkSize: number;
  readonly #reevaluateSince: ComputedTraitServiceDeps['reevaluateSince'];
  readonly #tasks: BackgroundTasks;

  constructor(deps: ComputedTraitServiceDeps) {
    this.#repository = deps.computedTraits;
    this.#segmentsUsing = deps.segmentsUsing;
    this.#clock = deps.clock;
    this.#chunkSize = deps.chunkSize ?? DEFAULT_CHUNK;
    this.#reevaluateSince = deps.reevaluateSince;
    this.#tasks = new BackgroundTasks((id, error) => deps.onBackgroundError(error, { computedTraitId: id }));
  }

  async create(workspaceId: string, input: { name: unknown; definition: unknown }): Promise<ComputedTrait> {
    const compiled = checked([...checkComputedTraitName(input.name)], input.definition);
    const name = input.name as string;
    const now = this.#clock.now();
    const trait: ComputedTrait = {
      id: generateId('ct'),
      workspaceId,
      name,
      definition: compiled.definition,
      version: 1,
      createdMs: now,
      updatedMs: now,
      backfill: { status: 'backfilling', total: 0, done: 0, startedMs: null, finishedMs: null, error: null },
    };
    if (!(await this.#repository.create(trait)))
      throw new AppError('computed_trait.name_taken', `a computed trait named "${name}" exists`);
    void this.#schedule(trait);
    return trait;
  }

  async get(workspaceId: string, name: string): Promise<ComputedTrait> {
    const trait = await this.#repository.find(workspaceId, name);
    if (!trait) throw new AppError('computed_trait.not_found', `no computed trait "${name}"`);
    return trait;
  }

  list(
    workspaceId: string,
    page: { afterName?: string | undefined; limit: number },
  ): Promise<ComputedTrait[]> {
    return this.#repository.list(workspaceId, page);
  }

  async names(workspaceId: string): Promise<ReadonlySet<string>> {
    return new Set(
      (await this.#repository.list(workspaceId, { limit: MAX_TRAITS })).map((trait) => trait.name),
    );
  }

  /** A new definition is recomputed for every profile in the background. */
  async redefine(workspaceId: string, name: string, definition: unknown): Promise<ComputedTrait> {
    const current = await this.get(workspaceId, name);
    const compiled = checked([], definition);
    await this.#refuseBreakingSegments(workspaceId, name, compiled.definition.kind);
    const updated = await this.#repository.redefine(
      workspaceId,
      current.id,
      compiled.definition,
      this.#clock.now(),
    );
    if (!updated) throw new AppError('computed_trait.not_found', `no computed trait "${name}"`);
    void this.#schedule(updated);
    return updated;
  }

  /**
   * A new kind may hold another type of value (a count becoming a last value, a time a list):
   * a segment comparing the trait as the old type would silently match nobody. Refused, naming
   * the segments, as a segment written that way would be (segment.type_mismatch).
   */
  async #refuseBreakingSegments(workspaceId: string, name: string, kind: ComputedTraitKind): Promise<void> {
    const computedTypes = new Map([[name, computedValueType(kind)]]);
    const broken: string[] = [];
    for (const segment of await this.#segmentsUsing(workspaceId, name)) {
      const analysis = analyzeSegmentDefinition(segment.definition, { computedTypes });
      if (!analysis.ok && analysis.errors.some((error) => error.code === 'segment.type_mismatch'))
        broken.push(segment.slug);
    }
    if (broken.length > 0)
      throw new AppError(
        'computed_trait.in_use',
        `segments ${broken.map((s) => `"${s}"`).join(', ')} compare computed.${name} with values a ${kind} never holds: change them first`,
        { usedBy: broken },
      );
  }

  async delete(workspaceId: string, name: string): Promise<void> {
    const trait = await this.get(workspaceId, name);
    const users = (await this.#segmentsUsing(workspaceId, name)).map((segment) => segment.slug);
    if (users.length > 0) {
      throw new AppError(
        'computed_trait.in_use',
        `segments ${users.map((s) => `"${s}"`).join(', ')} read computed.${name}`,
        {
          usedBy: users,
        },
      );
    }
    await this.#repository.delete(workspaceId, trait.id, trait.name);
  }

  /** Recomputes the trait for every live person (also what create and redefine start). */
  recompute(trait: ComputedTrait): Promise<void> {
    return this.#schedule(trait);
  }

  async resumeUnfinished(): Promise<void> {
    for (const trait of await this.#repository.listUnfinished()) void this.#schedule(trait);
  }

  idle(): Promise<void> {
    return this.#tasks.idle();
  }

  close(): Promise<void> {
    return this.#tasks.close();
  }

  #schedule(trait: ComputedTrait): Promise<void> {
    return this.#tasks.run(trait.id, () => this.#run(trait));
  }

  async #run(trait: ComputedTrait): Promise<void> {
    const { workspaceId, id, version, name } = trait;
    const check = checkComputedTraitDefinition(trait.definition);
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
      if (!check.ok) throw new Error(`stored definition is not valid: ${check.problems[0]?.message ?? ''}`);
      // Segments reading the trait must follow its new values (and, through `in segment`, the
      // segments reading those): the profiles whose value changed are evaluated again in real time.
      const dueOnChange = (await this.#segmentsUsing(workspaceId, name)).length > 0;
      const ranges = chunkRanges(await this.#repository.chunkBoundaries(workspaceId, this.#chunkSize));
      for (const range of ranges) {
        if (this.#tasks.closing) return;
        const ids = await this.#repository.livePersonIds(workspaceId, range);
        const events = await this.#repository.eventsOf(workspaceId, range, check.compiled.definition.event);
        const values = computeAll(check.compiled, ids, events, startedMs);
        if (
          !(await this.#repository.replaceValues(
            workspaceId,
            { id, name, version },
            range,
            values,
            startedMs,
            { dueOnChange },
          ))
        )
          return;
        progress = { ...progress, done: Math.min(total, progress.done + ids.length) };
        if (!(await this.#repository.setBackfill(workspaceId, id, version, progress))) return;
      }
      // Also evaluates the profiles made due above, so they are right before `ready`.
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
}

function computeAll(
  trait: CompiledComputedTrait,
  profileIds: readonly string[],
  events: ReadonlyMap<string, Parameters<typeof computeTraitValue>[1]>,
  nowMs: number,
): ComputedValue[] {
  const values: ComputedValue[] = [];
  for (const profileId of profileIds) {
    const timeline = events.get(profileId) ?? [];
    const value = computeTraitValue(trait, timeline, nowMs);
    if (value !== undefined) {
      values.push({ profileId, value, nextChangeMs: nextValueChangeAt(trait, timeline, nowMs) });
    }
  }
  return values;
}

function checked(problems: DefinitionProblem[], definition: unknown): CompiledComputedTrait {
  const check = checkComputedTraitDefinition(definition);
  const all = check.ok ? problems : [...problems, ...check.problems];
  if (all.length > 0 || !check.ok) {
    const [first] = all;
    const message = first === undefined ? 'the definition is not valid' : `${first.field}: ${first.message}`;
    throw new AppError('computed_trait.invalid_definition', message, {
      field: first?.field,
      problems: all,
    });
  }
  return check.compiled;
}
