import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import type { CompiledQuery } from 'kysely';
import { Kysely, sql, SqliteDialect } from 'kysely';
import {
  insertRows,
  insertText,
  MAX_PARAMS,
  MAX_ROWS,
  type RowsInsert,
} from '../../src/storage/kysely/multi-row-insert.ts';

// The pipeline's hot multi-row writes bypass Kysely's insert builder (multi-row-insert.ts): the
// text must be the statement Kysely would have run, on both dialects, and a long list must be
// split under the parameter limit without losing or doubling a row. The profile state's
// conformance suite runs these writes on SQLite and PostgreSQL.

const SPEC: RowsInsert = {
  table: 'items',
  columns: ['ws', 'seq', 'owner', 'note'],
  conflict: { target: ['ws', 'seq'], update: ['owner'] },
};

describe('multi-row INSERT text', () => {
  it('SQLite: ? placeholders, ON CONFLICT … DO UPDATE from excluded', () => {
    assert.equal(
      insertText('sqlite', SPEC, 2),
      'insert into "items" ("ws", "seq", "owner", "note") values (?, ?, ?, ?), (?, ?, ?, ?) on conflict ("ws", "seq") do update set "owner" = excluded."owner"',
    );
  });

  it('PostgreSQL: numbered placeholders across rows', () => {
    assert.equal(
      insertText('postgres', { table: 'items', columns: ['a', 'b'], conflict: { update: [] } }, 2),
      'insert into "items" ("a", "b") values ($1, $2), ($3, $4) on conflict do nothing',
    );
    assert.equal(
      insertText('postgres', { table: 'items', columns: ['a'] }, 1),
      'insert into "items" ("a") values ($1)',
    );
  });
});

describe('insertRows on SQLite', () => {
  const db = new Kysely<Record<string, never>>({
    dialect: new SqliteDialect({ database: new BetterSqlite3(':memory:') }),
  });
  after(() => db.destroy());

  it('writes every row once, split under the parameter limit, and upserts on conflict', async () => {
    await sql`create table items (ws text not null, seq integer not null, owner text, note text, primary key (ws, seq))`.execute(
      db,
    );
    const perStatement = Math.min(MAX_ROWS, Math.floor(MAX_PARAMS / SPEC.columns.length));
    const count = perStatement * 2 + 4; // three statements; the last seq odd (it has a note)
    const items = Array.from({ length: count }, (_, i) => i);
    const statements: number[] = [];
    const counting = {
      executeQuery: <R>(query: CompiledQuery<R>) => {
        statements.push(query.parameters.length / SPEC.columns.length);
        return db.executeQuery(query);
      },
    };
    await insertRows(counting, 'sqlite', SPEC, items, (i) => ['w', i, `o${i}`, i % 2 === 0 ? null : 'n']);
    assert.deepEqual(statements, [perStatement, perStatement, 4], 'rows per statement');
    const total = await sql<{ n: number }>`select count(*) as n, count(note) as notes from items`.execute(db);
    assert.equal(total.rows[0]?.n, count);
    // Again with other owners and notes: owners replaced, notes kept (not in the update list).
    await insertRows(db, 'sqlite', SPEC, [0, 1, count - 1], (i) => ['w', i, `new${i}`, 'changed']);
    const rows = await sql<{ seq: number; owner: string; note: string | null }>`
      select seq, owner, note from items where seq in (0, 1, ${count - 1}) order by seq`.execute(db);
    assert.deepEqual(rows.rows, [
      { seq: 0, owner: 'new0', note: null },
      { seq: 1, owner: 'new1', note: 'n' },
      { seq: count - 1, owner: `new${count - 1}`, note: 'n' },
    ]);
    const again = await sql<{ n: number }>`select count(*) as n from items`.execute(db);
    assert.equal(again.rows[0]?.n, count);
  });

  it('refuses a row with the wrong number of values, before writing anything of its statement', async () => {
    await sql`create table pairs (a integer primary key, b text)`.execute(db);
    const spec: RowsInsert = { table: 'pairs', columns: ['a', 'b'] };
    await assert.rejects(
      insertRows(db, 'sqlite', spec, [1, 2], (i) => (i === 2 ? [i] : [i, 'x'])),
      /pairs: 1 values for 2 columns/,
    );
    const count = await sql<{ n: number }>`select count(*) as n from pairs`.execute(db);
    assert.equal(count.rows[0]?.n, 0);
  });
});
