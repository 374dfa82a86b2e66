import { sql } from 'kysely';
import { resolveWindow, type DidNode, type Expression, type PathNode } from '../../segment-language/index.ts';
import { compareValue, inValues } from '../../segments/compare-values.ts';
import type { MatchQuery } from '../../segments/segments.port.ts';
import type { SqlDialectName } from '../sql-dialect.ts';
import { compileComparison, compileExists, compileIn, SQL_FALSE, truthy } from './compile-comparison.ts';
import { inIdList } from '../kysely/id-list.ts';
import { TRACK } from '../kysely/track-type.ts';
import { jsonFragments, type JsonFragments, type JsonRef, type Sql } from './json-fragments.ts';

export interface CompileOptions extends MatchQuery {
  readonly dialect: SqlDialectName;
  readonly workspaceId: string;
  /**
   * Conditions on sealed (personal) traits, decided outside SQL: the person ids (`traits.*`) or
   * account ids (`group.*`) where each holds (kysely/sealed-segment-leaves.ts).
   */
  readonly sealedLeaves?: ReadonlyMap<Expression, readonly string[]>;
}

/**
 * Compiles a validated definition to `SELECT p.id AS id FROM profiles p …`: the live person
 * profiles of the workspace (kind 'person', not merged) that are members at `nowMs`. Every value
 * from the definition is a bound parameter; aliases are generated here. The meaning is the
 * in-memory evaluator's (segments/evaluate-segment.ts); test/segments/conformance.test.ts checks
 * both on the same data.
 *
 * Shape: each `did`, computed trait, consent category and referenced membership becomes one
 * LEFT JOIN with at most one row per profile (`did` is a grouped count over the timeline), so
 * conditions combine freely under `and`/`or`/`not` and each engine can hash-join them;
 * `group.*` conditions are EXISTS over the profile's accounts.
 */
export function compileSegmentQuery(definition: Expression, options: CompileOptions): Sql {
  const compiler = new SegmentCompiler(options);
  const condition = compiler.condition(definition);
  const range = rangeFilter(sql`p.id`, options.range);
  const joins = compiler.joins.map((join) => sql` ${join}`);
  return sql`SELECT p.id AS id FROM profiles AS p${sql.join(joins, sql``)} WHERE p.workspace_id = ${options.workspaceId} AND p.kind = 'person' AND p.merged_into IS NULL${range} AND ${condition}`;
}

/** Terms joined flat at most this many at a time; longer lists nest in halves. */
const FLAT_TERMS = 8;

/**
 * `(t1 OP t2 OP …)` nested in balanced groups: engines parse a flat chain as a left-deep tree,
 * one level per term, and SQLite refuses a tree deeper than 1000 ("Expression tree is too
 * large"); a definition can hold thousands of terms within its source limit. Balanced, the
 * depth grows with log n. AND and OR are associative, so the grouping changes nothing else.
 */
function balanced(terms: readonly Sql[], op: 'AND' | 'OR'): Sql {
  if (terms.length <= FLAT_TERMS) return sql`(${sql.join(terms, op === 'AND' ? sql` AND ` : sql` OR `)})`;
  const half = Math.ceil(terms.length / 2);
  return sql`(${balanced(terms.slice(0, half), op)} ${sql.raw(op)} ${balanced(terms.slice(half), op)})`;
}

function rangeFilter(column: Sql, range: CompileOptions['range']): Sql {
  let out = sql``;
  if (range?.afterId !== undefined) out = sql`${out} AND ${column} > ${range.afterId}`;
  if (range?.untilId !== undefined) out = sql`${out} AND ${column} <= ${range.untilId}`;
  return out;
}

class SegmentCompiler {
  readonly joins: Sql[] = [];
  readonly #options: CompileOptions;
  readonly #f: JsonFragments;
  /** Join alias by what it reads, so a computed trait or `did` used twice is joined once. */
  readonly #aliases = new Map<string, string>();
  readonly #inlining: string[] = [];

  constructor(options: CompileOptions) {
    this.#options = options;
    this.#f = jsonFragments(options.dialect);
  }

  condition(node: Expression): Sql {
    const sealed = this.#options.sealedLeaves?.get(node);
    if (sealed !== undefined && (node.kind === 'compare' || node.kind === 'in' || node.kind === 'exists'))
      return this.#sealedLeaf(
        node.path,
        sealed,
        node.kind === 'compare'
          ? compareValue(undefined, node.op, node.value)
          : node.kind === 'in' && inValues(undefined, node.values),
      );
    switch (node.kind) {
      case 'and':
        return balanced(
          node.operands.map((operand) => this.condition(operand)),
          'AND',
        );
      case 'or':
        return balanced(
          node.operands.map((operand) => this.condition(operand)),
          'OR',
        );
      case 'not':
        return sql`(NOT ${this.condition(node.operand)})`;
      case 'compare':
        return this.#leaf(
          node.path,
          (ref) => compileComparison(this.#f, ref, node.op, node.value),
          (v) => compareValue(v, node.op, node.value),
        );
      case 'in':
        return this.#leaf(
          node.path,
          (ref) => compileIn(this.#f, ref, node.values),
          (v) => inValues(v, node.values),
        );
      case 'exists':
        return this.#leaf(
          node.path,
          (ref) => compileExists(this.#f, ref),
          () => false,
        );
      case 'did':
        return this.#did(node);
      case 'in_segment':
        return this.#inSegment(node.slug);
    }
  }

  /**
   * A condition on a profile path. `onMissing` is the evaluator's answer for a missing value; it
   * decides how a profile without any account answers a `group.*` condition.
   */
  #leaf(path: PathNode, compile: (ref: JsonRef) => Sql, onMissing: (value: undefined) => boolean): Sql {
    const f = this.#f;
    switch (path.root) {
      case 'traits':
        return truthy(compile({ doc: this.#traitsDocument(), keys: path.keys }));
      case 'computed': {
        const [name, ...rest] = path.keys;
        if (name === undefined) return SQL_FALSE;
        const alias = this.#join(
          `computed:${name}`,
          'c',
          (a) =>
            sql`LEFT JOIN computed_trait_values AS ${a} ON ${a}.workspace_id = p.workspace_id AND ${a}.profile_id = p.id AND ${a}.name = ${name}`,
        );
        return truthy(compile({ doc: f.document(sql`${alias}.value`), keys: rest }));
      }
      case 'consent': {
        const [category] = path.keys;
        if (category === undefined || path.keys.length !== 1)
          return truthy(compile({ doc: f.nullDocument, keys: [] }));
        const alias = this.#join(
          `consent:${category}`,
          'k',
          (a) =>
            sql`LEFT JOIN profile_consent AS ${a} ON ${a}.workspace_id = p.workspace_id AND ${a}.profile_id = p.id AND ${a}.category = ${category}`,
        );
        return truthy(compile({ doc: f.booleanDocument(sql`${alias}.granted`), keys: [] }));
      }
      case 'group': {
        const accounts = sql`FROM profile_groups AS g JOIN profiles AS a ON a.workspace_id = g.workspace_id AND a.id = g.account_id AND a.kind = 'account' WHERE g.workspace_id = p.workspace_id AND g.profile_id = p.id`;
        const account = compile({ doc: f.document(sql`a.traits`), keys: path.keys });
        const some = sql`EXISTS (SELECT 1 ${accounts} AND ${truthy(account)})`;
        return onMissing(undefined) ? sql`(NOT EXISTS (SELECT 1 ${accounts}) OR ${some})` : sql`(${some})`;
      }
      default:
        return truthy(compile({ doc: f.nullDocument, keys: [] }));
    }
  }

  /**
   * A condition decided outside SQL: membership of the profile (`traits.*`) or of one of its
   * accounts (`group.*`) in the ids where it holds. A profile without accounts answers what the
   * condition answers for a missing value (`onMissing`), as in the evaluator.
   */
  #sealedLeaf(path: PathNode, ids: readonly string[], onMissing: boolean): Sql {
    const dialect = this.#options.dialect;
    if (path.root === 'traits') return inIdList(dialect, sql`p.id`, ids);
    const accounts = sql`FROM profile_groups AS g JOIN profiles AS a ON a.workspace_id = g.workspace_id AND a.id = g.account_id AND a.kind = 'account' WHERE g.workspace_id = p.workspace_id AND g.profile_id = p.id`;
    const some = sql`EXISTS (SELECT 1 ${accounts} AND ${inIdList(dialect, sql`a.id`, ids)})`;
    return onMissing ? sql`(NOT EXISTS (SELECT 1 ${accounts}) OR ${some})` : sql`(${some})`;
  }

  /** The profile's traits, parsed once per row where the dialect needs it. */
  #traitsDocument(): Sql {
    const alias = sql.raw('pt');
    const join = this.#f.lateralDocument(sql`p.traits`, alias);
    if (join === null) return sql`p.traits`;
    if (!this.#aliases.has('traits')) {
      this.#aliases.set('traits', 'pt');
      this.joins.push(join);
    }
    return sql`${alias}.doc`;
  }

  #did(node: DidNode): Sql {
    const alias = this.#join(`did:${JSON.stringify(node)}`, 'd', (a) => {
      const window = resolveWindow(node.window, this.#options.nowMs);
      const payloadJoin = this.#f.lateralDocument(sql`e.payload`, sql.raw('ej'));
      const payload = payloadJoin === null ? sql`e.payload` : sql`ej.doc`;
      const from =
        node.where === null
          ? sql`profile_events AS pe`
          : sql`profile_events AS pe JOIN events AS e ON e.seq = pe.seq ${payloadJoin ?? sql``}`;
      let filter = sql`pe.workspace_id = ${this.#options.workspaceId} AND pe.event = ${node.event} AND pe.type = ${TRACK}`;
      if (window.fromMs !== null) filter = sql`${filter} AND pe.ts_ms >= ${this.#f.integer(window.fromMs)}`;
      if (window.toMs !== null) filter = sql`${filter} AND pe.ts_ms < ${this.#f.integer(window.toMs)}`;
      filter = sql`${filter}${rangeFilter(sql`pe.profile_id`, this.#options.range)}`;
      if (node.where !== null) filter = sql`${filter} AND ${this.#eventCondition(node.where, payload)}`;
      return sql`LEFT JOIN (SELECT pe.profile_id AS profile_id, COUNT(*) AS n FROM ${from} WHERE ${filter} GROUP BY pe.profile_id) AS ${a} ON ${a}.profile_id = p.id`;
    });
    const n = sql`coalesce(${alias}.n, 0)`;
    const expected = this.#f.integer(node.count.n);
    switch (node.count.op) {
      case 'at_least':
        return sql`(${n} >= ${expected})`;
      case 'at_most':
        return sql`(${n} <= ${expected})`;
      case 'exactly':
        return sql`(${n} = ${expected})`;
    }
  }

  /** A `where (…)` clause on the event's payload (`properties.*`, `context.*`). */
  #eventCondition(node: Expression, payload: Sql): Sql {
    const f = this.#f;
    const ref = (path: PathNode): JsonRef =>
      path.root === 'properties' || path.root === 'context'
        ? { doc: payload, keys: [path.root, ...path.keys] }
        : { doc: f.nullDocument, keys: [] };
    switch (node.kind) {
      case 'and':
        return balanced(
          node.operands.map((operand) => this.#eventCondition(operand, payload)),
          'AND',
        );
      case 'or':
        return balanced(
          node.operands.map((operand) => this.#eventCondition(operand, payload)),
          'OR',
        );
      case 'not':
        return sql`(NOT ${this.#eventCondition(node.operand, payload)})`;
      case 'compare':
        return truthy(compileComparison(f, ref(node.path), node.op, node.value));
      case 'in':
        return truthy(compileIn(f, ref(node.path), node.values));
      case 'exists':
        return truthy(compileExists(f, ref(node.path)));
      case 'did':
      case 'in_segment':
        return SQL_FALSE;
    }
  }

  #inSegment(slug: string): Sql {
    const references = this.#options.references;
    if (references.kind === 'membership') {
      const segmentId = references.segmentIds.get(slug);
      if (segmentId === undefined) return SQL_FALSE;
      const alias = this.#join(
        `segment:${segmentId}`,
        's',
        (a) =>
          sql`LEFT JOIN segment_memberships AS ${a} ON ${a}.workspace_id = p.workspace_id AND ${a}.segment_id = ${segmentId} AND ${a}.profile_id = p.id`,
      );
      return sql`(${alias}.profile_id IS NOT NULL)`;
    }
    const definition = references.definitions.get(slug);
    if (definition === undefined) return SQL_FALSE;
    // The validator refuses cycles; this guard keeps a hand-built set of definitions finite.
    if (this.#inlining.includes(slug)) throw new Error(`segment reference cycle through "${slug}"`);
    this.#inlining.push(slug);
    try {
      return this.condition(definition);
    } finally {
      this.#inlining.pop();
    }
  }

  /** Adds a join once per key; returns its alias (generated, never user text). */
  #join(key: string, prefix: string, build: (alias: Sql) => Sql): Sql {
    let name = this.#aliases.get(key);
    if (name === undefined) {
      name = `${prefix}${this.#aliases.size}`;
      this.#aliases.set(key, name);
      this.joins.push(build(sql.raw(name)));
    }
    return sql.raw(name);
  }
}
