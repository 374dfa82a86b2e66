/**
 * Conditions on personal traits (`traits.email ends_with "@acme.com"`, `group.name = "Acme"`)
 * cannot run in SQL: their values are sealed (pii-sealing.ts). Before a definition is compiled,
 * each such condition is decided here, with the in-memory evaluator's own comparison functions
 * over the opened values, and handed to the compiler as the ids of the profiles (or accounts)
 * where it holds. The rest of the definition still runs in SQL, so `and`/`or`/`not` combine
 * them exactly as the evaluator does.
 */
import type { Kysely } from 'kysely';
import type { PiiPolicy } from '../../governance/pii-masking.ts';
import type { Expression } from '../../segment-language/index.ts';
import { compareValue, existsValue, inValues } from '../../segments/compare-values.ts';
import { readPath } from '../../segments/json-path.ts';
import type { MatchQuery } from '../../segments/segments.port.ts';
import type { JsonValue } from '../../shared/json.ts';
import type { Database } from '../database-schema.ts';
import type { PiiSealing } from './pii-sealing.ts';

type Leaf = Extract<Expression, { kind: 'compare' | 'in' | 'exists' }>;
/** Profiles read per statement while deciding sealed conditions. */
const PAGE = 5_000;

/** Each sealed condition of the definition → the ids (persons for traits, accounts for group) where it holds. */
export async function decideSealedLeaves(
  db: Kysely<Database>,
  sealing: PiiSealing,
  workspaceId: string,
  definition: Expression,
  query: MatchQuery,
): Promise<Map<Expression, string[]>> {
  const out = new Map<Expression, string[]>();
  if (sealing.vault === undefined) return out;
  const policy = await sealing.policy(workspaceId);
  const leaves = { traits: [] as Leaf[], group: [] as Leaf[] };
  collect(definition, query, policy, leaves, []);
  for (const root of ['traits', 'group'] as const) {
    if (leaves[root].length === 0) continue;
    for (const leaf of leaves[root]) out.set(leaf, []);
    const names = new Set(leaves[root].map((leaf) => leaf.path.keys[0] as string));
    let after = root === 'traits' ? query.range?.afterId : undefined;
    for (;;) {
      let select = db
        .selectFrom('profiles')
        .select(['id', 'traits'])
        .where('workspace_id', '=', workspaceId)
        .where('kind', '=', root === 'traits' ? 'person' : 'account');
      if (root === 'traits') select = select.where('merged_into', 'is', null);
      if (after !== undefined) select = select.where('id', '>', after);
      if (root === 'traits' && query.range?.untilId !== undefined)
        select = select.where('id', '<=', query.range.untilId);
      const rows = await select.orderBy('id').limit(PAGE).execute();
      for (const row of rows) {
        const traits = openedTraits(sealing, row.traits, names);
        for (const leaf of leaves[root])
          if (holds(leaf, readPath(traits, leaf.path.keys))) out.get(leaf)?.push(row.id);
      }
      const last = rows.at(-1);
      if (last === undefined || rows.length < PAGE) break;
      after = last.id;
    }
  }
  return out;
}

function collect(
  node: Expression,
  query: MatchQuery,
  policy: PiiPolicy,
  into: { traits: Leaf[]; group: Leaf[] },
  inlining: string[],
): void {
  switch (node.kind) {
    case 'and':
    case 'or':
      for (const operand of node.operands) collect(operand, query, policy, into, inlining);
      return;
    case 'not':
      collect(node.operand, query, policy, into, inlining);
      return;
    case 'compare':
    case 'in':
    case 'exists': {
      const [name] = node.path.keys;
      if (name === undefined || !policy.isPiiTrait(name)) return;
      if (node.path.root === 'traits') into.traits.push(node);
      else if (node.path.root === 'group') into.group.push(node);
      return;
    }
    case 'in_segment': {
      if (query.references.kind !== 'inline' || inlining.includes(node.slug)) return;
      const referenced = query.references.definitions.get(node.slug);
      if (referenced !== undefined) collect(referenced, query, policy, into, [...inlining, node.slug]);
      return;
    }
    case 'did':
      return;
  }
}

function holds(leaf: Leaf, value: unknown): boolean {
  switch (leaf.kind) {
    case 'compare':
      return compareValue(value, leaf.op, leaf.value);
    case 'in':
      return inValues(value, leaf.values);
    case 'exists':
      return existsValue(value);
  }
}

/** The stored traits with the named ones opened (the others are not needed). */
function openedTraits(sealing: PiiSealing, text: string, names: ReadonlySet<string>): unknown {
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return parsed;
  const traits = parsed as Record<string, JsonValue>;
  for (const name of names)
    if (Object.hasOwn(traits, name))
      Object.defineProperty(traits, name, {
        value: sealing.open(traits[name] as JsonValue),
        enumerable: true,
        writable: true,
        configurable: true,
      });
  return traits;
}
