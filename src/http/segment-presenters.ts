import { Type } from 'typebox';
import type { ComputedTrait } from '../computed-traits/computed-traits.port.ts';
import type { ValidationProblem } from '../segment-language/index.ts';
import type { BackfillProgress, Segment } from '../segments/segment-types.ts';
import { iso } from './schemas.ts';

/** Public shapes of segments and computed traits, with their TypeBox schemas. */
const BackfillSchema = Type.Object({
  status: Type.String(),
  total: Type.Integer(),
  done: Type.Integer(),
  startedAt: Type.Union([Type.String(), Type.Null()]),
  finishedAt: Type.Union([Type.String(), Type.Null()]),
  error: Type.Union([Type.String(), Type.Null()]),
});

const strings = Type.Array(Type.String());

export const SegmentSchema = Type.Object({
  id: Type.String(),
  slug: Type.String(),
  name: Type.String(),
  description: Type.String(),
  definition: Type.String(),
  size: Type.Integer(),
  status: Type.String(),
  backfill: BackfillSchema,
  dependencies: Type.Object({
    traitPaths: Type.Array(strings),
    groupTraitPaths: Type.Array(strings),
    computed: strings,
    consentCategories: strings,
    events: strings,
    segments: strings,
    hasTimeWindow: Type.Boolean(),
    hasRelativeWindow: Type.Boolean(),
  }),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});

export const WarningSchema = Type.Object({
  code: Type.String(),
  message: Type.String(),
  line: Type.Union([Type.Integer(), Type.Null()]),
  column: Type.Union([Type.Integer(), Type.Null()]),
});

export const ComputedTraitSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  definition: Type.Object({}, { additionalProperties: true }),
  status: Type.String(),
  backfill: BackfillSchema,
  createdAt: Type.String(),
  updatedAt: Type.String(),
});

const presentBackfill = (b: BackfillProgress) => ({
  status: b.status,
  total: b.total,
  done: b.done,
  startedAt: iso(b.startedMs),
  finishedAt: iso(b.finishedMs),
  error: b.error,
});

export const presentSegment = (s: Segment, size: number) => ({
  id: s.id,
  slug: s.slug,
  name: s.name,
  description: s.description,
  definition: s.definition,
  size,
  status: s.backfill.status,
  backfill: presentBackfill(s.backfill),
  dependencies: {
    traitPaths: s.dependencies.traitPaths.map((keys) => [...keys]),
    groupTraitPaths: s.dependencies.groupTraitPaths.map((keys) => [...keys]),
    computed: [...s.dependencies.computed],
    consentCategories: [...s.dependencies.consentCategories],
    events: [...s.dependencies.events],
    segments: [...s.dependencies.segments],
    hasTimeWindow: s.dependencies.hasTimeWindow,
    hasRelativeWindow: s.dependencies.hasRelativeWindow,
  },
  createdAt: new Date(s.createdMs).toISOString(),
  updatedAt: new Date(s.updatedMs).toISOString(),
});

export const presentWarning = (w: ValidationProblem) => ({
  code: w.code,
  message: w.message,
  line: w.line,
  column: w.column,
});

export const presentComputedTrait = (t: ComputedTrait) => ({
  id: t.id,
  name: t.name,
  definition: t.definition,
  status: t.backfill.status,
  backfill: presentBackfill(t.backfill),
  createdAt: new Date(t.createdMs).toISOString(),
  updatedAt: new Date(t.updatedMs).toISOString(),
});
