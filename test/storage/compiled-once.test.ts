import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { CompiledOnce } from '../../src/storage/kysely/compiled-once.ts';
import type { Database } from '../../src/storage/database-schema.ts';
import { createTestDatabase, postgresReachable } from '../support/postgres.ts';

// The hot read paths run queries compiled once (compiled-once.ts): each call must bind its own
// values in the places the builder put them, constants included, on both dialects.

const pgAvailable = await postgresReachable();

const upsert = (): CompiledOnce<{ readonly key: string; readonly value: string }, unknown> =>
  new CompiledOnce((db, param) =>
    db
      .insertInto('instance_state')
      .values({ key: param('key'), value: param('value') })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value: param('value') })),
  );
const valueOf = (): CompiledOnce<{ readonly key: string }, { value: string }> =>
  new CompiledOnce((db, param) =>
    db
      .selectFrom('instance_state')
      .select('value')
      .where('key', '=', param('key'))
      .where('value', '<>', 'hidden'),
  );

function suite(open: () => Promise<{ db: Kysely<Database>; close: () => Promise<void> }>): void {
  let db: Kysely<Database>;
  let close: () => Promise<void>;
  before(async () => {
    ({ db, close } = await open());
    await sql`create table instance_state (key text primary key, value text not null)`.execute(db);
  });
  after(() => close());

  it('binds each call’s values, a value named twice in both places, constants as built', async () => {
    const write = upsert();
    const read = valueOf();
    await write.run(db, { key: 'a', value: 'one' });
    await write.run(db, { key: 'b', value: 'two' });
    await write.run(db, { key: 'a', value: 'three' });
    await write.run(db, { key: 'c', value: 'hidden' });
    assert.deepEqual(await read.first(db, { key: 'a' }), { value: 'three' });
    assert.deepEqual(await read.rows(db, { key: 'b' }), [{ value: 'two' }]);
    // The constant of the builder ('hidden') still filters.
    assert.equal(await read.first(db, { key: 'c' }), undefined);
    assert.equal(await read.first(db, { key: 'missing' }), undefined);
  });

  it('runs inside a transaction of the same store, which rolls back with it', async () => {
    const write = upsert();
    const read = valueOf();
    await assert.rejects(
      db.transaction().execute(async (trx) => {
        await write.run(trx, { key: 'd', value: 'in a transaction' });
        assert.deepEqual(await read.first(trx, { key: 'd' }), { value: 'in a transaction' });
        throw new Error('roll back');
      }),
      /roll back/,
    );
    assert.equal(await read.first(db, { key: 'd' }), undefined);
  });

  it('refuses a name that is not bound as a value', async () => {
    const wrong = new CompiledOnce<{ readonly column: string }, unknown>((kdb, param) =>
      kdb.selectFrom('instance_state').select(sql.ref(param('column')).as('x')),
    );
    await assert.rejects(wrong.run(db, { column: 'value' }), /parameter "column" is not bound as a value/);
  });
}

describe('CompiledOnce on SQLite', () => {
  suite(async () => {
    const db = new Kysely<Database>({
      dialect: new SqliteDialect({ database: new BetterSqlite3(':memory:') }),
    });
    return { db, close: () => db.destroy() };
  });
});

describe('CompiledOnce on PostgreSQL', { skip: pgAvailable ? false : 'PostgreSQL is not reachable' }, () => {
  suite(async () => {
    const database = await createTestDatabase();
    const db = new Kysely<Database>({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: database.url, max: 2 }) }),
    });
    return {
      db,
      close: async () => {
        await db.destroy();
        await database.drop();
      },
    };
  });
});
