/**
 * Multi-row INSERT … ON CONFLICT for the pipeline's hot writes, as SQL text and a flat parameter
 * list instead of Kysely's insert builder. With thousands of rows per statement the builder's
 * per-value nodes (parsed, frozen, then compiled back to text) took ~6 % of the profiles stage's
 * thread at 10,000 people; the text here depends only on the table and the row count, so it is
 * built once per shape. Same SQL on both dialects but for the placeholders (`?` / `$n`).
 */
import { CompiledQuery, type QueryResult } from 'kysely';
import type { SqlDialectName } from '../sql-dialect.ts';

/** A Kysely instance or transaction, whatever its schema type. */
export interface QueryRunner {
  executeQuery<R>(query: CompiledQuery<R>): Promise<QueryResult<R>>;
}

/** One table's insert; specs are long-lived constants (their texts are kept per spec). */
export interface RowsInsert {
  readonly table: string;
  readonly columns: readonly string[];
  /** `update` empty: DO NOTHING (on any conflict when `target` is absent). */
  readonly conflict?: { readonly target?: readonly string[]; readonly update: readonly string[] };
}

/** Bound parameters per statement, under SQLite's 32,766 and PostgreSQL's 65,535. */
export const MAX_PARAMS = 30_000;

/**
 * Rows per statement at most. On SQLite a statement runs on the event loop in one piece (a
 * transaction gives the thread away only between statements: sqlite/transaction-slices.ts), and
 * 5,000 timeline rows took ~90 ms, which every request arriving meanwhile waited for.
 */
export const MAX_ROWS = 500;

/** Texts kept per spec (by dialect and row count); a batch's row counts vary, so bounded. */
const MAX_TEXTS_PER_SPEC = 64;
const texts = new WeakMap<RowsInsert, Map<string, string>>();

const quote = (name: string): string => `"${name.replaceAll('"', '""')}"`;

function conflictClause(spec: RowsInsert): string {
  const { conflict } = spec;
  if (!conflict) return '';
  const target = conflict.target ? ` (${conflict.target.map(quote).join(', ')})` : '';
  if (conflict.update.length === 0) return ` on conflict${target} do nothing`;
  const set = conflict.update.map((c) => `${quote(c)} = excluded.${quote(c)}`).join(', ');
  return ` on conflict${target} do update set ${set}`;
}

export function insertText(dialect: SqlDialectName, spec: RowsInsert, rowCount: number): string {
  let known = texts.get(spec);
  if (known === undefined) texts.set(spec, (known = new Map()));
  const key = `${dialect}:${rowCount}`;
  const cached = known.get(key);
  if (cached !== undefined) return cached;
  const width = spec.columns.length;
  let values: string;
  if (dialect === 'sqlite') {
    values = new Array<string>(rowCount)
      .fill(`(${new Array<string>(width).fill('?').join(', ')})`)
      .join(', ');
  } else {
    const rows: string[] = [];
    for (let r = 0; r < rowCount; r++) {
      const cells: string[] = [];
      for (let c = 1; c <= width; c++) cells.push(`$${r * width + c}`);
      rows.push(`(${cells.join(', ')})`);
    }
    values = rows.join(', ');
  }
  const text = `insert into ${quote(spec.table)} (${spec.columns.map(quote).join(', ')}) values ${values}${conflictClause(spec)}`;
  if (known.size >= MAX_TEXTS_PER_SPEC) known.clear();
  known.set(key, text);
  return text;
}

/**
 * Inserts `rows` (each a value per column, in `spec.columns` order) in as few statements as the
 * parameter limit allows, `row` turning each item into its values.
 */
export async function insertRows<T>(
  db: QueryRunner,
  dialect: SqlDialectName,
  spec: RowsInsert,
  items: readonly T[],
  row: (item: T) => readonly unknown[],
): Promise<void> {
  const width = spec.columns.length;
  const perStatement = Math.max(1, Math.min(MAX_ROWS, Math.floor(MAX_PARAMS / width)));
  for (let start = 0; start < items.length; start += perStatement) {
    const end = Math.min(items.length, start + perStatement);
    const params: unknown[] = [];
    for (let i = start; i < end; i++) {
      const values = row(items[i] as T);
      if (values.length !== width)
        throw new Error(`${spec.table}: ${values.length} values for ${width} columns`);
      for (const value of values) params.push(value);
    }
    await db.executeQuery(CompiledQuery.raw(insertText(dialect, spec, end - start), params));
  }
}
